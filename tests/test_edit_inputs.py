"""`edit`'s inputs at their edges: a line's own images with the command line's mask, pipes,
NUL and non-UTF-8 names, a file gone by the retry, a JPEG whose size lies past the first 64 KB."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from deerimg.wire import send
from tests.fake import make_image
from tests.helpers import ledger_path
from tests.test_edit import write_image, write_mask


@pytest.mark.parametrize("line_size", [32, 64])
def test_a_lines_own_image_is_checked_against_the_command_lines_mask(fake_api, invoke, line_size):
    write_image("a.png", size=(64, 64))
    write_image("b.png", size=(line_size, line_size))
    write_mask("mask64.png", size=(64, 64))
    Path("lines.jsonl").write_text('{"prompt": "night", "image": "b.png"}\n')
    result = invoke("edit", "a.png", "--file", "lines.jsonl", "--mask", "mask64.png")
    if line_size != 64:
        assert result.exit_code == 2, result
        assert "lines.jsonl line 1: mask mask64.png is 64x64, but b.png is 32x32" in result.stderr
        assert fake_api.requests == []
        return
    assert result.exit_code == 0, result  # the mask fits the line's image: sent with it
    (request,) = fake_api.edit_requests()
    assert [(p.name, p.filename) for p in request.parts if p.filename] == [
        ("image", "b.png"),
        ("mask", "mask64.png"),
    ]


@pytest.mark.parametrize("role", ["image", "mask"])
def test_a_named_pipe_is_refused_before_anything_is_read(fake_api, cli_subprocess, role):
    """A FIFO (or <(cmd)) would be read by the check and be empty, or block, when sent."""
    write_image("p.png")
    os.mkfifo("pipe.png")
    args = ["p.png", "x", "--mask", "pipe.png"] if role == "mask" else ["pipe.png", "x"]
    try:
        done = cli_subprocess(["edit", *args], timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("deerimg waited on the pipe instead of refusing it")
    assert done.returncode == 2, done.stderr
    assert f"{role} pipe.png is not a regular file" in done.stderr.decode()
    assert fake_api.requests == []


def test_a_device_is_refused_and_a_link_to_a_file_is_fine(fake_api, invoke):
    result = invoke("edit", "/dev/null", "x")
    assert result.exit_code == 2, result
    assert "image /dev/null is not a regular file" in result.stderr
    write_image("real.png")
    Path("link.png").symlink_to("real.png")
    result = invoke("edit", "link.png", "x")
    assert result.exit_code == 0, result
    assert len(fake_api.edit_requests()) == 1


@pytest.mark.parametrize("field", ["image", "mask"])
def test_a_nul_in_a_lines_path_is_a_usage_error_naming_the_line(fake_api, invoke, field):
    write_image("p.png")
    line = json.dumps({"prompt": "night", field: "p\0.png"})
    Path("lines.jsonl").write_text(f'{{"prompt": "ok"}}\n{line}\n')
    result = invoke("edit", "p.png", "--file", "lines.jsonl")
    assert result.exit_code == 2, result
    assert "lines.jsonl line 2: " in result.stderr
    assert "NUL" in result.stderr
    assert fake_api.requests == []


def test_a_non_utf8_file_name_is_sent_as_valid_utf8(fake_api, invoke):
    name = os.fsdecode(b"ph\xffoto.png")
    try:
        Path(name).write_bytes(make_image("png", 64, 48))
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system wants UTF-8 names")
    result = invoke("edit", name, "make it night", "-o", "out.png")
    assert result.exit_code == 0, result
    (request,) = fake_api.edit_requests()
    (image,) = (p for p in request.parts if p.filename)
    assert image.filename == "ph\ufffdoto.png"
    assert image.data == Path(name).read_bytes()
    # The ledger is UTF-8: the name's stray byte is a "?" there.
    ledger = ledger_path()
    (entry,) = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    assert entry["fields"]["files"] == ["ph?oto.png"]


def test_an_input_gone_before_the_retry_is_one_clear_error(fake_api, invoke, monkeypatch):
    write_image("photo.png")
    fake_api.queue({"status": 503, "retry_after_ms": "1"})
    wait = send.Sender._wait

    def wait_then_lose_the_file(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        wait(self, *args, **kwargs)
        Path("photo.png").rename("moved.png")

    monkeypatch.setattr(send.Sender, "_wait", wait_then_lose_the_file)
    result = invoke("edit", "photo.png", "make it night", "--retries", "1")
    assert result.exit_code == 1, result
    assert "cannot read input photo.png: No such file or directory" in result.stderr
    assert "unexpected" not in result.stderr.lower()
    assert len(fake_api.edit_requests()) == 1


def _jpeg_with_big_header(size: tuple[int, int]) -> bytes:
    """A JPEG whose APP segments (as a large ICC profile or EXIF makes) run past 64 KB."""
    data = make_image("jpeg", *size)
    payload = b"\x00" * 60000
    segment = b"\xff\xe2" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment * 3 + data[2:]


def test_a_jpeg_whose_size_is_past_64_kb_is_still_compared_with_the_mask(fake_api, invoke):
    Path("big.jpg").write_bytes(_jpeg_with_big_header((64, 64)))
    write_mask("mask32.png", size=(32, 32))
    result = invoke("edit", "big.jpg", "x", "--mask", "mask32.png")
    assert result.exit_code == 2, result
    assert "mask mask32.png is 32x32, but big.jpg is 64x64" in result.stderr
    assert fake_api.requests == []
    write_mask("mask64.png", size=(64, 64))
    result = invoke("edit", "big.jpg", "x", "--mask", "mask64.png")
    assert result.exit_code == 0, result


def test_a_first_image_of_unknown_size_is_refused_with_a_mask(fake_api, invoke):
    Path("odd.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)  # no frame header at all
    write_mask("m.png")
    result = invoke("edit", "odd.jpg", "x", "--mask", "m.png")
    assert result.exit_code == 2, result
    assert "cannot find the pixel size of odd.jpg" in result.stderr
    assert fake_api.requests == []


def test_edit_with_a_file_needs_no_image_argument_when_each_line_names_its_own(fake_api, invoke):
    write_image("a.png", size=(64, 64))
    write_image("b.png", size=(32, 32))
    write_mask("mask64.png", size=(64, 64))
    Path("lines.jsonl").write_text(
        '{"prompt": "night", "image": "a.png"}\n{"prompt": "dawn", "image": "b.png"}\n'
    )
    result = invoke("edit", "--file", "lines.jsonl")
    assert result.exit_code == 0, result
    assert sorted(r.json["prompt"] for r in fake_api.edit_requests()) == ["dawn", "night"]
    fake_api.reset()
    # The command line's mask goes with every line, checked against each line's own image.
    masked = invoke("edit", "--file", "lines.jsonl", "--mask", "mask64.png", "--dry-run")
    assert masked.exit_code == 2, masked
    assert "lines.jsonl line 2: mask mask64.png is 64x64, but b.png is 32x32" in masked.stderr
    Path("lines.jsonl").write_text('{"prompt": "night"}\n')
    bare = invoke("edit", "--file", "lines.jsonl", "--dry-run")
    assert bare.exit_code == 2
    assert "lines.jsonl line 1: no image to edit" in bare.stderr
    alone = invoke("edit", "make it night")
    assert alone.exit_code == 2
    assert "give the image(s) to edit, then the prompt" in alone.stderr
    assert fake_api.requests == []


@pytest.mark.parametrize(("name", "how"), [("image", "the IMAGE arguments"), ("mask", "--mask")])
def test_edit_refuses_p_image_and_p_mask(fake_api, invoke, name, how):
    write_image("a.png")
    result = invoke("edit", "a.png", "night", "-p", f"{name}=b.png")
    assert result.exit_code == 2, result
    assert f"-p {name}=… is not a file: give it with {how}" in result.stderr
    assert fake_api.requests == []


def test_inputs_are_streamed_with_a_content_length(fake_api, invoke):
    # Streamed from the open files (not read whole for every prompt), yet sized: a gateway that
    # refuses a chunked upload still takes it.
    write_image("a.png")
    write_image("b.png")
    result = invoke("edit", "a.png", "b.png", "night")
    assert result.exit_code == 0, result
    (request,) = fake_api.edit_requests()
    assert request.headers["content-length"] == str(len(request.body))
    assert "transfer-encoding" not in request.headers
    sent = {p.filename: p.data for p in request.parts if p.filename}
    assert sent == {"a.png": Path("a.png").read_bytes(), "b.png": Path("b.png").read_bytes()}
