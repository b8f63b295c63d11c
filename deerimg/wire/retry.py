"""Which answers are retried and how long to wait: openai-python's policy, pure and table-tested."""

from __future__ import annotations

import math
from collections.abc import Mapping

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_HONOURED_WAIT = 120.0  # a longer Retry-After means an exhausted quota, not a busy server
BASE_DELAY = 0.5
MAX_BACKOFF = 8.0


def should_retry(status: int) -> bool:
    return status in RETRY_STATUSES


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the server asked us to wait: retry-after-ms, then seconds, then an HTTP date."""
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
        return max(when.timestamp() - now, 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _seconds(value: str | None) -> float | None:
    """A number of seconds (or ms) at least 0; NaN is no answer, and "inf" an endless wait."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if math.isnan(number):
        return None  # max(nan, 0.0) is nan, and Event.wait(nan) raises
    return max(number, 0.0)


def backoff(attempt: int, rand: float) -> float:
    """Exponential back-off with jitter for retry number ATTEMPT (0-based); RAND in [0, 1)."""
    return min(BASE_DELAY * 2.0**attempt, MAX_BACKOFF) * (1.0 - 0.25 * rand)


def delay(attempt: int, headers: Mapping[str, str], now: float, rand: float) -> float:
    """How long to wait before retry ATTEMPT; the caller refuses waits over MAX_HONOURED_WAIT."""
    asked = retry_after(headers, now)
    if asked is not None:
        return asked
    return backoff(attempt, rand)


def quota_hint(wait: float) -> str:
    """The hint for a wait past MAX_HONOURED_WAIT: a quota, not a busy server."""
    return (
        f"the server asks to wait {wait:.0f} s, more than {MAX_HONOURED_WAIT:.0f} s: "
        "likely an exhausted quota; try again later"
    )
