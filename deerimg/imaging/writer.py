"""Atomic writes: a temporary file in the target folder, then a link refusing an existing name."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from deerimg.errors import DeerimgError
from deerimg.imaging.formats import Buffer

_live: set[str] = set()  # temporary files being written, removed on any exit
_claims: set[str] = set()  # empty files claiming a name where there are no hard links
_lock = threading.Lock()
MAX_RENAMES = 1000
TMP_STEM = 40  # characters of the target's name in the temporary one: a 255-byte name must fit


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
    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f".{path.stem[:TMP_STEM]}.", suffix=".deerimg-tmp"
        )
    except OSError as exc:
        raise DeerimgError(f"cannot write in {folder}: {exc.strerror}") from None
    with _lock:
        _live.add(tmp)
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
        return final, size
    finally:
        with _lock:
            _live.discard(tmp)
        with contextlib.suppress(OSError):
            Path(tmp).unlink()


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
