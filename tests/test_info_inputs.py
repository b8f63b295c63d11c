"""`deerimg info` looks before it reads: no FIFO, device or folder, the first bytes sniffed, the
size capped (issue 16, finding 10)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from deerimg.imaging import metadata
from tests.fake import make_image
from tests.helpers import error_lines

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero")


@posix_only
def test_a_fifo_is_refused_at_once(cli_subprocess: Any) -> None:
    os.mkfifo("fifo.png")  # nobody ever writes to it: reading it would wait for ever
    done = cli_subprocess(["info", "fifo.png"], timeout=20)
    assert (done.returncode, done.stdout) == (2, b"")
    assert error_lines(done.stderr.decode()) == [
        "error: fifo.png is not a regular file (a pipe or a device); not read"
    ]


@posix_only
def test_dev_zero_is_refused_at_once(cli_subprocess: Any) -> None:
    done = cli_subprocess(["info", "/dev/zero"], timeout=20)
    assert done.returncode == 2
    assert error_lines(done.stderr.decode()) == [
        "error: /dev/zero is not a regular file (a pipe or a device); not read"
    ]


def test_a_folder_is_refused(invoke: Any) -> None:
    Path("pictures.png").mkdir()
    outcome = invoke("info", "pictures.png")
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: pictures.png is a folder, not an image"]


def test_a_missing_file_is_named(invoke: Any) -> None:
    outcome = invoke("info", "missing.png")
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: missing.png does not exist"]


def test_a_file_over_the_cap_is_refused_before_it_is_read(
    invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Path("huge.png").open("wb") as handle:  # sparse: a PNG signature, then 1 GiB of holes
        handle.write(make_image("png", 8, 8)[:16])
        handle.truncate(1 << 30)
    read = _count_reads(monkeypatch)
    outcome = invoke("info", "huge.png")
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: huge.png is 1,073.7 MB; info reads at most 256 MB"]
    assert read == []


def test_a_file_that_is_no_image_is_told_from_its_first_bytes(
    invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Path("video.png").open("wb") as handle:
        handle.write(b"\x00\x00\x00\x20ftypisom")
        handle.truncate(200 << 20)  # under the cap, but only its first bytes are read
    read = _count_reads(monkeypatch)
    outcome = invoke("info", "video.png")
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: video.png is not a PNG, JPEG, WebP, GIF or SVG image"]
    assert sum(read) <= metadata.HEAD


def test_an_image_under_the_cap_is_read_whole(invoke: Any) -> None:
    Path("small.png").write_bytes(make_image("png", 8, 8))
    outcome = invoke("info", "small.png", "--json")
    assert outcome.exit_code == 0, outcome
    assert json.loads(outcome.stdout)[0]["bytes"] == Path("small.png").stat().st_size


@posix_only
def test_a_sidecar_that_is_a_fifo_or_too_large_is_not_read(
    cli_subprocess: Any, tmp_path: Path
) -> None:
    Path("a.png").write_bytes(make_image("png", 8, 8))
    os.mkfifo("a.png.json")
    done = cli_subprocess(["info", "a.png", "--json"], timeout=20)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["record"] is None
    Path("b.png").write_bytes(make_image("png", 8, 8))
    with Path("b.png.json").open("wb") as handle:
        handle.truncate(metadata.MAX_SIDECAR + 1)
    done = cli_subprocess(["info", "b.png"], timeout=20)
    assert done.returncode == 0, done.stderr
    assert "warning: b.png.json is not readable JSON; ignored" in done.stderr.decode()


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the reads `info` makes from now on."""
    sizes: list[int] = []
    real = os.read

    def counted(fd: int, size: int) -> bytes:
        sizes.append(size)
        return real(fd, size)

    monkeypatch.setattr(metadata.os, "read", counted)
    return sizes
