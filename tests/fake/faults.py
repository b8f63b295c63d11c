"""Scripted faults: a frozen Fault per answer, and the FaultPlan that picks one for each request."""

from __future__ import annotations

import enum
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

from tests.fake import gemini
from tests.fake.schema import error_body

# The task APIs' submits (tests/fake/tasks.py), and their polls as "<route>-poll".
TASK_ROUTES = frozenset({"flux", "replicate", "midjourney", "kling"})
ROUTES = frozenset(
    {"generations", "edits", "models", "gemini", *TASK_ROUTES, *(f"{r}-poll" for r in TASK_ROUTES)}
)
# What reject_prompts and fail_randomly apply to (gemini: POST /v1beta/models/M:generateContent;
# the task APIs' submits, not their polls)
IMAGE_ROUTES = frozenset({"generations", "edits", "gemini", *TASK_ROUTES})


class Default(enum.Enum):
    """The type of DEFAULT."""

    DEFAULT = "default"


DEFAULT = Default.DEFAULT  # a field left alone: the answer keeps its usual value


@dataclass(frozen=True)
class Fault:
    """One way an answer goes wrong; ``Fault()`` is a normal answer.

    An unknown keyword is a TypeError, as for any dataclass. ``Fault.of(mapping)``, which
    FakeDeerAPI's ``queue`` and ``always`` use, raises ValueError("unknown fault keys: [...]").
    """

    # "generations", "edits", "models", "gemini", a task API's submits ("flux", "replicate",
    # "midjourney", "kling") or polls ("flux-poll", …): only that route takes it (None: any)
    route: str | None = None
    # -- instead of the answer
    delay: float = 0.0  # seconds to wait first (stop() cuts it short)
    drop: bool = False  # close the connection without answering
    status: int | None = None  # an OpenAI-style error with this status (or body's status)
    message: str | None = None  # the error object's fields; None: the status's defaults
    code: str | None = None
    type: str | None = None
    param: str | None = None
    body: str | bytes | None = None  # this body, as is (status 200 unless given)
    content_type: str | None = None  # of body; None: text/html; charset=utf-8
    # -- on any answer
    retry_after: str | int | None = None  # the Retry-After header, as is ("-inf", a date, …)
    retry_after_ms: str | int | None = None  # the retry-after-ms header
    headers: Mapping[str, str] | None = None  # more headers
    truncate: bool = False  # send half the body, then close the connection
    stall: float = 0.0  # send half the body, wait this long (truncate: then close), then the rest
    trickle: float = 0.0  # send the body trickle_bytes at a time, this many seconds apart
    trickle_bytes: int = 1
    reason: str | None = None  # the status line's reason phrase; None: the status's usual one
    request_id: str | None = None  # the answer's x-request-id; None: the fake's own (req_N)
    # -- a 200 from the images routes that is not what was asked for
    error_200: bool = False  # an error object (message, code, type) with status 200
    no_data: bool = False  # no "data" field
    empty_data: bool = False  # "data": []
    invalid_b64: bool = False  # b64_json that is not base64
    not_image: bool = False  # bytes that are no image
    wrong_format: str | None = None  # the image in this format, whatever was asked for
    images: int | None = None  # this many images, whatever was asked for (Seedream's "up to")
    c2pa: bool = False  # a PNG carrying a (dummy) C2PA manifest chunk
    url_status: int | None = None  # answer with URLs; the files server answers them this status
    redirect_url: bool = False  # URLs on the API's origin, redirecting to the files server
    revised_prompt: str | Default | None = DEFAULT  # None: no revised_prompt field
    usage: dict[str, Any] | Default | None = DEFAULT  # None: no usage field
    # -- a streamed answer (`"stream": true`, tests/fake/streaming.py)
    ignore_stream: bool = False  # a relay that drops `stream`: plain JSON
    stream_end: str | None = None  # "early": ends before completed; "cut": dropped there; "error"
    stream_partials: int | None = None  # this many partials, whatever was asked for
    stream_unnamed: bool = False  # no `event:` lines, and a closing `data: [DONE]`
    stream_gap: float = 0.0  # seconds between events
    # -- the gemini route: this answer's shape (gemini.VARIANTS; None: the plan's gemini_answer)
    gemini_answer: str | None = None

    def __post_init__(self) -> None:
        if self.route not in (None, *ROUTES):
            raise ValueError(f"route must be one of {sorted(ROUTES)}")
        if self.stream_end not in (None, "early", "cut", "error"):
            raise ValueError("stream_end must be early, cut or error")
        if self.gemini_answer not in (None, *gemini.VARIANTS):
            raise ValueError(f"gemini_answer must be one of {list(gemini.VARIANTS)}")

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> Fault:
        """The fault a mapping of field names describes (ValueError for an unknown key)."""
        unknown = set(mapping) - FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        return cls(**mapping)

    def response_headers(self) -> dict[str, str]:
        """The headers this fault adds to the answer, whatever the answer is."""
        headers = {str(k): str(v) for k, v in (self.headers or {}).items()}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.retry_after_ms is not None:
            headers["retry-after-ms"] = str(self.retry_after_ms)
        return headers

    def replaced_answer(self) -> tuple[int, bytes, str] | None:
        """(status, body, content type) answered instead of the route's own answer, or None."""
        if self.body is not None:
            body = self.body.encode() if isinstance(self.body, str) else bytes(self.body)
            return int(self.status or 200), body, self.content_type or "text/html; charset=utf-8"
        if self.status is not None:
            status = int(self.status)
            payload = error_body(
                status, self.message, code=self.code, error_type=self.type, param=self.param
            )
            return status, json.dumps(payload).encode(), "application/json"
        return None


FAULT_KEYS = frozenset(field.name for field in fields(Fault))
NO_FAULT = Fault()


def random_failure(rate: float, seed: int, prompt: str | None, sending: int) -> bool:
    """Whether fail_randomly fails the SENDING-th (0-based) sending of PROMPT: a draw of its own."""
    return random.Random(f"{seed}\x00{prompt}\x00{sending}").random() < rate


class FaultPlan:
    """Which fault each request takes, and when answers are held; safe from every thread.

    Tests script it through FakeDeerAPI (queue, always, reject_prompts, fail_randomly, gather,
    gemini_answer).
    The routes ask it: ``pick`` a fault, count themselves ``answering``, wait until
    ``gathered``, and ``wait`` out a latency that ``stop`` cuts short.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when an answer starts
        self._stopping = threading.Event()
        self._in_flight = 0
        self.clear()

    def clear(self) -> None:
        """Forget faults, gathering, the Gemini answer shape, max_in_flight (not answers going)."""
        with self._lock:
            self._queue: list[Fault] = []
            self._always: Fault | None = None
            self._rejections: list[tuple[str, Fault]] = []
            self._random: tuple[float, int, int] | None = None
            self._sent: Counter[str | None] = Counter()  # sendings per prompt, for fail_randomly
            self._max_in_flight = 0
            self._gather: tuple[int, float] | None = None
            self._gemini_answer = gemini.DEFAULT_VARIANT

    @property
    def gemini_answer(self) -> str:
        """The shape of the gemini route's answers that no fault shapes (gemini.VARIANTS)."""
        with self._lock:
            return self._gemini_answer

    @gemini_answer.setter
    def gemini_answer(self, variant: str) -> None:
        if variant not in gemini.VARIANTS:
            raise ValueError(f"unknown Gemini answer {variant!r}: one of {list(gemini.VARIANTS)}")
        with self._lock:
            self._gemini_answer = variant

    # -- scripting -----------------------------------------------------------------------------

    def queue(self, *faults: Fault) -> None:
        """Faults for the next requests, one each, in order (a routed one waits for its route)."""
        with self._lock:
            self._queue.extend(faults)

    def always(self, fault: Fault) -> None:
        """A fault for every request (of its route) that nothing before it took."""
        with self._lock:
            self._always = fault

    def reject(self, substring: str, fault: Fault) -> None:
        """FAULT for every generation or edit whose prompt contains SUBSTRING."""
        with self._lock:
            self._rejections.append((substring, fault))

    def fail_randomly(self, rate: float, seed: int, status: int) -> None:
        """STATUS for each generation or edit that random_failure draws, retry-after-ms 1."""
        with self._lock:
            self._random = (rate, seed, status)
            self._sent.clear()

    def gather(self, count: int, timeout: float) -> None:
        """Hold answers until COUNT are in flight at once (or TIMEOUT passed), once."""
        with self._lock:
            self._gather = (count, timeout)

    # -- what the routes ask -------------------------------------------------------------------

    def pick(self, route: str, prompt: str | None) -> Fault:
        """The fault for this request: a rejected prompt, a random failure, the queue, always."""
        with self._lock:  # the first that applies wins
            if route in IMAGE_ROUTES:
                for substring, fault in self._rejections:
                    if prompt is not None and substring in prompt:
                        return fault
                if self._random is not None:
                    rate, seed, status = self._random
                    sending = self._sent[prompt]
                    self._sent[prompt] += 1
                    if random_failure(rate, seed, prompt, sending):
                        return Fault(status=status, retry_after_ms="1")
            for index, fault in enumerate(self._queue):
                if fault.route in (None, route):
                    del self._queue[index]
                    return fault
            if self._always is not None and self._always.route in (None, route):
                return self._always
        return NO_FAULT

    @contextmanager
    def answering(self) -> Iterator[Callable[[], None]]:
        """Count one answer in flight; the callable it gives ends the count early, once.

        A client may send its next request as soon as it has read an answer, before this
        server's thread is done writing it: the count ends when the answer starts.
        """
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            self._changed.notify_all()
        counted = [True]

        def done() -> None:
            with self._lock:
                if counted[0]:
                    counted[0] = False
                    self._in_flight -= 1

        try:
            yield done
        finally:
            done()

    def gathered(self) -> None:
        """Return once the gathering asked for (if any) is complete, timed out or stopped."""
        with self._changed:
            if self._gather is None:
                return
            count, timeout = self._gather
            self._changed.wait_for(
                lambda: self._gather is None or self._in_flight >= count or self._stopping.is_set(),
                timeout,
            )
            self._gather = None

    def wait(self, seconds: float) -> bool:
        """Sleep SECONDS; True if stop() cut the sleep short."""
        return seconds > 0 and self._stopping.wait(seconds)

    @property
    def in_flight(self) -> int:
        """How many answers are being made now."""
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most answers that were being made at the same moment."""
        with self._lock:
            return self._max_in_flight

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Let waits and gatherings run their course again."""
        self._stopping.clear()

    def stop(self) -> None:
        """Cut every wait and gathering short, now and until start()."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
