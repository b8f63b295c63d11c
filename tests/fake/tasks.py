"""The task APIs' shared state: tasks that advance one state per poll, never by time.

Four of DeerAPI's image services answer a submit with a task id and are polled until a terminal
state (research/model-families.md §1 "Cross-cutting facts" 1, and §6 item 8's table):

=========  ==========  =====================================================
API        success     failure
=========  ==========  =====================================================
FLUX/BFL   ``Ready``   ``Error``, ``Failed``, ``*Moderated``, "Task not found"
Replicate  succeeded   failed, canceled
MJ         SUCCESS     FAILURE
Kling      succeed     failed
=========  ==========  =====================================================

The routes (routes/flux.py §2.4, routes/replicate.py §2.4 path B and §2.13,
routes/midjourney.py §2.8, routes/kling.py §2.9) keep their tasks in one TaskBook. Every task
moves on one state per poll, so a test knows what each poll answers: with ``polls`` N (2 unless
``FakeDeerAPI.task_polls`` says otherwise) polls 1..N are not terminal (the first "queued" when
N >= 2, the others "running" with progress ``100 * (poll - 1) // N`` percent) and poll N + 1
ends the task, as ``outcome`` says ("ok" or one of the route's OUTCOMES). A task ended stays
so. Not in the sources, so chosen here: this pacing, the ids' forms, the images (SIDE pixels on
the long side), and that the outcome is fixed when the task is submitted.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fake.faults import Fault
from tests.fake.images import normalize_format, sniff_format
from tests.fake.routes.images import fault_first, image_of, url_of
from tests.fake.server import Context, Exchange

OUTCOMES: dict[str, tuple[str, ...]] = {
    "flux": ("Error", "Failed", "Content Moderated", "Request Moderated"),
    "replicate": ("failed", "canceled"),
    "midjourney": ("FAILURE",),
    "kling": ("failed",),
}  # the failures each route's tasks may end with; "ok" is success everywhere
ROUTES = tuple(OUTCOMES)
POLL_ROUTES = tuple(f"{route}-poll" for route in ROUTES)  # fault routes of the polls
DEFAULT_POLLS = 2
MJ_CODES = (1, 21, 22, 23, 24, 4)
SIDE = 64  # the long side of every task image, in pixels: small


@dataclass
class Task:
    """One submitted task; the routes change it only through TaskBook, under its lock."""

    route: str  # "flux", "replicate", "midjourney" or "kling"
    id: str
    body: Any  # the submit's JSON body
    model: str
    polls_needed: int
    outcome: str  # "ok" or one of OUTCOMES[route]
    created: float  # time.time() of the submit
    polls: int = 0  # polls seen
    started: float | None = None  # time.time() of the first poll that found it running
    ended: float | None = None
    urls: list[str] = field(default_factory=list)  # the result's links, once ended well
    images: list[bytes] = field(default_factory=list)  # the bytes behind them
    extra: dict[str, Any] = field(default_factory=dict)  # the route's own (mj: action, parent)

    @property
    def phase(self) -> str:
        """ "submitted" before any poll, then "queued", "running", "ended"."""
        if self.polls == 0:
            return "submitted"
        if self.polls > self.polls_needed:
            return "ended"
        return "queued" if self.polls == 1 and self.polls_needed >= 2 else "running"

    @property
    def progress(self) -> int:
        """Percent done: 100 once ended."""
        if self.polls > self.polls_needed:
            return 100
        return 100 * max(self.polls - 1, 0) // max(self.polls_needed, 1)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class TaskBook:
    """Every task submitted since the last clear(), and the knobs for the next ones."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0  # never reset: a stale id never finds a new task
        self.clear()

    def clear(self) -> None:
        """Forget tasks and put every knob back to its default."""
        with self._lock:
            self._tasks: dict[str, Task] = {}
            self._polls = DEFAULT_POLLS
            self._outcomes: list[tuple[str, str | None, str]] = []
            self._mj_codes: list[int] = []
            self.replicate_output: str | None = None  # "list", "string"; None: by model

    # -- scripting -----------------------------------------------------------------------------

    def set_polls(self, polls: int) -> None:
        if polls < 0:
            raise ValueError("polls must be 0 or more")
        with self._lock:
            self._polls = polls

    def set_outcome(self, route: str, outcome: str, match: str | None) -> None:
        if route not in OUTCOMES:
            raise ValueError(f"route must be one of {list(ROUTES)}")
        if outcome != "ok" and outcome not in OUTCOMES[route]:
            raise ValueError(f"outcome of {route} must be 'ok' or one of {list(OUTCOMES[route])}")
        with self._lock:
            self._outcomes.append((route, match, outcome))

    def queue_mj_codes(self, codes: tuple[int, ...]) -> None:
        unknown = [code for code in codes if code not in MJ_CODES]
        if unknown:
            raise ValueError(f"Midjourney submit codes are {list(MJ_CODES)}, not {unknown}")
        with self._lock:
            self._mj_codes.extend(codes)

    def next_mj_code(self) -> int:
        """The code the next Midjourney submit answers with (1 unless one was queued)."""
        with self._lock:
            return self._mj_codes.pop(0) if self._mj_codes else 1

    # -- what the routes do --------------------------------------------------------------------

    def submit(self, route: str, body: Any, model: str, prompt: str, /, **extra: Any) -> Task:
        """A new task of ROUTE, ending as the last matching set_outcome said (else "ok")."""
        with self._lock:
            self._counter += 1
            outcome = "ok"
            for known, match, chosen in self._outcomes:
                if known == route and (match is None or match in prompt):
                    outcome = chosen
            task = Task(route, new_id(route, self._counter), copy.deepcopy(body), model,
                        self._polls, outcome, time.time(), extra=extra)  # fmt: skip
            self._tasks[task.id] = task
            return copy.deepcopy(task)

    def poll(self, route: str, task_id: str, finish: Callable[[Task], None]) -> Task | None:
        """ROUTE's task TASK_ID one poll further, or None; FINISH makes its result on the poll
        that ends it well (urls, images), once. The answer is a snapshot: render it freely."""
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None or task.route != route:
                return None
            task.polls += 1
            if task.phase == "running" and task.started is None:
                task.started = time.time()
            if task.phase == "ended" and task.ended is None:
                task.started = task.started or time.time()
                task.ended = time.time()
                if task.ok:
                    finish(task)
            return copy.deepcopy(task)

    def get(self, task_id: str) -> Task | None:
        """A snapshot of a task, without counting a poll."""
        with self._lock:
            task = self._tasks.get(task_id)
            return copy.deepcopy(task)

    @property
    def tasks(self) -> list[Task]:
        """Snapshots of every task, in submit order."""
        with self._lock:
            return copy.deepcopy(list(self._tasks.values()))


def new_id(route: str, counter: int) -> str:
    """A task id in the form ROUTE's API uses: a UUID (BFL), 26 base32 letters (Replicate),
    16 digits (midjourney-proxy), 18 digits (Kling)."""
    if route == "flux":
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-bfl-{counter}"))
    if route == "replicate":
        digest = hashlib.sha1(f"fake-replicate-{counter}".encode()).digest()  # noqa: S324
        return base64.b32encode(digest).decode().lower()[:26]
    if route == "midjourney":
        return str(1730000000000000 + counter)
    return str(860000000000000000 + counter)


def answer_fault(exchange: Exchange, route: str, prompt: Any = None) -> Fault | None:
    """The fault ROUTE's request takes (fault_first's; PROMPT, if a string, for the prompt
    faults), or None once the fault answered instead."""
    fault = fault_first(exchange, route, prompt if isinstance(prompt, str) else None)
    return None if exchange.answer_fault(fault) else fault


def dig(value: Any, *keys: str) -> Any:
    """VALUE[key][key]… through dicts only, or None."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def send(exchange: Exchange, status: int, payload: Any, fault: Fault) -> None:
    """Answer PAYLOAD as JSON, with FAULT's headers and delivery."""
    exchange.send_json(status, payload, fault.response_headers(), fault=fault)


def answer_poll(
    exchange: Exchange,
    route: str,
    task_id: str,
    view: Callable[[Task], Any],
    missing: tuple[int, Any],
    finish: Callable[[Context, Task, Fault], None] | None = None,
) -> None:
    """Answer a poll of ROUTE's task TASK_ID, after the faults of "<route>-poll": VIEW of the
    task one state further, or MISSING (status, body) for an id unknown. FINISH makes the result
    on the poll that ends the task well (make_results unless given)."""
    fault = answer_fault(exchange, f"{route}-poll")
    if fault is None:
        return
    context, finish = exchange.context, finish or make_results
    task = context.taskbook.poll(route, task_id, lambda task: finish(context, task, fault))
    send(exchange, *((200, view(task)) if task else missing), fault)


def ratio_size(ratio: Any, default: tuple[int, int] = (1, 1)) -> tuple[int, int]:
    """The pixel size of a task image in RATIO ("W:H", or a (W, H) pair): SIDE on the long side."""
    width, height = parse_ratio(ratio) or default
    if width >= height:
        return SIDE, max(1, round(SIDE * height / width))
    return max(1, round(SIDE * width / height)), SIDE


def parse_ratio(ratio: Any) -> tuple[int, int] | None:
    """(W, H) of "W:H" or of a pair of positive ints; None for anything else."""
    if isinstance(ratio, tuple):
        width, height = ratio
    elif isinstance(ratio, str) and ratio.count(":") == 1:
        left, right = ratio.split(":")
        if not (left.isdigit() and right.isdigit()):
            return None
        width, height = int(left), int(right)
    else:
        return None
    return (width, height) if width > 0 and height > 0 else None


def decoded_image(text: str, *, data_url: bool) -> bytes | None:
    """The image bytes of base64 TEXT (with DATA_URL, "data:image/…;base64," first), or None if
    it is no base64 of an image."""
    if data_url:
        head, comma, text = text.partition(",")
        if not comma or not head.startswith("data:image/") or not head.endswith(";base64"):
            return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if sniff_format(data) else None


def is_url(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(("http://", "https://"))


def iso(moment: float | None) -> str | None:
    """MOMENT (Unix seconds) as ISO 8601 in UTC with microseconds, or None."""
    if moment is None:
        return None
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 1e6):06d}Z"
    )


def make_results(context: Context, task: Task, fault: Fault) -> None:
    """TASK's images as links on the files server, as its submit asked (``extra``: ``fmt``,
    ``size``, ``count``, ``signing`` for FileStore.put) and the ending poll's FAULT bends them
    (url_status, redirect_url, not_image, wrong_format, c2pa; ``images``: that many)."""
    fmt, size, count = task.extra["fmt"], task.extra["size"], task.extra.get("count", 1)
    data, _ = image_of(context, normalize_format(fault.wrong_format or fmt), *size, fault)
    for _ in range(count if fault.images is None else fault.images):
        task.urls.append(url_of(context, fmt, data, fault, **task.extra.get("signing", {})))
        task.images.append(data)
