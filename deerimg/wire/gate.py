"""What holds the API's requests back across workers: the shared 429 pause, and -j auto's pacer."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from deerimg.events import RateSignal


class Cancelled(Exception):
    """The run was stopped (Ctrl-C, --fail-fast, an authentication failure) while waiting."""


class Gate:
    """One pause shared by every worker: a 429 stops the whole pool, not just one request."""

    def __init__(self, stop: threading.Event) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._stop = stop

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                remaining = self._until - time.monotonic()
            if remaining <= 0:
                return
            if self._stop.wait(remaining):
                raise Cancelled


class Pacing(Protocol):
    """-j auto's pacer (run/pacing.py): when each API request may go, and what its answer said."""

    def reserve(self) -> tuple[bool, float]: ...

    def observed(self, started: float, signal: RateSignal) -> None: ...
