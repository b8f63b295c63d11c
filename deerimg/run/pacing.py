"""-j auto: the starts of requests paced to a rate learned from 429s and x-ratelimit-* headers.

Pure logic on an injectable clock: `reserve` books the next start, `observed` learns from each
answer. The rule:

- Quick start: one request, then FIRST_RATE a second, doubling every DOUBLING seconds while the
  pacer holds requests back, from the first start (a 429 comes back at once, an image takes L:
  waiting for an answer would lose the first L seconds), every DOUBLING_HEARD once answers come.
- A stated limit (x-ratelimit-limit-requests, a minute's worth) ends it: the rate goes to
  HEADROOM of it, never above, and what x-ratelimit-remaining-requests says is left goes at once.
  The 429s of requests sent before the limit was known do not cut.
- A 429 of a request sent after the last cut (and not just after it) ends it too. Its estimate:
  1 / (the time since our last start not refused + its Retry-After) when the wait is to the
  millisecond (the bucket held less than one request from that start until the wait ends), else
  half the rate. The first cut goes to FIRST_CUT of it (at most to a quarter); a later one to
  BETA of it (at most to half) when our previous start got through, else, when others took the
  tokens between, to BETA of the rate, as theirs do. The next start goes when the token the wait
  names is there: it takes it, and whoever else took it sees a 429 (so a process that holds a
  bucket to itself learns of the other), and the next estimate is exact.
- A 429 before any start of ours got through (another process holds the bucket) does not cut:
  the next start goes when the token its wait names is there, before its paced turn, so that the
  other learns of us by a 429 rather than keeping every token (a late start was locked out).
- With the headers, an answer whose take left the bucket below one token, which gained none over
  MARK_SPAN seconds while other processes took MARK_SHARE of the limit from it (a whole request at
  least), cuts the rate to MARK_CUT with no request refused.
- Between cuts, while the pacer binds, the rate grows toward the key's whole rate: a stated
  limit (to HEADROOM of it), else, once others took our tokens, one over the longest exact
  Retry-After (at most one token's time), by GROW_PER_TOKEN x the whole rate of the distance a
  second; alone with no stated limit, by PROBE_FIRST of the quick start's estimate a second after
  its cut, until another (where a process meets its first 429 depends on when the others started:
  it looks again soon), then by PROBE_PER_TOKEN x the ceiling of it (PROBE_ALONE at least), a 429
  about every 80 requests at any rate. A slower process grows faster, the cuts are multiplicative:
  processes on one key even their shares with no coordinator, as TCP flows share a link.
- With no stated limit, a later cut below DEEP of the rate (another's quick start still grew, or
  ours estimated too high: alone, one 429 tells) goes back toward BETA of the rate before it or of
  the quick start's when cut (twice the new rate at most), RECOVER of the distance a second, until
  the next cut, and does not end PROBE_FIRST.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from deerimg.events import RateSignal

FIRST_RATE = 2.0  # starts a second after the first
DOUBLING = 0.22  # seconds: the quick start, before any answer
DOUBLING_HEARD = 0.4  # seconds: the quick start, once answers come
HEADROOM = 0.985  # of a stated limit
FIRST_CUT = 0.95  # of the first 429's estimate
BETA = 0.93  # of a later 429's estimate, or of the rate
FLOOR = 0.5  # a later 429 cuts at most to this share of the rate
MARK_CUT = 0.95  # of the rate, when a shared bucket was used up (no 429)
PROBE = 0.005  # of the key's whole rate, a second, at least, once others took our tokens
PROBE_FIRST = 0.03  # of the quick start's estimate a second, after its cut, until another
GROW_PER_TOKEN = 0.005  # x the whole rate: the share of the distance to it closed a second
GROW_MAX = 1.0  # the most of the distance closed a second
PROBE_ALONE = 0.004  # of the ceiling a second at least, alone with no stated limit, after that
PROBE_PER_TOKEN = 0.0011  # x the ceiling in requests a second: the same (2.2 % at 20 a second)
DEEP = 0.75  # a cut below this share of the rate before it is deep: the rate goes back toward
RECOVER = 0.5  # the share of the distance to BETA of the rate before it closed a second
RECOVERED = 0.98  # of that rate: back
SHARED_FOR = 10.0  # seconds a sign of others' takes lasts
SHADOW = 0.5  # intervals after a cut in which a 429 does not cut again
MARK_SPAN = 1.0  # seconds over which a shared bucket must have gained nothing
MARK_SHARE = 0.2  # of the stated limit, the least others must have taken over them
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
        self._burst = 0  # starts that may go at once (what a stated limit's bucket has left)
        self._next = -math.inf
        self._held = -math.inf  # when a request was last held back
        self._grown = clock()
        self._cuts = 0  # 429s that cut the rate, less the deep ones (gone back from)
        self._first_ceiling: float | None = None  # the quick start's cut: what it said, and
        self._peak = 0.0  # the rate it cut
        self._recover: float | None = None  # after a deep cut: the rate to go back toward
        self._cut = -math.inf  # a 429 of a request started before this does not cut again
        self._shared = -math.inf  # when others last took our tokens
        self._starts: deque[float] = deque(maxlen=256)  # booked starts, newest last
        self._refused: set[float] = set()
        self._waits: deque[float] = deque(maxlen=32)  # Retry-After to the millisecond
        self._takes: dict[float, float] = {}  # start whose take left < 1 token: its reset
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
            if self._slow and not self.refused and not self.accepted and self._starts:
                # The quick start's rate grows while a start waits: so does its turn.
                self._next = min(self._next, self._starts[-1] + 1.0 / self.rate)
            if now < self._next:
                self._held = now
                return False, min(self._next - now, RECHECK)
            if self._burst:
                self._burst -= 1
                self._next = now
            elif not math.isfinite(self._next):
                self._next = now + 1.0 / self.rate  # the first start
            else:
                self._next = max(self._next, now - 1.0 / self.rate) + 1.0 / self.rate
            self._starts.append(now)
            return True, now

    def observed(self, started: float, signal: RateSignal) -> None:
        """Learn from the answer to the request booked at STARTED."""
        with self._lock:
            now = self._clock()
            self._grow(now)
            if signal.limit is not None and signal.limit > 0:
                first = self.stated is None
                self._stated(signal.limit / 60.0, now)
                if first and signal.status < 400 and signal.remaining:
                    # The bucket had more than our take: the next starts go at once.
                    self._burst = int(min(signal.remaining, 2)) - 1
                    self._next = min(self._next, now)
            if signal.status == 429:
                self._on_refused(started, signal, now)
            elif signal.status < 400:
                self._on_accepted(started, signal, now)

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
        """While the pacer binds (a request held back in the last second): grow, by the rule."""
        elapsed = max(0.0, now - self._grown)
        self._grown = now
        if now - self._held >= 1.0 or elapsed == 0:
            return  # no request held back lately: the pacer does not bind
        if self._slow:
            doubling = DOUBLING_HEARD if self.accepted else DOUBLING
            self.rate = min(MAX_RATE, self.rate * 2.0 ** (elapsed / doubling))
            return
        total = self._total()
        closing = min(GROW_MAX, GROW_PER_TOKEN * total)  # of the distance, a second
        if self.stated is not None:
            step = max(0.0, closing * (HEADROOM * total - self.rate))
        elif self._shared > now - SHARED_FOR:
            step = max(closing * (total - self.rate), PROBE * total)
        else:
            ceiling = self.ceiling or self.rate
            probe = max(PROBE_ALONE, PROBE_PER_TOKEN * ceiling)
            if self._cuts == 1:
                probe, ceiling = PROBE_FIRST, self._first_ceiling or ceiling
            step = probe * ceiling
        if self._recover is not None:  # back toward the rate before a deep cut
            step = max(step, RECOVER * (self._recover - self.rate))
            self._recover = self._recover if self.rate < RECOVERED * self._recover else None
        self.rate = min(MAX_RATE, self.rate + step * elapsed)
        if self.stated is not None:
            self.rate = min(self.rate, HEADROOM * self.stated)

    def _total(self) -> float:
        """The key's whole rate: a stated limit, else one over the longest Retry-After given to
        the millisecond (at most one token's time), else the ceiling."""
        if self.stated is not None:
            return self.stated
        if len(self._waits) >= 3:
            return 1.0 / max(self._waits)
        return self.ceiling or self.rate

    def _stated(self, limit: float, now: float) -> None:
        if self.stated is None:
            self._cut = now  # the 429s of what the quick start sent say nothing new
        self.stated = limit
        if self._slow:
            self._slow = False
            self.ceiling = limit
            self.rate = HEADROOM * limit
        self.rate = min(self.rate, HEADROOM * limit)

    def _shadowed(self, started: float, now: float) -> bool:
        """A signal of a request sent before the last cut, or just after it: nothing new."""
        return started < self._cut or now < self._cut + SHADOW / self.rate

    def _on_refused(self, started: float, signal: RateSignal, now: float) -> None:
        self.refused += 1
        if len(self._refused) > 4 * (self._starts.maxlen or 0):
            self._refused.intersection_update(self._starts)
        self._refused.add(started)
        wait = signal.retry_after
        exact = wait is not None and signal.exact and wait > 0
        if exact and wait is not None:
            self._waits.append(wait)
        before = [t for t in self._starts if t < started and t not in self._refused]
        if not before and wait is not None:
            # Nothing of ours got through yet: another process took the bucket. No cut; the
            # next start takes the token the wait names, and the other learns of us by a 429.
            self._next = now + wait if exact else max(self._next, now + wait)
            return
        if self._shadowed(started, now):
            if exact and wait is not None:  # no cut, but no start before the bucket has a token
                self._next = max(self._next, now + wait)
            return
        rate, slow, recovering = self.rate, self._slow, self._recover is not None
        estimate = self.rate / 2.0
        if exact and wait is not None and before:
            # The bucket held less than one request from the last start that got through until
            # the end of this wait: one request's worth of time, or a little less.
            estimate = 1.0 / max(1e-3, started - before[-1] + wait)
        if self._slow:
            ceiling = min(max(estimate, self.rate / 4.0), self.rate)
            self.rate = FIRST_CUT * ceiling
        elif before and started - before[-1] <= 1.5 / self.rate:
            ceiling = min(max(estimate, FLOOR * self.rate), self.rate)
            self.rate = BETA * ceiling
        else:
            ceiling = self.rate  # others took the tokens since our last start: cut as they do
            self.rate = BETA * ceiling
            self._shared = now
        self._cut_to(ceiling, now)
        self._peak = rate if slow else self._peak
        deep = not slow and not recovering and self.stated is None and self.rate < DEEP * rate
        self._recover = min(BETA * max(rate, self._peak), 2.0 * self.rate) if deep else None
        self._cuts -= deep  # a deep cut does not end PROBE_FIRST
        if exact and wait is not None:
            self._next = now + wait  # the token the wait names: ours, before any other start
        elif wait is not None:
            self._next = max(self._next, now + min(wait, 2.0 / self.rate))

    def _cut_to(self, ceiling: float, now: float) -> None:
        if self.stated is not None:
            self.rate = min(self.rate, HEADROOM * self.stated)
        self.rate = max(MIN_RATE, self.rate)
        self.ceiling = ceiling
        self._cuts += 1
        self._first_ceiling = self._first_ceiling or ceiling
        self._slow = False
        self._cut = now

    def _on_accepted(self, started: float, signal: RateSignal, now: float) -> None:
        self.accepted += 1
        self._first_ok = started if self._first_ok is None else min(self._first_ok, started)
        self._last_ok = started if self._last_ok is None else max(self._last_ok, started)
        if self.stated is None or signal.reset is None or signal.remaining is None:
            return
        if self._used_up(started, signal.reset, signal.remaining) and not self._shadowed(
            started, now
        ):
            self.rate = MARK_CUT * self.rate
            self._cut_to(self.rate, now)

    def _used_up(self, started: float, reset: float, remaining: float) -> bool:
        """Our take at STARTED left the bucket below one token, it gained nothing since a take
        of ours that did the same MARK_SPAN ago, and others took from it between: the tokens it
        gained (the stated rate times the time between) less ours and less the change in its
        reset time (the time to refill what is missing)."""
        stated = self.stated or 0.0
        if remaining >= 1:
            return False  # the bucket had more than our take
        earlier = [t for t in self._takes if t < started]
        self._takes[started] = reset  # below one token: the bucket was not full since
        if len(self._takes) > 64:
            for t in sorted(self._takes)[:-32]:
                del self._takes[t]
        spanned = [t for t in earlier if t <= started - MARK_SPAN]
        if not spanned:
            return False
        previous = max(spanned)
        if reset < self._takes[previous] - 0.002:
            return False  # it gained between: not used to its limit
        others = stated * (started - previous) - 1 + stated * (reset - self._takes[previous])
        others -= sum(1 for t in self._starts if previous < t < started and t not in self._refused)
        # A whole request, and a fifth of the limit's: not the jitter of our own starts' way to
        # the bucket (a busy machine: 0.1 s is 2 requests at 20 a second).
        return others >= max(1.0, MARK_SHARE * stated * (started - previous))
