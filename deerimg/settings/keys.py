"""The settings deerimg knows: each key's check, how values show (the key masked), URL rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from deerimg.errors import usage_error
from deerimg.values import FORMATS, SIZE_RE, VALUE_SETS, normalise_format

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# What a Bearer token may hold (RFC 6750 2.1 allows less): anything else makes httpx raise an
# encoding error whose text quotes part of the key, or sends a header the server cannot match.
# One rule for both ends: `config set` refuses what the wire would refuse to send.
KEY_RE = re.compile(r"[\x21-\x7e]+")


def mask_key(key: str) -> str:
    """The only way a key is ever shown: its prefix and last four characters."""
    if len(key) <= 8:
        return "…" + key[-2:] if len(key) > 4 else "…"
    prefix = key[:3] if key.startswith("sk-") else key[:2]
    return f"{prefix}…{key[-4:]}"


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def _text(value: Any) -> str:
    if not _str(value).strip():
        raise ValueError("must not be empty")
    return value.strip()


def _api_key(value: Any) -> str:
    key = _text(value)
    if not KEY_RE.fullmatch(key):  # worded as the wire's refusal of the same key
        raise ValueError(
            "holds a space, a control or a non-ASCII character: paste the key alone, "
            "without spaces or quotes"
        )
    return key


def _size(value: Any) -> str:
    if not SIZE_RE.match(_str(value)):
        raise ValueError("must be WxH (for example 1024x1536) or auto")
    return value


def _quality(value: Any) -> str:
    if value not in VALUE_SETS["quality"]:
        raise ValueError(f"must be one of {', '.join(VALUE_SETS['quality'])}")
    return value


def _format(value: Any) -> str:
    value = normalise_format(value) if isinstance(value, str) else value
    if value not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}")
    return value


def _int_range(low: int, high: int | None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf), TOML's inf
            raise ValueError("must be a whole number") from None
        if isinstance(value, float) and value != number:
            raise ValueError("must be a whole number")
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be from {low} to {high}" if high else f"must be {low} or more")
        return number

    return check


def _jobs(value: Any) -> int | str:
    """A number of requests at once, 1-32, or "auto" (-j auto: paced to the rate limit)."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return _int_range(1, 32)(value)
    except ValueError as exc:
        raise ValueError(f"{exc}, or auto") from None


# --max-jobs, a flag only: with -j auto, the most requests in flight.
check_max_jobs = _int_range(1, 256)


def _positive(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number of seconds") from None
    if not number > 0 or number != number or number == float("inf"):
        raise ValueError("must be more than 0 seconds")
    return number


def _base_url(value: Any) -> str:
    text = _str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(map(str.isspace, text)):
        raise ValueError("must be an http(s) URL such as https://api.deerapi.com")
    if parts.username is not None or parts.password is not None:
        # httpx would send them as Basic auth in place of the key, and they would be shown.
        raise ValueError("must hold no user name or password (user:pass@): the key is the login")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("must hold no query (?…) or fragment (#…): paths are added after it")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


@dataclass(slots=True)
class Key:
    name: str  # as in config.toml
    check: Callable[[Any], Any]
    help: str
    choices: tuple[str, ...] = ()


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key("api_key", _api_key, "DeerAPI key (prefer `config set api-key` with no value: hidden)"),
        Key("base_url", _base_url, "API base URL, with or without /v1"),
        Key("model", _text, "default model"),
        Key("size", _size, "default size, WxH or auto"),
        Key("quality", _quality, "default quality"),
        Key("format", _format, "default output format", FORMATS),
        Key("output_dir", _text, "folder for images with default names"),
        Key("jobs", _jobs, "requests at once in a batch, 1-32, or auto (paced to the rate limit)"),
        Key("timeout", _positive, "seconds to wait for one answer"),
        # at most 20: with the 8 s back-off cap, a prompt already waits minutes at 20
        Key("retries", _int_range(0, 20), "retries of a transient failure, 0-20"),
        Key("history", _bool, "record each request in the history ledger", ("true", "false")),
        Key("max_cost", _positive, "a run's budget in USD, never passed (--max-cost)"),
        Key(
            "retry_timeouts",
            _bool,
            "retry a paid request whose answer timed out once sent (it may pay twice)",
            ("true", "false"),
        ),
        Key(
            "preview", _bool, "show each saved image in the terminal (--preview)", ("true", "false")
        ),
    )
}


def dashed(key: str) -> str:
    """A key as the command line spells it: api_key → api-key."""
    return key.replace("_", "-")


def normalize_key(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in KEYS:
        valid = ", ".join(dashed(k) for k in KEYS)
        raise usage_error(f"unknown config key {name!r}", hint=f"valid keys: {valid}")
    return key


def check_value(key: str, value: Any) -> Any:
    """Validate one value for KEY; raise ValueError with what is allowed."""
    return KEYS[key].check(value)


def checked_value(key: str, value: Any) -> Any:
    """check_value for a value a person typed: a bad one is a usage error (exit 2)."""
    try:
        return check_value(key, value)
    except ValueError as exc:
        # A bad key may still be a secret, and so may a password in a URL.
        secret = key == "api_key" or (key == "base_url" and "@" in str(value))
        shown = "the key" if key == "api_key" else "the URL" if secret else repr(value)
        raise usage_error(f"invalid value for {dashed(key)}: {shown} {exc}") from None


_IPV4_LOOPBACK = re.compile(r"127(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}")


def is_loopback(url: str) -> bool:
    """This machine: localhost, ::1 or 127.x.y.z, the address itself (127.evil.example is not)."""
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK_HOSTS or _IPV4_LOOPBACK.fullmatch(host) is not None


def plain_http_warning(url: str) -> str | None:
    """Plain http is fine for this machine (a local proxy, a test server), risky anywhere else."""
    if urlsplit(url).scheme == "http" and not is_loopback(url):
        return f"base URL {url} is plain http: the API key would cross the network unencrypted"
    return None


def display_value(key: str, value: Any, reveal: bool = False) -> str:
    """A value as text for people; the API key masked unless REVEAL."""
    if key == "api_key" and isinstance(value, str) and not reveal:
        return mask_key(value)
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML and `config set` write it
    if isinstance(value, float):
        # Exactly as `config set` takes it back: 600.0 as 600, 1234567.0 in full (not the
        # rounded 1.23457e+06 of :g), 0.1 as 0.1; repr is the shortest text that reads back.
        text = repr(value)
        return text.removesuffix(".0")
    return str(value)
