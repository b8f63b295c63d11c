"""Find, read and write config.toml: 0600 in a 0700 folder, atomically, never rewritten corrupt.

`set` and `unset` change one line and keep every other line (comments, tables) as the user wrote it;
the result is parsed again before it replaces the file, so an edit can never damage it.
"""

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

SIZE_RE = re.compile(r"^(auto|[1-9][0-9]{1,4}x[1-9][0-9]{1,4})$")
FORMATS = ("png", "jpeg", "webp")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
NEVER_REWRITTEN = "fix or delete the file; deerimg never rewrites a file it cannot parse"
# What a Bearer token may hold (RFC 6750 2.1 allows less): anything else makes httpx raise an
# encoding error whose text quotes part of the key, or sends a header the server cannot match.
# One rule for both ends: `config set` refuses what client.py would refuse to send.
KEY_RE = re.compile(r"[\x21-\x7e]+")


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


def warn(message: str) -> None:
    from deerimg.report import warn as print_warning

    print_warning(message)


# -- values -------------------------------------------------------------------------------------


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
    if not KEY_RE.fullmatch(key):  # worded as client.py's refusal of the same key
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
    from deerimg.request import VALUE_SETS

    if value not in VALUE_SETS["quality"]:
        raise ValueError(f"must be one of {', '.join(VALUE_SETS['quality'])}")
    return value


def _format(value: Any) -> str:
    value = "jpeg" if value == "jpg" else value
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
        Key("jobs", _int_range(1, 32), "requests at once in a batch, 1-32"),
        Key("timeout", _positive, "seconds to wait for one answer"),
        Key("retries", _int_range(0, None), "retries of a transient failure"),
        Key("history", _bool, "record each request in the history ledger", ("true", "false")),
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


# -- the file -----------------------------------------------------------------------------------


def _load(path: Path) -> tuple[str | None, dict[str, Any]]:
    """The file's text (None when missing) and its parsed data; a broken file is an error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, {}
    except OSError as exc:
        raise DeerimgError(
            f"cannot read config file {path}: {exc.strerror}", ExitCode.CONFIG
        ) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as Windows editors write, is no text
    except UnicodeDecodeError:
        raise DeerimgError(
            f"config file {path} is not UTF-8 text", ExitCode.CONFIG, hint=NEVER_REWRITTEN
        ) from None
    tomllib = _tomllib()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of(str(exc))
        where = f", line {line}" if line else ""
        raise DeerimgError(
            f"config file {path}{where} cannot be parsed: {str(exc).split(' (at')[0]}",
            ExitCode.CONFIG,
            hint=NEVER_REWRITTEN,
        ) from None
    return text, data


def read_config(path: Path | None = None, *, warn_user: bool = True) -> dict[str, Any]:
    """Parse config.toml; a missing file is empty, a broken one is an error naming file and line.

    With WARN_USER, a file other users can read and keys deerimg does not know get a warning.
    """
    path = path or config_path()
    text, data = _load(path)
    if text is not None and warn_user:
        if too_open(path):
            warn(f"config file {path} can be read by other users; run: chmod 600 {path}")
        for key in data:
            if key not in KEYS:
                spelled = key.replace("-", "_").lower()
                fix = f"write it {spelled}" if spelled in KEYS else "valid keys: " + ", ".join(KEYS)
                warn(f"config file {path}: unknown key {key!r} ignored; {fix}")
    return data


def _line_of(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # A JSON string is a TOML basic string, except that TOML wants DEL escaped too.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _write_text(path: Path, text: str) -> Path:
    """Write TEXT atomically: a 0600 temp file beside PATH, then rename over it."""
    if path.is_symlink():  # a dotfile manager's link stays a link; its target is rewritten
        path = path.resolve()
    folder = path.parent
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".config-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _tighten(folder: Path) -> None:
    """Make FOLDER exactly 0700, whatever the umask, and also when it was there before (made by
    hand, by a dotfile manager, by mkdir with the umask): the key file is 0600 in a 0700 folder.

    Only a folder of the user's own: a shared one (DEERIMG_CONFIG_DIR=/etc/deerimg) is someone
    else's to set. Where modes mean nothing (Windows) or chmod is refused, it stays as it is.
    """
    if os.name != "posix":
        return
    try:
        info = folder.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != 0o700:
            folder.chmod(0o700)
    except OSError:
        pass


def write_config(data: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write DATA (top-level scalars) atomically: a 0600 temp file in the folder, then rename."""
    text = "".join(f"{key} = {_toml_value(value)}\n" for key, value in data.items())
    return _write_text(path or config_path(), text)


_TABLE_RE = re.compile(r"^\s*\[")


def _edit_text(text: str, key: str, line: str | None) -> str:
    """TEXT with KEY's top-level line replaced by LINE (None: removed), or LINE added."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    end = next((i for i, item in enumerate(lines) if _TABLE_RE.match(item)), len(lines))
    pattern = re.compile(rf"""^\s*(?:{key}|"{key}"|'{key}')\s*=""")
    hits = [i for i in range(end) if pattern.match(lines[i])]
    for index in reversed(hits):
        del lines[index]
    if line is not None:
        if hits:
            where = hits[0]
        elif end == len(lines):
            where = end
        else:  # after the last top-level setting, so it stays above the first [table]
            settings = [i for i in range(end) if lines[i].strip() and lines[i].lstrip()[0] != "#"]
            where = settings[-1] + 1 if settings else 0
        lines.insert(where, line)
    return "".join(lines)


@dataclass(slots=True)
class Update:
    path: Path
    changed: bool  # False: `unset` of a key the file does not hold; nothing was written
    was_open: bool  # the file could be read by other users before this rewrite made it 0600


def update_config(key: str, value: Any, path: Path | None = None) -> Update:
    """Set KEY to VALUE (None: remove it), keeping every other line of the file as it was.

    A file that cannot be parsed is refused before anything is written; so is an edit whose
    result would not parse back to exactly the old settings plus this change.
    """
    path = path or config_path()
    text, data = _load(path)
    if value is None and key not in data:
        return Update(path, changed=False, was_open=False)
    expected = dict(data)
    if value is None:
        del expected[key]
    else:
        expected[key] = value
    line = None if value is None else f"{key} = {_toml_value(value)}\n"
    new_text = _edit_text(text or "", key, line)
    tomllib = _tomllib()
    try:
        same = tomllib.loads(new_text) == expected
    except tomllib.TOMLDecodeError:
        same = False
    if not same:
        raise DeerimgError(
            f"cannot change {key} in config file {path} without disturbing its other lines",
            ExitCode.CONFIG,
            hint="edit the file by hand; it is left as it was",
        )
    was_open = text is not None and too_open(path)
    _write_text(path, new_text)
    return Update(path, changed=True, was_open=was_open)


def too_open(path: Path) -> bool:
    """True when users other than the owner may read PATH (POSIX only)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.name == "posix" and bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def _tomllib() -> Any:
    """The TOML parser, imported when a config file is there to read (2 ms of every start)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib
