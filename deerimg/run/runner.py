"""The pool of one run: -j requests at once, a shared stop, Ctrl-C, and the run's accounting."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from deerimg._startup import one_malloc_arena
from deerimg.errors import DeerimgError, ExitCode
from deerimg.events import (
    Event,
    Failed,
    Note,
    NotRun,
    Paced,
    RetryEvent,
    Saved,
    Started,
    Summary,
)
from deerimg.imaging import writer
from deerimg.routes import TASK_ROUTES
from deerimg.run.budget import Budget, OverBudget, cost_of
from deerimg.run.ledger import Ledger
from deerimg.run.pacing import Pacer
from deerimg.run.save import send_task
from deerimg.run.stopping import catch_stop_signals as _catch_stop_signals
from deerimg.run.stopping import waiting_note as _waiting_note
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
    summary = Summary(prompts=len(tasks) + skipped, skipped=skipped, budget=policy.max_cost)
    budget = Budget(policy.max_cost)
    ledger = Ledger(policy, emit_warning=lambda text: emit(Note(text)))
    started = time.monotonic()
    stop = threading.Event()
    lock = threading.Lock()
    workers = max(1, min(settings.jobs, len(tasks)))
    if len(tasks) > 1:
        one_malloc_arena()  # before the worker threads start
    # -j auto: up to --max-jobs in flight (settings.jobs), each start paced to the learned rate.
    pacer = Pacer() if settings.jobs_auto else None
    client = ApiClient(settings, stop=stop, connections=workers, pacer=pacer)
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

        reserved: list[float] = []  # its estimate, counted against --max-cost while in flight

        def sending() -> None:
            sent.add(task.number)
            reserved.append(budget.reserve(task))  # OverBudget: not sent, nor any after it

        def told(event: Event) -> None:
            if isinstance(event, RetryEvent) and event.retry.billed:
                budget.maybe_paid(task)  # the try it replaces may have been charged
            emit(event)

        def submitted(task_id: str, request_id: str | None) -> None:
            ledger.submitted(task, task_id, request_id, ids[0] if ids else task.resume)
            ids.append(task_id)

        def paid(result: ApiResult) -> None:
            # Counted when the answer is in, before any image is written: an image that then
            # fails was paid for all the same.
            answered.append(result)
            cost = cost_of(task, result)
            result.cost = cost
            budget.settle(reserved.pop() if reserved else 0.0, cost)
            with lock:
                summary.add_usage(result.usage, result.svg_usage)
                summary.add_cost(cost.usd)

        try:
            sending_images = send_task(client, task, slots, policy, told, paid, sending, submitted)
            for event in sending_images:
                with lock:
                    summary.images += 1
                    if policy.by_model:
                        summary.tally(task.model, "saved")
                saved.append(event)
                emit(event)
        except (Cancelled, OverBudget):
            sent.discard(task.number)  # stopped before its request went out, or between retries
            budget.settle(reserved.pop() if reserved else 0.0, None)
            raise Cancelled from None
        except Exception as exc:
            budget.settle(reserved.pop() if reserved else 0.0, None)  # no answer: not paid
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
            if pacer is not None:
                emit(Paced(pacer.per_minute()))  # the progress line's rate
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
        if pacer is not None:
            summary.pace = (pacer.reached(), pacer.per_minute(), pacer.refused)
        if not summary.interrupted:
            restore_handlers()
    not_run = [task for task in tasks if task.number not in ended]
    summary.not_run = len(not_run)
    summary.budget_stopped = budget.stopped
    if not_run:
        reason = (
            f"not run: it would pass --max-cost {budget.limit:g} (spent {budget.spent:.4f})"
            if budget.stopped and budget.limit is not None
            else "not run: interrupted"
            if summary.interrupted
            else "not run: the API key was refused"
            if summary.fatal is not None
            else "not run: --fail-fast stopped the run"
        )
        code = "budget" if budget.stopped else "not_run"
        for task in not_run:
            emit(NotRun(task.job.prompt, reason, task.model, code))
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
