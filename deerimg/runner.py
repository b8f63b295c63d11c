"""Run the planned jobs: one shared client, -j worker threads, a shared 429 pause, fail-fast."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence, Set
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deerimg import answers, history, images, provenance, writer
from deerimg.client import ApiClient, ApiResult, Cancelled, Retrying
from deerimg.errors import DeerimgError, ExitCode
from deerimg.inputs import InputImage
from deerimg.paths import Target, extra_name, final_paths
from deerimg.prompts import Job
from deerimg.settings import Settings


# Records here and elsewhere are not frozen: frozen=True costs 0.2 ms a class at every start, 6 ms
# over deerimg's 27 (issue 10). Nothing assigns to them after they are made.
@dataclass(slots=True)
class Task:
    """One prompt, ready to send: its body and where each of its images goes."""

    number: int  # 1-based position in the run
    job: Job
    body: dict[str, Any]
    targets: tuple[Target, ...]
    force: bool = False  # --force: explicit targets may be replaced
    endpoint: str = "generations"  # or "edits"
    files: tuple[tuple[str, InputImage], ...] = ()  # multipart uploads of an edit


@dataclass(slots=True)
class Policy:
    """How a run behaves beyond sending: stopping, provenance, the history ledger."""

    command: str = "generate"
    fail_fast: bool = False
    metadata: bool = True  # embed provenance (XMP), or a sidecar where embedding can't be done
    sidecar: bool = False  # always write FILE.json as well
    history: bool = True
    # Every path the run's prompts may end at, skipped ones too: an image beyond those asked for
    # is kept under none of them, or a --skip-existing re-run would take it for that prompt's.
    planned: frozenset[Path] = frozenset()


@dataclass(slots=True)
class Started:
    task: Task


@dataclass(slots=True)
class RetryEvent:
    task: Task
    retry: Retrying


@dataclass(slots=True)
class Saved:
    task: Task
    path: Path | None  # None: standard output
    size: int
    fmt: str
    pixels: tuple[int, int] | None
    revised_prompt: str | None
    result: ApiResult
    first: bool  # the first image of its request: usage is counted once per request
    warning: str | None = None
    provenance: str | None = None  # "embedded", "sidecar" or None
    c2pa: bool = False  # signed content credentials: the bytes were left exactly as sent


@dataclass(slots=True)
class Failed:
    task: Task
    error: DeerimgError


@dataclass(slots=True)
class NotRun:
    """A prompt the run stopped before (Ctrl-C, --fail-fast, a refused key): --json tells it."""

    task: Task
    reason: str


@dataclass(slots=True)
class Note:
    """Something a person should know once, such as a history ledger that cannot be written."""

    text: str


Event = Started | RetryEvent | Saved | Failed | NotRun | Note


@dataclass(slots=True)
class Summary:
    prompts: int = 0
    images: int = 0
    failed: int = 0
    skipped: int = 0
    not_run: int = 0
    finished: int = 0  # prompts whose every image was saved
    tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0, "total": 0})
    elapsed: float = 0.0
    interrupted: bool = False
    fatal: DeerimgError | None = None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.fatal is not None:
            return self.fatal.exit_code
        return ExitCode.FAILURE if self.failed or self.not_run else ExitCode.OK

    def add_usage(self, usage: dict[str, Any] | None) -> None:
        for key, name in (("input", "input_tokens"), ("output", "output_tokens")):
            self.tokens[key] += _int(usage, name)
        self.tokens["total"] += _int(usage, "total_tokens") or (
            _int(usage, "input_tokens") + _int(usage, "output_tokens")
        )


def _int(usage: dict[str, Any] | None, key: str) -> int:
    value = (usage or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def run(
    tasks: Sequence[Task],
    settings: Settings,
    emit: Callable[[Event], None],
    *,
    policy: Policy | None = None,
    skipped: int = 0,
) -> Summary:
    """Send every task, -j at a time; every prompt is tried unless fail-fast or a 401/403."""
    policy = policy or Policy()
    fail_fast = policy.fail_fast
    summary = Summary(prompts=len(tasks) + skipped, skipped=skipped)
    ledger = Ledger(policy, emit_warning=lambda text: emit(Note(text)))
    started = time.monotonic()
    stop = threading.Event()
    lock = threading.Lock()
    workers = max(1, min(settings.jobs, len(tasks)))
    if len(tasks) > 1:
        _one_malloc_arena()  # before the worker threads start
    client = ApiClient(settings, stop=stop, connections=workers)

    def one(task: Task) -> None:
        if stop.is_set():
            raise Cancelled
        emit(Started(task))
        saved: list[Saved] = []
        answered: list[ApiResult] = []
        started_at = time.monotonic()

        def paid(result: ApiResult) -> None:
            # Counted when the answer is in, before any image is written: an image that then
            # fails was paid for all the same.
            answered.append(result)
            with lock:
                summary.add_usage(result.usage)

        try:
            for event in _generate(client, task, slots, policy, emit, paid):
                with lock:
                    summary.images += 1
                saved.append(event)
                emit(event)
        except Cancelled:
            raise
        except Exception as exc:
            error = as_error(exc)
            if fail_fast or error.exit_code == ExitCode.CONFIG:
                stop.set()  # here, before this worker can take the next task
            ledger.record(task, saved, answered, time.monotonic() - started_at, error)
            if error is exc:
                raise
            raise error from exc
        ledger.record(task, saved, answered, time.monotonic() - started_at)
        with lock:
            summary.finished += 1
            ended.add(task.number)

    # -j requests at once, and one thread more: a thread whose answer is in parses, decodes and
    # writes it while the next request takes its slot. One more, not -j more: each thread that
    # holds an answer holds its buffer, and a long batch would line up more of them at once than
    # a short one (issue 10: 50 images peaked 1.14 times as high as 5 with 2 x -j threads, 1.02
    # with -j + 1; batch efficiency 0.88 either way, as the slot is given back early).
    slots = threading.Semaphore(workers)
    pool = ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="deerimg")
    pending: dict[Future[None], Task] = {}
    ended: set[int] = set()  # the numbers of the tasks that were saved or failed
    interrupted = threading.Event()
    restore_sigint = _catch_interrupt(interrupted)

    def settle(future: Future[None]) -> None:
        error = _failure(future)
        task = pending.pop(future)
        if error is None:
            return
        ended.add(task.number)
        summary.failed += 1
        emit(Failed(task, error))
        if error.exit_code == ExitCode.CONFIG:
            summary.fatal = error  # a bad key fails every prompt alike: stop the run
        if error.exit_code == ExitCode.CONFIG or fail_fast:
            stop.set()

    try:
        pending = {pool.submit(one, task): task for task in tasks}
        while pending and not interrupted.is_set():
            done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                settle(future)
        if interrupted.is_set():
            # From here a second Ctrl-C leaves at once (on_sigint in _catch_interrupt).
            summary.interrupted = True
            stop.set()  # no new request, no retry
            for future in [future for future in pending if future.cancel()]:
                del pending[future]
            if pending:
                # Closing the client here would close sockets under the workers' feet: a read
                # blocked on one is not woken, and its fd number can be reused by another socket.
                # The requests in flight are paid for anyway: let them finish and keep the images.
                emit(Note(f"interrupted: waiting for the {len(pending)} prompt(s) under way (what "
                          "is in flight is paid for); Ctrl-C again to stop at once"))  # fmt: skip
            while pending:  # each one saved, or failed and said so, as without the Ctrl-C
                done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    settle(future)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        client.close()
        writer.remove_temporary_files()
        summary.elapsed = time.monotonic() - started
        if not summary.interrupted:
            restore_sigint()
    not_run = [task for task in tasks if task.number not in ended]
    summary.not_run = len(not_run)
    if not_run:
        reason = (
            "not run: interrupted"
            if summary.interrupted
            else "not run: the API key was refused"
            if summary.fatal is not None
            else "not run: --fail-fast stopped the run"
        )
        for task in not_run:
            emit(NotRun(task, reason))
    return summary


class Ledger:
    """Appends one history line per request (its files, usage once) or per failure."""

    def __init__(self, policy: Policy, emit_warning: Callable[[str], None]) -> None:
        self._policy = policy
        self._warn = emit_warning
        self._broken = False

    def record(
        self,
        task: Task,
        saved: Sequence[Saved],
        answered: Sequence[ApiResult],
        seconds: float,
        error: DeerimgError | None = None,
    ) -> None:
        if not self._policy.history or self._broken:
            return
        result = answered[0] if answered else None
        fields = {k: v for k, v in task.body.items() if k != "prompt"}
        if task.files:
            fields["files"] = [str(image.path) for _, image in task.files]
        entry = history.build_entry(
            command=self._policy.command,
            prompt=task.job.prompt,
            model=str(task.body.get("model")),
            fields=fields,
            outcome="failed" if error is not None else "ok",
            files=[str(s.path) if s.path is not None else "-" for s in saved],
            usage=result.usage if result else None,
            request_id=result.request_id if result else (error.request_id if error else None),
            seconds=round(seconds, 3),
            error=error.as_dict() if error is not None else None,
        )
        try:
            history.append(entry)
        except OSError as exc:
            self._broken = True
            self._warn(f"history not recorded ({exc.strerror}); --no-history turns it off")


def _failure(future: Future[None]) -> DeerimgError | None:
    """The error a finished task met; None for success and for tasks the stop cancelled."""
    if future.cancelled():
        return None
    try:
        future.result()
    except Cancelled:
        return None
    except Exception as exc:  # noqa: BLE001 - every failure of a prompt is told in one line
        return as_error(exc)
    return None


def as_error(exc: Exception) -> DeerimgError:
    """EXC as the one-line error of its prompt: itself, or an unforeseen one wrapped.

    The batch goes on and the summary still comes; --debug prints the traceback (its cause).
    """
    if isinstance(exc, DeerimgError):
        return exc
    error = DeerimgError(f"unexpected {type(exc).__name__}: {answers.server_text(str(exc))}")
    error.__cause__ = exc
    return error


def _catch_interrupt(interrupted: threading.Event) -> Callable[[], None]:
    """Ctrl-C sets INTERRUPTED instead of raising KeyboardInterrupt wherever the main thread is.

    concurrent.futures.wait() holds the lock of every pending future while it sets up; a
    KeyboardInterrupt raised there leaves them held, the workers block on them for ever, and
    pool.shutdown(wait=True) never returns. The loop checks the flag instead. Returns a function
    that puts the previous handler back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigint(_signum: int, _frame: object) -> None:
        if interrupted.is_set():
            _leave(_signum, _frame)
        interrupted.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    return lambda: signal.signal(signal.SIGINT, previous)


def _leave(_signum: int, _frame: object) -> None:
    """A second Ctrl-C leaves at once, still removing every temporary file first."""
    writer.remove_temporary_files()
    sys.stderr.write("\ninterrupted again: stopped at once\n")
    sys.stderr.flush()
    os._exit(ExitCode.INTERRUPTED)


def _generate(
    client: ApiClient,
    task: Task,
    slots: threading.Semaphore,
    policy: Policy,
    emit: Callable[[Event], None],
    paid: Callable[[ApiResult], None] = lambda _result: None,
) -> Iterator[Saved]:
    """Send one task in one of the -j slots, then write each image as soon as it is decoded.

    PAID is told of the answer before any image is written.
    """

    def on_retry(retry: Retrying) -> None:
        emit(RetryEvent(task, retry))

    # The slot is given back as soon as the answer is in: the next request goes out while this
    # thread parses, decodes and writes (they hold the interpreter lock for about 12 ms an image).
    held = [True]

    def received() -> None:
        if held[0]:
            held[0] = False
            slots.release()

    slots.acquire()
    try:
        if task.endpoint == "edits":
            result = client.edit(task.body, task.files, on_retry=on_retry, received=received)
        else:
            result = client.generate(task.body, on_retry=on_retry, received=received)
    finally:
        received()
    paid(result)
    targets = list(task.targets)
    avoid: set[Path] | None = None  # made only when the API sends more images than asked for
    for k, item in enumerate(result.data):
        if k < len(targets):
            target = targets[k]
        elif targets[-1].stdout:
            # -o - has room for one image: say what was thrown away rather than fail the one
            # that was asked for and written whole.
            where = f" (request id {result.request_id})" if result.request_id else ""
            emit(Note(f"the API sent {len(result.data)} images; -o - writes one to standard "
                      f"output: {len(result.data) - k} more not kept{where}"))  # fmt: skip
            return
        else:
            if avoid is None:
                avoid = set(policy.planned)  # every target of the run, this task's among them
            target = _extra(targets[-1], k + 1, avoid)
            avoid.update(final_paths(target))
        yield _save(
            client, task, result, item, target, first=(k == 0), policy=policy, on_retry=on_retry
        )
    if len(result.data) < len(targets):
        # Exit 0 means every image was saved; the re-run with --skip-existing asks for the rest.
        raise DeerimgError(
            f"the API sent {len(result.data)} of the {len(targets)} images asked for",
            request_id=result.request_id,
            hint="run it again with --skip-existing for the rest",
        )


def _extra(last: Target, k: int, avoid: Set[Path]) -> Target:
    """More images than asked for: keep them (they were paid for) under a numbered default name
    that no prompt of the run planned (AVOID), so no re-run takes one for another prompt's."""
    assert last.path is not None  # noqa: S101 - stdout targets are handled in _generate
    return Target(extra_name(last.path, k, avoid))


def _save(
    client: ApiClient,
    task: Task,
    result: ApiResult,
    item: dict[str, Any],
    target: Target,
    *,
    first: bool,
    policy: Policy,
    on_retry: Callable[[Retrying], None] | None = None,
) -> Saved:
    data = _image_bytes(client, item, result, on_retry)
    fmt = images.sniff(data[:16])
    if fmt is None:
        raise DeerimgError(
            "the response is not a PNG, JPEG or WebP image", request_id=result.request_id
        )
    if images.cut_off(data, fmt):
        raise DeerimgError(
            f"the response's {fmt.upper()} image is cut off ({len(data):,} bytes, no end)",
            request_id=result.request_id,
        )
    pixels = images.pixel_size(data[: 1 << 16])
    warning = None
    path = target.path
    if path is not None:
        real_ext = images.EXTENSION[fmt]
        if not target.ext_fixed:
            path = path.with_suffix(f".{real_ext}")
        elif images.EXTENSION.get(_fmt_of(path)) != real_ext:
            warning = f"{path} holds {fmt.upper()} bytes, not what its name says"
    revised = item.get("revised_prompt")
    revised = answers.server_text(revised, one_line=False) if isinstance(revised, str) else None
    record = None
    c2pa = False
    embedded = None
    if policy.metadata or policy.sidecar:
        record = provenance.build_record(
            task.body, revised_prompt=revised, request_id=result.request_id, reported=result.fields
        )
    if policy.metadata and record is not None:
        # Signed content credentials come first: one changed byte would break them.
        c2pa = provenance.has_c2pa(data)
        if not c2pa:
            try:
                embedded = provenance.embed_parts(data, fmt, record)
            except ValueError:
                embedded = None
    parts = embedded if embedded is not None else [data]
    if path is None:
        size = writer.write_stdout(parts)
        final = None
    else:
        final, size = writer.write_file(
            parts,
            path,
            replace=target.explicit and task.force,
            rename_on_clash=not target.explicit,
        )
    was_embedded = embedded is not None
    del parts, embedded, data  # the image is freed here, not when the whole prompt is done
    kind = "embedded" if was_embedded else None
    wants_sidecar = record is not None and (
        policy.sidecar or (policy.metadata and not was_embedded)
    )
    if final is not None and record is not None and wants_sidecar:
        try:
            writer.write_file(
                [provenance.sidecar_bytes(record)],
                provenance.sidecar_path(final),
                replace=task.force,
                rename_on_clash=False,
            )
            kind = kind or "sidecar"
        except DeerimgError as error:
            warning = f"provenance sidecar not written: {error.message}"
    return Saved(task, final, size, fmt, pixels, revised, result, first, warning, kind, c2pa)


def _image_bytes(
    client: ApiClient,
    item: dict[str, Any],
    result: ApiResult,
    on_retry: Callable[[Retrying], None] | None = None,
) -> bytes | bytearray:
    """The image: already decoded by the client, base64 decoded piece by piece (other workers
    get turns), or downloaded.

    The image or its base64 is taken out of the answer, so it is freed as soon as it is written
    rather than when the whole prompt is done (issue 10: memory must not grow with the batch).
    """
    image = item.pop("image", None)  # decoded by the client over its answer
    if isinstance(image, bytearray):
        return image
    b64 = item.pop("b64_json", None)
    if isinstance(b64, (str, memoryview)):
        try:
            return images.decode(b64)
        except DeerimgError as error:
            error.request_id = result.request_id
            raise
    if isinstance(item.get("url"), str):
        try:
            return client.download(item["url"], on_retry)
        except DeerimgError as error:
            error.request_id = error.request_id or result.request_id  # the API's, not the CDN's
            raise
    raise DeerimgError(
        "the response's image has neither b64_json nor url", request_id=result.request_id
    )


def _fmt_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return "jpeg" if suffix in ("jpg", "jpeg") else suffix


def _one_malloc_arena() -> None:
    """On glibc, keep a batch's memory from growing with its length (issue 10).

    glibc gives each new thread an arena of its own (up to 8 per CPU), and each arena keeps the
    megabytes of the answers its thread held: one arena for all, so memory one frees serves them
    all (the interpreter lock serializes most allocations anyway). And glibc raises its mmap
    threshold to the size of each large block freed, after which image-sized blocks come from
    the heap, where freed ones stay resident between live ones: a fixed threshold gives every
    block over 1 MB its own mapping, returned to the system when freed. Other C libraries:
    nothing to do.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-8, 1)  # M_ARENA_MAX, from malloc.h
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass
