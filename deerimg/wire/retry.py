"""Which answers are retried and how long to wait: openai-python's policy, pure and table-tested."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from deerimg.events import RateSignal

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_HONOURED_WAIT = 120.0  # a longer Retry-After means an exhausted quota, not a busy server
BASE_DELAY = 0.5
MAX_BACKOFF = 8.0


def should_retry(status: int) -> bool:
    return status in RETRY_STATUSES


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, then seconds, then an HTTP date.

    None, and the back-off applies, when it asks for no wait at all: 0, a negative number, -inf
    or a date gone by. Taken at its word, a server that keeps saying 0 would be hit back to
    back (openai-python likewise honours only a wait above 0).
    """
    asked = _asked(headers, now)
    return asked if asked is not None and asked > 0 else None


def _asked(headers: Mapping[str, str], now: float) -> float | None:
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _seconds(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    import email.utils  # only for an HTTP date, which few servers send

    try:
        when = email.utils.parsedate_to_datetime(value)
        return when.timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(value: str | None) -> float | None:
    """A number of seconds (or ms); NaN is no answer, and "inf" an endless wait."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if math.isnan(number):
        return None  # max(nan, 0.0) is nan, and Event.wait(nan) raises
    return number


def backoff(attempt: int, rand: float) -> float:
    """Exponential back-off with jitter for retry number ATTEMPT (0-based); RAND in [0, 1)."""
    return min(BASE_DELAY * 2.0**attempt, MAX_BACKOFF) * (1.0 - 0.25 * rand)


def delay(attempt: int, headers: Mapping[str, str], now: float, rand: float) -> float:
    """How long to wait before retry ATTEMPT; the caller refuses waits over MAX_HONOURED_WAIT."""
    asked = retry_after(headers, now)
    if asked is not None:
        return asked
    return backoff(attempt, rand)


DAY = 86400.0


def quota_hint(wait: float, now: float | None = None) -> str:
    """The hint for a wait past MAX_HONOURED_WAIT: a quota, not a busy server.

    Whole seconds rounded up (120.5 is 121 s, more than 120 s); over a day, "more than a day",
    with the date it ends when NOW is given and the date is one a calendar holds.
    """
    if wait <= DAY:
        asked = f"{math.ceil(wait)} s"
    else:
        asked = "more than a day"
        if now is not None and math.isfinite(wait):
            import datetime

            try:
                until = datetime.datetime.fromtimestamp(now + wait, tz=datetime.timezone.utc)
            except (OverflowError, ValueError, OSError):
                pass  # past the year 9999
            else:
                asked += f" (until {until:%Y-%m-%d %H:%M} UTC)"
    return (
        f"the server asks to wait {asked}, more than {MAX_HONOURED_WAIT:.0f} s: "
        "likely an exhausted quota; try again later"
    )


_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration(text: str | None) -> float | None:
    """Seconds in a Go duration as x-ratelimit-reset-* write it ("120ms", "6m0s", "1h2m3.5s");
    a bare number is seconds; None for anything else."""
    text = (text or "").strip().lower()
    if not text:
        return None
    bare = _seconds(text)
    if bare is not None:
        return bare if bare >= 0 and math.isfinite(bare) else None
    parts = _DURATION_RE.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _UNIT[unit] for number, unit in parts)


def rate_signal(status: int, headers: Mapping[str, str], now: float) -> RateSignal:
    """What an answer says of the rate limit: Retry-After, and x-ratelimit-*-requests if sent."""
    lowered = {key.lower(): value for key, value in headers.items()}
    wait = retry_after(lowered, now) if status == 429 else None
    exact = wait is not None and ("retry-after-ms" in lowered or not float(wait).is_integer())
    limit = _seconds(lowered.get("x-ratelimit-limit-requests"))
    remaining = _seconds(lowered.get("x-ratelimit-remaining-requests"))
    return RateSignal(
        status,
        wait,
        exact,
        limit if limit is not None and limit > 0 and math.isfinite(limit) else None,
        remaining,
        duration(lowered.get("x-ratelimit-reset-requests")),
    )
