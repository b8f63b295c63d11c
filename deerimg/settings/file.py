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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deerimg.atomic import write_atomic
from deerimg.errors import DeerimgError, ExitCode
from deerimg.settings.dirs import config_dir
from deerimg.settings.keys import KEYS

# [routes]: model id → route; [prices."MODEL"]: its price (settings.resolve.routes_of, prices_of)
TABLES = ("routes", "prices")
NEVER_REWRITTEN = "fix or delete the file; deerimg never rewrites a file it cannot parse"
UNWRITABLE = "make that folder writable, or set DEERIMG_CONFIG_DIR to a folder you can write"


def config_path() -> Path:
    return config_dir() / "config.toml"


def _load(path: Path) -> tuple[str | None, dict[str, Any]]:
    """The file's text (None when missing) and its parsed data; a broken file is an error."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no file, or a folder that cannot be one
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


def read_config(path: Path | None = None) -> dict[str, Any]:
    """Parse config.toml; a missing file is empty, a broken one is an error naming file and line."""
    return _load(path or config_path())[1]


def warnings_of(path: Path, data: Mapping[str, Any]) -> list[str]:
    """What a person should hear of the config file read from PATH: other users can read it, it
    holds keys deerimg does not know. Data, not printing: the command shows them (not --quiet)."""
    warnings = []
    if too_open(path):
        warnings.append(f"config file {path} can be read by other users; run: chmod 600 {path}")
    for key in data:
        if key not in KEYS and key not in TABLES:
            spelled = key.replace("-", "_").lower()
            fix = f"write it {spelled}" if spelled in KEYS else "valid keys: " + ", ".join(KEYS)
            warnings.append(f"config file {path}: unknown key {key!r} ignored; {fix}")
    return warnings


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
    """Write TEXT atomically: a 0600 temp file beside PATH, then rename over it.

    Only deerimg's own config folder, the one holding config.toml (or the link to it), is made
    and tightened to 0700. Where config.toml is a link (a dotfile manager's), its target is
    rewritten and the target's folder (a dotfiles repository, $HOME, /etc) is left as it is.
    A folder that cannot be made or written is one `error:` line naming it (exit 3).
    """
    own = path.parent
    try:
        if not own.is_dir():
            own.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DeerimgError(
            f"cannot create config folder {own}: {exc.strerror or exc}",
            ExitCode.CONFIG,
            hint=UNWRITABLE,
        ) from None
    _tighten(own)
    target = path.resolve() if path.is_symlink() else path  # the link stays a link
    try:
        return write_atomic(target, text.encode("utf-8"), prefix=".config-")
    except OSError as exc:
        through = f" (a link to {target})" if target != path else ""
        raise DeerimgError(
            f"cannot write config file {path}{through} in folder {target.parent}: "
            f"{exc.strerror or exc}",
            ExitCode.CONFIG,
            hint=UNWRITABLE,
        ) from None


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
