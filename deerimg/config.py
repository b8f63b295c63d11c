"""Find, read and write config.toml: 0600 in a 0700 folder, written atomically, never rewritten corrupt."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from deerimg.errors import DeerimgError, ExitCode, usage_error

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SIZE_RE = re.compile(r"^(auto|[1-9][0-9]{1,4}x[1-9][0-9]{1,4})$")
FORMATS = ("png", "jpeg", "webp")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def config_dir() -> Path:
    env = os.environ.get("DEERIMG_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_config_path("deerimg")


def config_path() -> Path:
    return config_dir() / "config.toml"


def mask_key(key: str) -> str:
    """The only way a key is ever shown: its prefix and last four characters."""
    if len(key) <= 8:
        return "…" + key[-2:] if len(key) > 4 else "…"
    prefix = key[:3] if key.startswith("sk-") else key[:2]
    return f"{prefix}…{key[-4:]}"


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _size(value: str) -> str:
    if not SIZE_RE.match(value):
        raise ValueError("must be WxH (for example 1024x1536) or auto")
    return value


def _quality(value: str) -> str:
    from deerimg.request import VALUE_SETS

    if value not in VALUE_SETS["quality"]:
        raise ValueError(f"must be one of {', '.join(VALUE_SETS['quality'])}")
    return value


def _format(value: str) -> str:
    value = "jpeg" if value == "jpg" else value
    if value not in FORMATS:
        raise ValueError(f"must be one of {', '.join(FORMATS)}")
    return value


def _int_range(low: int, high: int | None) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError("must be a whole number") from None
        if isinstance(value, float) and value != number:
            raise ValueError("must be a whole number")
        if number < low or (high is not None and number > high):
            raise ValueError(f"must be from {low} to {high}" if high else f"must be {low} or more")
        return number

    return check


def _positive(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("must be a number of seconds") from None
    if not number > 0 or number != number or number == float("inf"):
        raise ValueError("must be more than 0 seconds")
    return number


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://api.deerapi.com")
    return value.strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True, slots=True)
class Key:
    name: str  # as in config.toml
    check: Callable[[Any], Any]
    help: str
    choices: tuple[str, ...] = ()


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "api_key",
            _text,
            "DeerAPI key (prefer `config set api-key` with no value: hidden input)",
        ),
        Key("base_url", _base_url, "API base URL, with or without /v1"),
        Key("model", _text, "default model"),
        Key("size", _size, "default size, WxH or auto"),
        Key("quality", _quality, "default quality"),
        Key("format", _format, "default output format", FORMATS),
        Key("output_dir", _text, "folder for images with default names"),
        Key("jobs", _int_range(1, 32), "requests at once in a batch, 1-32"),
        Key("timeout", _positive, "seconds to wait for one answer"),
        Key("retries", _int_range(0, None), "retries of a transient failure"),
    )
}


def normalize_key(name: str) -> str:
    key = name.strip().lower().replace("-", "_")
    if key not in KEYS:
        valid = ", ".join(k.replace("_", "-") for k in KEYS)
        raise usage_error(f"unknown config key {name!r}", hint=f"valid keys: {valid}")
    return key


def check_value(key: str, value: Any) -> Any:
    """Validate one value for KEY; raise ValueError with what is allowed."""
    return KEYS[key].check(value)


def is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS or (
        urlsplit(url).hostname or ""
    ).startswith("127.")


def read_config(path: Path | None = None) -> dict[str, Any]:
    """Parse config.toml; a missing file is empty, a broken one is an error naming file and line."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DeerimgError(
            f"cannot read config file {path}: {exc.strerror}", ExitCode.CONFIG
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DeerimgError(
            f"config file {path} is not UTF-8 text",
            ExitCode.CONFIG,
            hint="fix or delete the file; deerimg never rewrites a file it cannot parse",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of(str(exc))
        where = f", line {line}" if line else ""
        raise DeerimgError(
            f"config file {path}{where} cannot be parsed: {str(exc).split(' (at')[0]}",
            ExitCode.CONFIG,
            hint="fix or delete the file; deerimg never rewrites a file it cannot parse",
        ) from None
    return data


def _line_of(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def write_config(data: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write DATA atomically: a 0600 temp file in the 0700 folder, then rename."""
    path = path or config_path()
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = "".join(f"{key} = {_toml_value(value)}\n" for key, value in data.items())
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".config-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def too_open(path: Path) -> bool:
    """True when users other than the owner may read PATH (POSIX only)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.name == "posix" and bool(mode & (stat.S_IRWXG | stat.S_IRWXO))
