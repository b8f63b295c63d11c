"""The pool of one run: -j requests at once, a shared stop, Ctrl-C, and the run's accounting."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from deerimg._startup import one_malloc_arena
from deerimg.errors import DeerimgError, ExitCode
from deerimg.events import Event, Failed, Note, NotRun, Saved, Started, StoppedAtOnce, Summary
from deerimg.imaging import writer
from deerimg.routes import TASK_ROUTES
from deerimg.run.ledger import Ledger
from deerimg.run.save import send_task
from deerimg.run.tasks import RunPolicy, Task
from deerimg.settings.resolve import Settings
from deerimg.wire.client import ApiClient, ApiResult
from deerimg.wire.responses import server_text
from deerimg.wire.send import Cancelled


def run(
    tasks: Sequence[Task],
    settings: Settings,
    emit: Callable[[Event], None],
    *,
    policy: RunPolicy | None = None,
    skipped: int = 0,
) -> Summary:
    """Send every task, -j at a time; every prompt is tried unless fail-fast or a 401/403."""
    policy = policy or RunPolicy()
    emit = _drawn(emit)
    fail_fast = policy.fail_fast
    summary = Summary(prompts=len(tasks) + skipped, skipped=skipped)
    ledger = Ledger(policy, emit_warning=lambda text: emit(Note(text)))
    started = time.monotonic()
    stop = threading.Event()
    lock = threading.Lock()
    workers = max(1, min(settings.jobs, len(tasks)))
    if len(tasks) > 1:
        one_malloc_arena()  # before the worker threads start
    client = ApiClient(settings, stop=stop, connections=workers)
    # -j requests at once, and one thread more: a thread whose answer is in parses, decodes and
    # writes it while the next request takes its slot. One more, not -j more: each thread that
    # holds an answer holds its buffer, and a long batch would line up more of them at once than
    # a short one (issue 10: 50 images peaked 1.14 times as high as 5 with 2 x -j threads, 1.02
    # with -j + 1; batch efficiency 0.88 either way, as the slot is given back early).
    slots = threading.Semaphore(workers)
    ended: set[int] = set()  # the numbers of the tasks that were saved or failed
    sent: set[int] = set()  # the numbers of the tasks that took a slot: a request went out

    def one(task: Task) -> None:
        if stop.is_set():
            raise Cancelled
        emit(Started(task.number, task.job.prompt))
        saved: list[Saved] = []
        answered: list[ApiResult] = []
        started_at = time.monotonic()
        ids: list[str] = []  # a task API's task, once submitted (the grid's, then its actions')
        if task.endpoint in TASK_ROUTES and task.resume is None:
            task.resume = ledger.pending(task)  # never pay twice for what a run left pending

        def submitted(task_id: str, request_id: str | None) -> None:
            ledger.submitted(task, task_id, request_id, ids[0] if ids else task.resume)
            ids.append(task_id)

        def paid(result: ApiResult) -> None:
            # Counted when the answer is in, before any image is written: an image that then
            # fails was paid for all the same.
            answered.append(result)
            with lock:
                summary.add_usage(result.usage, result.svg_usage)

        try:
            sending = send_task(
                client, task, slots, policy, emit, paid, lambda: sent.add(task.number), submitted
            )
            for event in sending:
                with lock:
                    summary.images += 1
                    if policy.by_model:
                        summary.tally(task.model, "saved")
                saved.append(event)
                emit(event)
        except Cancelled:
            sent.discard(task.number)  # stopped before its request went out, or between retries
            raise
        except Exception as exc:
            error = as_error(exc)
            if fail_fast or error.exit_code == ExitCode.CONFIG:
                stop.set()  # here, before this worker can take the next task
            first = ids[0] if ids else task.resume
            ledger.record(task, saved, answered, time.monotonic() - started_at, error, first)
            if error is exc:
                raise
            raise error from exc
        ledger.record(task, saved, answered, time.monotonic() - started_at)
        with lock:
            summary.finished += 1
            ended.add(task.number)

    pool = ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="deerimg")
    pending: dict[Future[None], Task] = {}
    interrupted = threading.Event()
    restore_handlers, caught = _catch_stop_signals(interrupted, emit)

    def settle(future: Future[None]) -> None:
        error = _failure(future)
        task = pending.pop(future)
        if error is None:
            return
        ended.add(task.number)
        summary.failed += 1
        if policy.by_model:
            summary.tally(task.model, "failed")
        emit(Failed(task.job.prompt, task.job.where, error, task.model))
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
            # From here a second signal leaves at once (on_signal in _catch_stop_signals).
            summary.interrupted = True
            summary.stopped_by = caught[0] if caught else signal.SIGINT
            stop.set()  # no new request, no retry
            for future in [future for future in pending if future.cancel()]:
                del pending[future]
            # Closing the client here would close sockets under the workers' feet: a read blocked
            # on one is not woken, and its fd number can be reused by another socket. The
            # requests in flight are paid for anyway: let them finish and keep the images. Only
            # those sent count: the pool's one extra thread may be waiting for a slot.
            under_way = sum(t.number in sent and t.number not in ended for t in pending.values())
            if under_way:
                emit(Note(_waiting_note(summary.stopped_by, under_way)))
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
            restore_handlers()
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
            emit(NotRun(task.job.prompt, reason, task.model))
    return summary


def _drawn(emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """EMIT, where a stream the report cannot write to is not a prompt's failure: a terminal
    that hung up (EIO, before the SIGHUP handler moves it to /dev/null), a full disk under a
    redirected log. The image is saved and recorded all the same; there is nowhere to say so."""

    def tell(event: Event) -> None:
        with contextlib.suppress(OSError):
            emit(event)

    return tell


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
    error = DeerimgError(f"unexpected {type(exc).__name__}: {server_text(str(exc))}")
    error.__cause__ = exc
    return error


# The signals that stop a run as Ctrl-C does: kill's SIGTERM (timeout, systemd, a cancelled CI
# job) and the SIGHUP of a closed terminal or a dropped ssh session. Windows has no SIGHUP.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _waiting_note(signum: int, under_way: int) -> str:
    if signum == signal.SIGINT:
        what, again = "interrupted", "Ctrl-C again"
    else:
        name = signal.Signals(signum).name
        what, again = f"stopped by {name}", f"{name} again"
    return (
        f"{what}: waiting for the {under_way} prompt(s) under way (what is in flight is paid "
        f"for); {again} to stop at once"
    )


def _catch_stop_signals(
    interrupted: threading.Event, emit: Callable[[Event], None]
) -> tuple[Callable[[], None], list[int]]:
    """Ctrl-C, SIGTERM and SIGHUP set INTERRUPTED instead of ending the process where it is.

    Their default actions would leave finished, paid images as hidden temporary files (SIGTERM,
    SIGHUP) or raise KeyboardInterrupt wherever the main thread is (Ctrl-C):
    concurrent.futures.wait() holds the lock of every pending future while it sets up; a
    KeyboardInterrupt raised there leaves them held, the workers block on them for ever, and
    pool.shutdown(wait=True) never returns. The loop checks the flag instead. A signal the
    process was started ignoring (nohup, a background job) stays ignored.

    Returns a function that puts the previous handlers back, and the list the first signal's
    number is appended to.
    """
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return lambda: None, caught
    terminals = [fd for fd in (1, 2) if _is_terminal(fd)]

    def on_signal(signum: int, _frame: object) -> None:
        if signum == getattr(signal, "SIGHUP", None):
            _leave_terminal(terminals)
        if interrupted.is_set():
            # A second signal leaves at once, still removing every temporary file first.
            writer.remove_temporary_files()
            emit(StoppedAtOnce())
            os._exit(128 + signum)
        caught.append(signum)
        interrupted.set()

    previous: dict[int, Any] = {}
    for signum in STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler != signal.SIG_IGN:
            previous[signum] = signal.signal(signum, on_signal)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)

    return restore, caught


def _is_terminal(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _leave_terminal(fds: Sequence[int]) -> None:
    """A hang-up: the terminal is gone, and every write to it would fail (EIO), turning a saved
    image into a failed prompt. What was written to it goes to the null device from here."""
    if not fds:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for fd in fds:
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)
