"""A URL answer's image link: where it came from and until when it works; pure.

Seedream, SeedEdit and DALL·E answer with signed links that expire (research/model-families.md
§1: Seedream 24 h, `X-Tos-Expires=86400`; DALL·E 60 min). deerimg downloads them at once, and
keeps each link and its end in the image's record, its --json record and the history ledger, so
an image whose download failed can still be fetched while its link lives. The end, in order:

1. `X-Tos-Date` + `X-Tos-Expires` (Volcengine TOS) or `X-Amz-Date` + `X-Amz-Expires` (S3's
   signature 4): a start such as 20261124T093000Z and a number of seconds;
2. `Expires=` Unix seconds (S3's older signature, OSS, CloudFront);
3. `se=` with `sig=` (an Azure SAS, as DALL·E's links are): an ISO time;
4. else the time the answer came plus the lifetime the family table gives (families.url_lifetime);
5. else none.
Query names are matched in any case. The link is kept as the server gave it, but the API key
never: a server that put it there gets `<the API key>` in its place (errors.concealed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from deerimg.errors import concealed
from deerimg.families import family_of

_LIFETIME = re.compile(r"^\s*(\d+)\s*(s|min|h|d)\s*$")
_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
_MAX_SECONDS = 10 * 365 * 86400  # a link said to live longer is not believed


def source_of(item: Mapping[str, Any], model: str, received: float) -> dict[str, Any] | None:
    """{"url", "lifetime", "expires"} of a data item answered with a URL, else None.

    RECEIVED: the Unix time the answer came, for a link that does not say when it ends.
    """
    url = item.get("url")
    if not isinstance(url, str):
        return None
    lifetime = family_of(model).url_lifetime
    ends = link_end(url) or _after(received, lifetime_seconds(lifetime))
    return {
        "url": concealed(url),
        "lifetime": lifetime,
        "expires": ends.isoformat(timespec="seconds").replace("+00:00", "Z") if ends else None,
    }


def lifetime_seconds(text: str | None) -> int | None:
    """ "24 h" -> 86400, "60 min" -> 3600: the family table's lifetimes; None for anything else."""
    match = _LIFETIME.match(text or "")
    return int(match.group(1)) * _SECONDS[match.group(2)] if match else None


def link_end(url: str) -> datetime | None:
    """When a signed URL says it stops working (rules 1 to 3 above), in UTC; None if it does not."""
    try:
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    except ValueError:  # "http://[::1" and the like: no query worth reading
        return None
    params: dict[str, str] = {}
    for name, value in query:
        params.setdefault(name.lower(), value)
    for vendor in ("x-tos", "x-amz"):
        start = _basic_time(params.get(f"{vendor}-date", ""))
        seconds = params.get(f"{vendor}-expires", "")
        if start is not None and seconds.isdigit():
            return _after(start.timestamp(), int(seconds))
    epoch = params.get("expires", "")
    if epoch.isdigit():
        return _after(int(epoch), 0)
    if "sig" in params and params.get("se"):
        try:
            when = datetime.fromisoformat(params["se"].replace("Z", "+00:00"))
        except ValueError:
            return None
        return when.replace(tzinfo=when.tzinfo or timezone.utc).astimezone(timezone.utc)
    return None


def _basic_time(text: str) -> datetime | None:
    """20261124T093000Z (ISO 8601's basic form, as signatures write it) in UTC, or None."""
    try:
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _after(start: float, seconds: int | None) -> datetime | None:
    """START (Unix seconds) plus SECONDS in UTC; None for no SECONDS or a time out of range."""
    if seconds is None or seconds > _MAX_SECONDS:
        return None
    try:
        return datetime.fromtimestamp(start, timezone.utc) + timedelta(seconds=seconds)
    except (ValueError, OverflowError, OSError):
        return None
