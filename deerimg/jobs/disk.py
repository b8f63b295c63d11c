"""What the disk holds where a run will write, asked before anything is paid for."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from deerimg.errors import DeerimgError, usage_error

PATH_MAX = 4096  # bytes of a path a system call takes, its final NUL included (Linux, macOS 1024)
NAME_MAX = 255  # bytes of one name, where the file system does not say


def entry(path: Path) -> os.stat_result | None:
    """What is at PATH itself: a file, a folder, a link (dangling or not); None when nothing."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            check_length(path)  # says which name is too long
            raise usage_error(f"{_short(path)}: {exc.strerror}") from None
        return None  # missing, or a parent that is no folder: check_writable says which


def is_empty_file(info: os.stat_result | None) -> bool:
    """An empty regular file: never an image (a name claimed by a run that was killed)."""
    return info is not None and stat.S_ISREG(info.st_mode) and info.st_size == 0


def is_image(path: Path) -> bool:
    """A finished image at PATH (through a link too): a file that is not empty."""
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0


def folder_error(what: str, folder: object) -> DeerimgError:
    return usage_error(
        f"{what} is a folder: an image cannot replace it",
        hint=f"to write into it under the default names, use -d {folder}",
    )


def refuse_taken(path: Path, *, force: bool, empty_is_free: bool = False) -> None:
    """Refuse an explicit target PATH that is taken, before anything is paid for.

    A link counts, dangling or not: the final link() would refuse it after paying. A folder is
    refused even with --force: no file can replace it. EMPTY_IS_FREE (--skip-existing): an empty
    file is no image, and is cleared before the run (clear_empty).
    """
    info = entry(path)
    if info is None or (empty_is_free and is_empty_file(info)):
        return
    if stat.S_ISDIR(info.st_mode):
        raise folder_error(str(path), path)
    if force:
        return
    kind = " (a symbolic link)" if stat.S_ISLNK(info.st_mode) else ""
    raise usage_error(
        f"{path} exists{kind}", hint="use --force to overwrite it, or --skip-existing to keep it"
    )


def clear_empty(paths: Iterable[Path], started: float) -> None:
    """Remove the empty files at PATHS that were there before the run began at STARTED.

    With --skip-existing only: an empty file is no image, but the name claimed where a file
    system has no hard links, by a run killed before it renamed the image over it. Left there,
    each re-run would pay again and save under the next number.
    """
    for path in paths:
        info = entry(path)
        if is_empty_file(info) and info is not None and info.st_mtime < started:
            with contextlib.suppress(OSError):
                path.unlink()


def check_length(path: Path) -> None:
    """Refuse a path or one of its names too long for the file system, before paying for it."""
    size = len(os.fsencode(path))
    if size >= PATH_MAX:
        raise usage_error(f"the path {_short(path)} is {size:,} bytes long: at most "
                          f"{PATH_MAX - 1:,} fit")  # fmt: skip
    most = _name_max(path.parent)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > most:
            raise usage_error(
                f"the name {_short(Path(part))} is {size:,} bytes long: a file name holds at "
                f"most {most}"
            )


def _name_max(folder: Path) -> int:
    """The longest name FOLDER's file system takes (of its nearest folder that exists)."""
    for place in (folder, *folder.parents):
        try:
            return int(os.pathconf(place, "PC_NAME_MAX"))
        except (OSError, ValueError, AttributeError):  # missing; no pathconf on Windows
            continue
    return NAME_MAX


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 60 else f"{text[:40]}…{text[-15:]}"


def check_writable(folders: Iterable[Path]) -> None:
    """Refuse output FOLDERS that cannot be written or made, before any request is sent.

    A missing folder is made at the first write (writer.write_file), not here: a batch that
    stops before writing anything (a refused key) leaves no empty folder behind. Here its nearest
    folder that exists must be one, and writable.
    """
    for folder in sorted(set(folders)):
        for place in (folder, *folder.parents):
            if entry(place) is None:
                continue
            if not place.is_dir():  # through a link too: a link to a folder is a folder
                if place == folder:
                    raise usage_error(f"output folder {folder} is a file, not a folder")
                raise usage_error(
                    f"cannot create output folder {folder}: {place} is a file, not a folder"
                )
            if not os.access(place, os.W_OK | os.X_OK):
                if place == folder:
                    raise usage_error(f"output folder {folder} is not writable")
                raise usage_error(f"cannot create output folder {folder}: {place} is not writable")
            break
