"""Atomic writes: a temporary file in the target folder, then a link refusing an existing name."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from deerimg.errors import DeerimgError
from deerimg.imaging.formats import Buffer

_live: set[str] = set()  # temporary files being written, removed on any exit
_claims: set[str] = set()  # empty files claiming a name where there are no hard links
_lock = threading.Lock()
MAX_RENAMES = 1000
TMP_STEM = 40  # characters of the target's name in the temporary one: a 255-byte name must fit
TMP_SUFFIX = ".deerimg-tmp"
# What tempfile.mkstemp(prefix=f".{stem}.", suffix=TMP_SUFFIX) makes: 8 random [a-z0-9_].
TMP_NAME = re.compile(rf"\..{{0,{TMP_STEM}}}\.[a-z0-9_]{{8}}{re.escape(TMP_SUFFIX)}", re.DOTALL)
UNLOCKED_AGE = 600.0  # seconds: where files cannot be locked, a temporary this old is stale


def remove_temporary_files() -> None:
    """Remove every temporary file still being written (Ctrl-C, a second Ctrl-C, a crash),
    and every name claimed for a rename that has not happened: a 0-byte file at a target."""
    with _lock:
        paths = list(_live)
        _live.clear()
        claims = list(_claims)
        _claims.clear()
    for path in paths:
        with contextlib.suppress(OSError):
            Path(path).unlink()
    for path in claims:
        with contextlib.suppress(OSError):
            if Path(path).stat().st_size == 0:  # still the claim: an image is never empty
                Path(path).unlink()


def passing(path: Path, *, gone: bool = False) -> None:
    """PATH is a whole file the run removes once done with it (a partial image): until it is
    GONE, a run stopped at once removes it with the temporary files."""
    with _lock:
        (_live.discard if gone else _live.add)(str(path))


def write_stdout(chunks: Iterable[Buffer]) -> int:
    out = sys.stdout.buffer
    size = 0
    for chunk in chunks:
        out.write(chunk)
        size += len(chunk)
    out.flush()
    return size


def write_file(
    chunks: Iterable[Buffer], path: Path, *, replace: bool, rename_on_clash: bool
) -> tuple[Path, int]:
    """Write CHUNKS to PATH through a temporary file; returns the final path and the size.

    replace: overwrite an existing PATH (--force). Otherwise the file is put in place with a hard
    link, which fails when the name exists, so no other process's file is ever replaced; then
    rename_on_clash moves on to PATH-2, PATH-3, … and otherwise the write fails.
    """
    folder = path.parent
    fd, tmp = _temporary(folder, path.stem)
    with _lock:
        _live.add(tmp)
    # Held until the temporary file is gone: another run clearing stale ones leaves it alone.
    locked = _lock_file(fd)
    try:
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise DeerimgError(f"cannot write {path}: {exc.strerror}") from None
        final = _place(Path(tmp), path, replace=replace, rename_on_clash=rename_on_clash)
    finally:
        with _lock:
            _live.discard(tmp)
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        if locked is not None:
            os.close(locked)
    sync_folder(folder)  # the new name, and the temporary one gone, survive a power cut
    return final, size


def _temporary(folder: Path, stem: str) -> tuple[int, str]:
    """A new temporary file in FOLDER, made first if missing: a run makes its output folders at
    its first write, so one that stops before writing (a refused key) leaves no empty folder."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=folder, prefix=f".{stem[:TMP_STEM]}.", suffix=TMP_SUFFIX)
    except OSError as exc:
        raise DeerimgError(f"cannot write in {folder}: {exc.strerror}") from None


def sync_folder(folder: Path) -> None:
    """fsync FOLDER, so the names just linked or removed in it are on the disk (where a folder
    can be opened and synced: not on Windows, nor on some network file systems)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lock_file(fd: int) -> int | None:
    """An exclusive lock on FD's file, held by a second descriptor of it (the first is closed
    when the bytes are written); None where files cannot be locked."""
    try:
        import fcntl
    except ImportError:  # Windows: an open file cannot be removed there anyway
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.dup(fd)
    except OSError:
        return None


def clear_stale_temporaries(folder: Path, started: float) -> list[str]:
    """Remove deerimg's own temporary files that earlier runs left in FOLDER (a kill -9, a
    power cut); the names removed.

    Stale: named as write_file names them, a regular file last written before STARTED (this
    run's wall-clock start), and not locked, so not being written by a run going on now; where
    files cannot be locked, older than UNLOCKED_AGE. They are removed, not linked in: the name
    they were for is not in theirs (cut to 40 characters, no extension), and a --skip-existing
    re-run then pays again only for what no run finished.
    """
    try:
        entries = [e.name for e in os.scandir(folder) if TMP_NAME.fullmatch(e.name)]
    except OSError:
        return []
    removed = []
    for name in entries:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= started:
                continue
            free = _try_lock(fd)
            if free is False or (free is None and info.st_mtime > time.time() - UNLOCKED_AGE):
                continue
            if os.lstat(path).st_ino == info.st_ino:  # still the file just looked at
                path.unlink()
                removed.append(name)
        except OSError:
            continue
        finally:
            os.close(fd)
    if removed:
        sync_folder(folder)
    return removed


def _try_lock(fd: int) -> bool | None:
    """True: FD's file was not locked (and now is, by us); False: someone holds it; None: this
    system or file system cannot tell."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _place(tmp: Path, path: Path, *, replace: bool, rename_on_clash: bool) -> Path:
    try:
        tmp.chmod(_default_mode())
        if replace:
            tmp.replace(path)
            return path
    except OSError as exc:  # --force onto a folder, a read-only file system, …
        raise DeerimgError(f"cannot write {path}: {exc.strerror}") from None
    candidate = path
    for k in range(2, MAX_RENAMES + 2):
        try:
            _link_exclusive(tmp, candidate)
            return candidate
        except FileExistsError:
            if not rename_on_clash:
                raise DeerimgError(
                    f"{candidate} was created by someone else meanwhile; not replaced",
                    hint="use --force to overwrite",
                ) from None
            candidate = numbered(path, k)
        except OSError as exc:
            raise DeerimgError(f"cannot write {candidate}: {exc.strerror}") from None
    raise DeerimgError(f"no free name near {path}")


def numbered(path: Path, k: int) -> Path:
    """slug.png → slug-K.png: the one way a taken or extra name is numbered."""
    return path.with_name(f"{path.stem}-{k}{path.suffix}")


_NO_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


def _link_exclusive(tmp: Path, target: Path) -> None:
    """Put TMP at TARGET only if TARGET does not exist (a hard link, or an exclusive create)."""
    try:
        target.hardlink_to(tmp)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # No hard links here (some network and FAT file systems): claim the name exclusively,
        # then rename the finished file over our own empty claim.
        claim = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.close(claim)
        with _lock:
            _claims.add(str(target))  # a second Ctrl-C (os._exit) removes it too
        try:
            tmp.replace(target)
        except BaseException:
            target.unlink(missing_ok=True)  # our empty claim: never leave a 0-byte image
            raise
        finally:
            with _lock:
                _claims.discard(str(target))


_umask_mode: int | None = None


def _default_mode() -> int:
    """0666 less the umask, as an ordinary new file gets (mkstemp makes 0600)."""
    global _umask_mode
    if _umask_mode is None:
        with _lock:
            mask = os.umask(0)
            os.umask(mask)
        _umask_mode = 0o666 & ~mask
    return _umask_mode
