"""A model of -j auto on a virtual clock: the real Pacer against the fake's token bucket.

A discrete-event model of what tests/benchmarks/ratelimit.py runs in real time: the real
``Pacer`` (deerimg/run/pacing.py), the real bucket (tests/fake/ratelimit.py) and the real
reading of its headers (``retry.rate_signal``), with --max-jobs workers a process, each sending
its prompt, waiting out a 429's Retry-After and trying again (--retries 3 by default), and a
little random delay on each way to the bucket, on each thread's wake-up and at each process's
start. Seconds for minutes of real time: tests/benchmarks/pacesim.py runs it over many seeds,
and tests/test_pacing.py holds cases it found.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable

from deerimg.run.pacing import Pacer
from deerimg.wire import retry
from tests.fake.ratelimit import RateLimit, rate_of, while_all_ran

BURST = 2


class World:
    """The virtual clock and its events."""

    def __init__(self, seed: int, noise: float = 1.0) -> None:
        self.now = 0.0
        self.noise = noise  # x the mean of every random delay
        self.rand = random.Random(seed)
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    def after(self, delay: float, action: Callable[[], None]) -> None:
        self.at(self.now + max(0.0, delay), action)

    def jitter(self, mean: float) -> float:
        mean *= self.noise
        return self.rand.expovariate(1.0 / mean) if mean > 0 else 0.0

    def run(self) -> None:
        while self._events:
            self.now, _, action = heapq.heappop(self._events)
            action()


class Process:
    """One deerimg -j auto process: its pacer and --max-jobs workers sharing its prompts."""

    def __init__(self, world: World, bucket: RateLimit, tag: str, prompts: int, latency: float,
                 *, workers: int = 32, retries: int = 3) -> None:  # fmt: skip
        self.world, self.bucket, self.tag, self.latency = world, bucket, tag, latency
        self.pacer = Pacer(clock=lambda: world.now)
        self.todo = list(range(prompts))
        self.workers, self.retries = min(workers, prompts), retries
        self.failed = 0

    def start(self, at: float) -> None:
        for _ in range(self.workers):
            self.world.at(at, self._next_prompt)

    def _next_prompt(self) -> None:
        if self.todo:
            self.todo.pop()
            self._try(0)

    def _try(self, attempt: int) -> None:
        ready, value = self.pacer.reserve()
        if not ready:  # Event.wait(value), and a thread's wake-up
            self.world.after(value + self.world.jitter(0.0005), lambda: self._try(attempt))
            return
        self.world.after(self.world.jitter(0.001), lambda: self._arrive(value, attempt))

    def _arrive(self, started: float, attempt: int) -> None:
        accepted, headers = self.bucket.take(self.tag)
        back = (self.latency if accepted else 0.0) + self.world.jitter(0.0015)
        self.world.after(back, lambda: self._answer(started, attempt, accepted, headers))

    def _answer(self, started: float, attempt: int, accepted: bool, headers: dict) -> None:
        status = 200 if accepted else 429
        self.pacer.observed(started, retry.rate_signal(status, headers, 0.0))
        if accepted:
            self._next_prompt()
        elif attempt >= self.retries:
            self.failed += 1
            self._next_prompt()
        else:
            wait = retry.delay(attempt, headers, 0.0, self.world.rand.random())
            self.world.after(wait + self.world.jitter(0.0005), lambda: self._try(attempt + 1))


def simulate(per_minute: float, latency: float, headers: bool, seed: int, *, pair: bool,
             skew: float, noise: float = 1.0) -> tuple[float, float, float, int]:  # fmt: skip
    """(rate / R, 429 share, the first process's share while both ran, prompts failed); NOISE
    scales every random delay (1: about a millisecond)."""
    world = World(seed, noise)
    bucket = RateLimit(per_minute, BURST, headers, clock=lambda: world.now)
    count = max(80, int(per_minute / 3))
    procs = [Process(world, bucket, "a", count // 2 if pair else count, latency)]
    if pair:
        procs.append(Process(world, bucket, "b", count // 2, latency))
    for k, proc in enumerate(procs):
        proc.start(world.rand.uniform(0, skew) if k else 0.0)
    world.run()
    sides = [lambda v, tag=p.tag: v.tag == tag for p in procs]
    accepted, refused, shares = while_all_ran(bucket.log, sides)
    return rate_of(accepted, per_minute, BURST), refused, shares[0], sum(p.failed for p in procs)
