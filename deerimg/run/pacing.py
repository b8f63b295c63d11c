"""-j auto: the starts of requests paced to a rate learned from 429s and x-ratelimit-* headers.

Pure logic on an injectable clock: `reserve` books the next start, `observed` learns from each
answer. The rule: before anything is known, two requests go at once, then two a second; once
answers come, the rate doubles every 0.25 s while the pacer holds requests back (a quick start).
A stated limit (x-ratelimit-limit-requests, a minute's worth) sets the rate to 97 % of it at
once. A 429 for a request sent after the last cut sets the ceiling: 1 / (the time since the last
start not refused + its Retry-After) when the wait is to the millisecond, else the rate of the
requests accepted in the last seconds, else half the rate; the rate drops to 90 % of it (the
429s of requests already sent do not cut again). Below 95 % of the best rate accepted the rate
climbs back fast (20 % of it a second); above, it probes upward by 2 % a second.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from deerimg.events import RateSignal

FIRST_RATE = 2.0  # starts a second before any answer
DOUBLING = 0.25  # seconds, while no limit is known
BACKOFF = 0.85  # of the ceiling a 429 sets
HEADROOM = 0.985  # of a stated limit
NEAR = 0.9  # of the best rate seen: below it the rate climbs back fast
CLIMB = 0.5  # of the ceiling, a second
PROBE = 0.003  # of the key's limit, in each of its intervals, past NEAR
WINDOW = 3.0  # seconds of accepted starts a measured rate counts
SHADOW = 2.0  # intervals after a cut in which a 429 does not cut again
RECHECK = 0.05  # seconds a held request waits before asking again
MIN_RATE = 1 / 120.0
MAX_RATE = 1000.0


class Pacer:
    """Spaces the starts of requests at a rate it learns; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.rate = FIRST_RATE  # starts a second
        self.ceiling: float | None = None  # what the last 429 or stated limit said
        self.stated: float | None = None  # x-ratelimit-limit-requests, a second
        self._slow = True  # no limit seen yet: the quick start
        self._answered = False
        self._burst = 1  # the first two starts go at once
        self._next = -math.inf
        self._held = -math.inf  # when a request was last held back
        self._grown = clock()
        self._cut = -math.inf  # a 429 of a request started before this does not cut again
        self._starts: deque[float] = deque(maxlen=256)  # booked starts, newest last
        self._refused: set[float] = set()
        self._peak = 0.0  # the highest ceiling learned
        self._waits: deque[float] = deque(maxlen=32)  # Retry-After to the millisecond
        self._accepted: deque[float] = deque()  # accepted starts within WINDOW
        self.accepted = 0
        self.refused = 0
        self._first_ok: float | None = None
        self._last_ok: float | None = None

    def reserve(self) -> tuple[bool, float]:
        """(True, the start's clock time) when a request may go now, and it is booked; else
        (False, seconds to wait before asking again: the rate may change meanwhile)."""
        with self._lock:
            now = self._clock()
            self._grow(now)
            if now < self._next:
                self._held = now
                return False, min(self._next - now, RECHECK)
            if self._burst:
                self._burst -= 1
                self._next = now
            else:
                self._next = max(self._next, now - 1.0 / self.rate) + 1.0 / self.rate
            self._starts.append(now)
            return True, now

    def observed(self, started: float, signal: RateSignal) -> None:
        """Learn from the answer to the request booked at STARTED."""
        with self._lock:
            now = self._clock()
            self._grow(now)
            self._answered = True
            if signal.limit is not None and signal.limit > 0:
                self._stated(signal.limit / 60.0)
            if signal.status == 429:
                self._on_refused(started, signal, now)
            elif signal.status < 400:
                self._on_accepted(started, now)

    def reached(self) -> float | None:
        """Requests accepted a minute, from the first accepted start to the last."""
        with self._lock:
            if self._first_ok is None or self._last_ok is None or self.accepted < 3:
                return None
            span = self._last_ok - self._first_ok
            return 60.0 * (self.accepted - 1) / span if span > 0 else None

    def per_minute(self) -> float:
        """The rate the starts are paced to now, a minute."""
        return 60.0 * self.rate

    # -- the rule ---------------------------------------------------------------------------

    def _grow(self, now: float) -> None:
        """While the pacer binds: the quick start doubles the rate every DOUBLING seconds; past
        it the rate climbs fast back to NEAR of the ceiling, then by PROBE of the limit in each
        of the limit's intervals (the same steps for every process on one key: fair shares)."""
        elapsed = max(0.0, now - self._grown)
        self._grown = now
        if not self.accepted or now - self._held >= 1.0 or elapsed == 0:
            return  # nothing heard yet, or no request held back lately: the pacer does not bind
        if self._slow:
            self.rate = min(MAX_RATE, self.rate * 2.0 ** (elapsed / DOUBLING))
            return
        ceiling = self.ceiling or self.rate
        total = self.stated or ceiling
        if self.rate < NEAR * ceiling:
            self.rate = min(NEAR * ceiling, self.rate + CLIMB * ceiling * elapsed)
        else:
            # The longer no 429 came, the faster the probe (50 of the limit's intervals: twice).
            since = max(0.0, now - self._cut) if math.isfinite(self._cut) else 0.0
            self.rate += PROBE * total * total * elapsed * (1.0 + since * total / 50.0)
        if self.stated is not None:
            self.rate = min(self.rate, HEADROOM * self.stated)
        self.rate = min(self.rate, MAX_RATE)

    def _total(self) -> float | None:
        """The key's whole rate, as every process sees it: a stated limit, else one over the
        longest Retry-After given to the millisecond (a wait for one request's worth)."""
        if self.stated is not None:
            return self.stated
        return 1.0 / max(self._waits) if len(self._waits) >= 3 else None

    def _stated(self, limit: float) -> None:
        self.stated = limit
        if self._slow:
            self._slow = False
            self.ceiling = limit
            self.rate = HEADROOM * limit
        self.rate = min(self.rate, HEADROOM * limit)

    def _on_refused(self, started: float, signal: RateSignal, now: float) -> None:
        self.refused += 1
        if len(self._refused) > 4 * (self._starts.maxlen or 0):
            self._refused.intersection_update(self._starts)
        self._refused.add(started)
        wait = signal.retry_after
        if wait is not None and signal.exact and wait > 0:
            self._waits.append(wait)
        before = [t for t in self._starts if t < started and t not in self._refused]
        if self._slow and not self.accepted and wait is not None:
            # Nothing of ours got through yet: another process took the bucket. Wait, no cut.
            self._next = max(self._next, now + wait)
            return
        if started < self._cut or now < self._cut + SHADOW / self.rate:
            return  # sent before the last cut, or just after: its 429 says nothing new
        estimate = None
        if wait is not None and signal.exact and before:
            # The bucket held less than one request from the last start that got through until
            # the end of this wait: one request's worth of time, or a little less.
            estimate = 1.0 / max(1e-3, started - before[-1] + wait)
        if estimate is None:
            estimate = self._measured(now)
        if estimate is None:
            estimate = self.rate / 2.0
        # Refused at this rate: the limit is below it. One 429 cuts at most to a quarter.
        ceiling = min(max(estimate, self.rate / 4.0), self.rate)
        if self.stated is not None:
            ceiling = min(ceiling, self.stated)
        self.ceiling = ceiling
        self._peak = max(self._peak, ceiling)
        self.rate = max(MIN_RATE, BACKOFF * ceiling)
        self._slow = False
        self._cut = now
        if wait is not None:
            self._next = max(self._next, now + min(wait, 2.0 / self.rate))

    def _on_accepted(self, started: float, now: float) -> None:
        self.accepted += 1
        self._first_ok = started if self._first_ok is None else min(self._first_ok, started)
        self._last_ok = started if self._last_ok is None else max(self._last_ok, started)
        self._accepted.append(started)

    def _measured(self, now: float) -> float | None:
        """Starts accepted a second over the last WINDOW seconds; None with fewer than 4."""
        while self._accepted and self._accepted[0] < now - WINDOW:
            self._accepted.popleft()
        times = sorted(self._accepted)
        if len(times) < 4 or times[-1] <= times[0]:
            return None
        return (len(times) - 1) / (times[-1] - times[0])
