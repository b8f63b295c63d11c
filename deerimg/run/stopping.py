"""Ctrl-C, SIGTERM and SIGHUP during a run: a flag the pool checks, not an exception anywhere.

The first signal lets what is in flight finish (it is paid for); a second leaves at once, still
removing every temporary file first. A hang-up sends what was written to the gone terminal to the
null device.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

from deerimg.events import Event, StoppedAtOnce
from deerimg.imaging import writer

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def waiting_note(signum: int, under_way: int) -> str:
    if signum == signal.SIGINT:
        what, again = "interrupted", "Ctrl-C again"
    else:
        name = signal.Signals(signum).name
        what, again = f"stopped by {name}", f"{name} again"
    return (
        f"{what}: waiting for the {under_way} prompt(s) under way (what is in flight is paid "
        f"for); {again} to stop at once"
    )


def catch_stop_signals(
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
