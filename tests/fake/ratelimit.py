"""A token bucket for the fake: R requests a minute, a small burst, 429 + Retry-After past it."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def duration(seconds: float) -> str:
    """SECONDS as the x-ratelimit-reset-* headers write it: 120ms, 1.5s, 6m0s."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest, 3):g}s"


@dataclass(slots=True)
class Verdict:
    """One request's turn at the bucket: when it came, whether it was let through, its tag."""

    time: float
    accepted: bool
    tag: str = ""


@dataclass
class RateLimit:
    """PER_MINUTE requests a minute, at most BURST at once; HEADERS: x-ratelimit-* on every answer.

    ``take`` is thread-safe; CLOCK (seconds, monotonic) is injectable for tests.
    """

    per_minute: float
    burst: float = 2.0
    headers: bool = False
    clock: Callable[[], float] = time.monotonic
    log: list[Verdict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._at: float | None = None

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    def take(self, tag: str = "") -> tuple[bool, dict[str, str]]:
        """One request: (let through, the headers of its answer: a 429's Retry-After and more)."""
        with self._lock:
            now = self.clock()
            if self._at is not None:
                elapsed = max(0.0, now - self._at)
                self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
            self._at = now
            accepted = self._tokens >= 1.0
            if accepted:
                self._tokens -= 1.0
            self.log.append(Verdict(now, accepted, tag))
            headers: dict[str, str] = {}
            if not accepted:
                wait = (1.0 - self._tokens) / self.per_second
                headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
            if self.headers:
                full = (self.burst - self._tokens) / self.per_second
                headers["x-ratelimit-limit-requests"] = f"{self.per_minute:g}"
                headers["x-ratelimit-remaining-requests"] = str(int(self._tokens))
                headers["x-ratelimit-reset-requests"] = duration(full)
            return accepted, headers

    def accepted(self) -> list[Verdict]:
        with self._lock:
            return [v for v in self.log if v.accepted]

    def refused(self) -> list[Verdict]:
        with self._lock:
            return [v for v in self.log if not v.accepted]


def while_all_ran(
    log: list[Verdict], sides: list[Callable[[Verdict], bool]]
) -> tuple[list[Verdict], float, list[float]]:
    """What the bucket said while each of SIDES (the processes, told by their verdicts) still
    had an accepted request to come: the accepted verdicts, the share refused, each side's share
    of the accepted."""
    ends = [max((v.time for v in log if v.accepted and mine(v)), default=0.0) for mine in sides]
    window = [v for v in log if v.time <= min(ends)]
    accepted = [v for v in window if v.accepted]
    refused = 1 - len(accepted) / len(window) if window else 0.0
    return accepted, refused, [sum(map(mine, accepted)) / max(1, len(accepted)) for mine in sides]


def rate_of(accepted: list[Verdict], per_minute: float, burst: float) -> float:
    """Accepted requests a minute over PER_MINUTE, first to last, less the bucket's BURST."""
    if len(accepted) <= burst + 1:
        return 0.0
    span = accepted[-1].time - accepted[0].time
    return 60.0 * (len(accepted) - 1 - burst) / span / per_minute if span > 0 else 0.0
