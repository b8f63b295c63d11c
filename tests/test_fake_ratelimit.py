"""The fake's rate limit (issue 23): a token bucket, 429 + Retry-After past it, x-ratelimit-*."""

from __future__ import annotations

import httpx
import pytest

from tests.fake.ratelimit import RateLimit, duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_lets_a_burst_through_then_refills_at_the_rate():
    clock = Clock()
    bucket = RateLimit(60, clock=clock)  # one a second, burst 2
    assert [bucket.take()[0] for _ in range(3)] == [True, True, False]
    clock.now += 0.5
    accepted, headers = bucket.take()
    assert not accepted
    assert headers["retry-after-ms"] == "500"
    assert headers["Retry-After"] == "1"
    clock.now += 0.5
    assert bucket.take()[0]
    assert not bucket.take()[0]
    clock.now += 10  # the bucket holds 2 at most
    assert [bucket.take()[0] for _ in range(3)] == [True, True, False]
    assert len(bucket.accepted()) == 5
    assert len(bucket.refused()) == 4


def test_headers_say_limit_remaining_and_reset():
    clock = Clock()
    bucket = RateLimit(240, headers=True, clock=clock)  # 4 a second
    _, first = bucket.take()
    assert first == {
        "x-ratelimit-limit-requests": "240",
        "x-ratelimit-remaining-requests": "1",
        "x-ratelimit-reset-requests": "250ms",
    }
    _, second = bucket.take()
    assert second["x-ratelimit-remaining-requests"] == "0"
    assert second["x-ratelimit-reset-requests"] == "500ms"
    accepted, third = bucket.take()
    assert not accepted
    assert third["retry-after-ms"] == "250"
    assert third["x-ratelimit-remaining-requests"] == "0"
    assert not RateLimit(240, clock=clock).take()[1]  # no headers unless asked


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.12, "120ms"),
        (0.0, "0ms"),
        (1.5, "1.5s"),
        (59.0, "59s"),
        (360.0, "6m0s"),
        (61.25, "1m1.25s"),
    ],
)
def test_durations_are_written_as_gateways_write_them(seconds, text):
    assert duration(seconds) == text


def test_fake_answers_429_past_the_limit_and_reset_lifts_it(fake_api):
    clock = Clock()
    fake_api.rate_limit(60, headers=True, clock=clock)
    url = f"{fake_api.base_url}/v1/images/generations"
    auth = {"Authorization": f"Bearer {fake_api.api_key}"}
    body = {"model": "gpt-image-1", "prompt": "a fox"}
    statuses = [httpx.post(url, json=body, headers=auth) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].headers["x-ratelimit-remaining-requests"] == "1"
    assert statuses[2].headers["retry-after"] == "1"
    assert statuses[2].json()["error"]["code"] == "rate_limit_exceeded"
    assert [v.tag for v in fake_api.limiter.log] == ["a fox"] * 3
    fake_api.reset()
    assert fake_api.limiter is None
    assert httpx.post(url, json=body, headers=auth).status_code == 200
