"""-j auto's pacer (issue 23): pure logic on a fake clock, and the wire's rate-limit headers."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from deerimg.events import RateSignal
from deerimg.run import pacing
from deerimg.run.pacing import Pacer
from deerimg.wire.retry import duration, rate_signal
from tests.fake.ratelimit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def go(pacer: Pacer, clock: Clock) -> float:
    """Wait (on the fake clock) until the pacer lets a request go; its start."""
    for _ in range(10_000):
        ready, value = pacer.reserve()
        if ready:
            return value
        clock.now += value
    raise AssertionError("never let go")


def test_two_go_at_once_then_the_first_rate_until_an_answer():
    clock = Clock()
    pacer = Pacer(clock)
    starts = [go(pacer, clock) for _ in range(6)]
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.0] + [1 / pacing.FIRST_RATE] * 4  # no answer yet: no quick start


def test_quick_start_doubles_once_answers_come_and_a_429_cuts_to_its_estimate():
    clock = Clock()
    pacer = Pacer(clock)
    first = go(pacer, clock)
    pacer.observed(first, RateSignal(200))
    for _ in range(8):
        go(pacer, clock)
    assert pacer.rate > 2 * pacing.FIRST_RATE  # doubling every DOUBLING seconds while held
    last_ok = go(pacer, clock)
    refused = go(pacer, clock)
    gap = refused - last_ok
    before = pacer.rate
    pacer.observed(refused, RateSignal(429, retry_after=0.05, exact=True))
    # A wait to the millisecond: one request's worth of time from the last start let through;
    # one 429 cuts to a quarter at most.
    assert pacer.ceiling == pytest.approx(max(1 / (gap + 0.05), before / 4))
    assert pacer.ceiling < before
    assert pacer.rate == pytest.approx(pacing.BACKOFF * pacer.ceiling)


def test_a_burst_of_429s_cuts_once_not_into_a_collapse():
    clock = Clock()
    pacer = Pacer(clock)
    pacer.observed(go(pacer, clock), RateSignal(200))
    pacer.rate = 10.0
    starts = [go(pacer, clock) for _ in range(10)]
    for start in starts[2:]:
        pacer.observed(start, RateSignal(429, retry_after=1.0))  # a whole second, not exact
    assert pacer.refused == 8
    assert pacer.rate >= pacing.BACKOFF * 10.0 / 4  # one cut, at most to a quarter


def test_a_429_before_any_of_ours_got_through_waits_without_a_cut():
    clock = Clock()
    pacer = Pacer(clock)
    start = go(pacer, clock)
    pacer.observed(start, RateSignal(429, retry_after=0.5, exact=True))
    assert pacer.rate == pacing.FIRST_RATE
    assert pacer.ceiling is None
    assert go(pacer, clock) >= start + 0.5 - 1e-9


def test_a_stated_limit_sets_the_rate_and_caps_it():
    clock = Clock()
    pacer = Pacer(clock)
    pacer.observed(go(pacer, clock), RateSignal(200, limit=300, remaining=1, reset=0.2))
    assert pacer.per_minute() == pytest.approx(pacing.HEADROOM * 300)
    for _ in range(200):
        pacer.observed(go(pacer, clock), RateSignal(200, limit=300))
    assert pacer.per_minute() <= pacing.HEADROOM * 300 + 1e-9
    assert pacer.reached() == pytest.approx(pacing.HEADROOM * 300, rel=0.01)


def test_after_a_cut_the_rate_climbs_back_then_probes_upward():
    clock = Clock()
    pacer = Pacer(clock)
    pacer.observed(go(pacer, clock), RateSignal(200))
    pacer.rate = 4.0
    pacer.observed(go(pacer, clock), RateSignal(429))  # no Retry-After: half the rate
    assert pacer.ceiling == 2.0
    assert pacer.rate == pytest.approx(pacing.BACKOFF * 2.0)
    for _ in range(40):
        pacer.observed(go(pacer, clock), RateSignal(200))
    assert pacer.rate > 2.0  # past the ceiling: probing


@pytest.mark.parametrize(("per_minute", "headers"), [(240, False), (240, True), (1200, False)])
def test_against_a_token_bucket_it_keeps_near_the_limit_with_few_429s(per_minute, headers):
    """The pacer and the fake's bucket on one fake clock, every answer at once (L = 0)."""
    clock = Clock()
    bucket = RateLimit(per_minute, headers=headers, clock=clock)
    pacer = Pacer(clock)
    while len(bucket.accepted()) < 200:
        start = go(pacer, clock)
        accepted, answer_headers = bucket.take()
        pacer.observed(start, rate_signal(200 if accepted else 429, answer_headers, 0.0))
        clock.now += 0.001
    accepted = bucket.accepted()
    rate = 60 * (len(accepted) - 3) / (accepted[-1].time - accepted[0].time)
    assert rate >= 0.9 * per_minute
    assert len(bucket.refused()) / len(bucket.log) <= (0.01 if headers else 0.1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("120ms", 0.12), ("6m0s", 360.0), ("1h2m3.5s", 3723.5), ("2", 2.0), ("1.5s", 1.5)],
)
def test_reset_durations_are_read(text, seconds):
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "-1", "6x", "1m1", "nan", "inf"])
def test_other_reset_durations_are_not(text):
    assert duration(text) is None


def test_rate_signal_reads_retry_after_and_the_limit_headers():
    signal = rate_signal(
        429,
        {
            "Retry-After": "1",
            "retry-after-ms": "250",
            "X-RateLimit-Limit-Requests": "300",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": "6m0s",
        },
        0.0,
    )
    assert signal == RateSignal(429, 0.25, True, 300.0, 0.0, 360.0)
    assert rate_signal(429, {"Retry-After": "2"}, 0.0) == RateSignal(429, 2.0, False)
    assert rate_signal(200, {"Retry-After": "2", "x-ratelimit-limit-requests": "0"}, 0.0) == (
        RateSignal(200)
    )


def test_j_auto_runs_a_batch_paced_and_says_the_rate(fake_api, invoke):
    fake_api.rate_limit(6000, headers=True)
    Path("batch.txt").write_text("".join(f"prompt {k}\n" for k in range(6)))
    result = invoke("generate", "-f", "batch.txt", "-d", "out", "-j", "auto", "--max-jobs", "3")
    assert result.exit_code == 0, result
    assert len(list(Path("out").glob("*.png"))) == 6
    assert "-j auto: " in result.stderr
    assert "requests a minute accepted" in result.stderr
    assert fake_api.max_in_flight <= 3


def test_config_jobs_auto_and_bad_values(fake_api, invoke, config_file):
    assert invoke("config", "set", "jobs", "AUTO").exit_code == 0
    assert invoke("config", "get", "jobs").stdout == "auto\n"
    Path("batch.txt").write_text("a fox\na cat\n")
    result = invoke("generate", "-f", "batch.txt", "-d", "out")
    assert result.exit_code == 0, result
    assert "-j auto: " in result.stderr
    bad = invoke("generate", "a fox", "-j", "fast")
    assert bad.exit_code == 2
    assert "must be a whole number, or auto" in bad.stderr
    assert invoke("generate", "a fox", "--max-jobs", "0").exit_code == 2
