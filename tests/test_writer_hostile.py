"""Issue 16: the writer in a hostile world: a power cut after "saved", the temporary files of a
run that was killed, a folder that is not there yet."""

from __future__ import annotations

import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deerimg.imaging import writer


def test_the_folder_is_synced_after_the_image_is_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 13: the file was synced, its new name in the folder was not."""
    synced: list[tuple[bool, bool]] = []  # (a folder, the image in place by then)
    real_fsync = os.fsync
    target = tmp_path / "out" / "x.png"

    def fsync(fd: int) -> None:
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    writer.write_file([b"image"], target, replace=False, rename_on_clash=True)
    assert synced == [(False, False), (True, True)]  # the file's bytes, then the folder's names
    assert [p.name for p in target.parent.iterdir()] == ["x.png"]


def test_the_temporary_file_is_locked_while_it_is_written(tmp_path: Path) -> None:
    seen: list[bool] = []

    def chunks() -> Iterator[bytes]:
        (tmp,) = tmp_path.glob(".x.*.deerimg-tmp")
        with tmp.open("rb") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen.append(False)
            except BlockingIOError:
                seen.append(True)
        yield b"image"

    writer.write_file(chunks(), tmp_path / "x.png", replace=False, rename_on_clash=True)
    assert seen == [True]


def stale(path: Path, age: float = 3600) -> Path:
    path.write_bytes(b"\x89PNG")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_only_deerimgs_own_stale_unlocked_temporary_files_are_removed(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    started = time.time()
    gone = [stale(tmp_path / n) for n in (".a.abcd_123.deerimg-tmp", "..k2ndhk_o.deerimg-tmp")]
    kept = [
        stale(tmp_path / ".b.abcd1234.deerimg-tmp", age=-5),  # written since the run began
        stale(tmp_path / ".c.abc.deerimg-tmp"),  # not a name mkstemp makes
        stale(tmp_path / "d.abcd1234.deerimg-tmp"),
        stale(tmp_path / ".e.abcd1234.deerimg-tmp.png"),
        stale(tmp_path / "image.png"),
    ]
    (tmp_path / ".f.abcd1234.deerimg-tmp").mkdir()
    (tmp_path / ".g.abcd1234.deerimg-tmp").symlink_to(gone[0].name)
    locked = stale(tmp_path / ".h.abcd1234.deerimg-tmp")
    with locked.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another run, writing it now
        removed = writer.clear_stale_temporaries(tmp_path, started)
    assert sorted(removed) == sorted(p.name for p in gone)
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in [*kept, locked])
    assert (tmp_path / ".f.abcd1234.deerimg-tmp").is_dir()
    assert (tmp_path / ".g.abcd1234.deerimg-tmp").is_symlink()


def test_a_missing_folder_is_made_at_the_first_write(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "x.png"
    final, _ = writer.write_file([b"image"], target, replace=False, rename_on_clash=True)
    assert final == target and target.read_bytes() == b"image"
