"""Issue 11: `deerimg edit` through the real command line against the fake DeerAPI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.fake import make_image


def write_image(name: str, fmt: str = "png", size: tuple[int, int] = (64, 48)) -> Path:
    path = Path(name)
    path.write_bytes(make_image(fmt, *size))
    return path


def write_mask(name: str, size: tuple[int, int] = (64, 48), alpha: bool = True) -> Path:
    image = Image.new("RGBA" if alpha else "RGB", size)
    image.save(name, format="PNG")
    return Path(name)


def test_edit_with_mask_writes_the_image(fake_api, invoke):
    write_image("photo.png")
    write_mask("m.png")
    result = invoke("edit", "photo.png", "make it night", "--mask", "m.png", "-o", "night.png",
                    "--input-fidelity", "high")  # fmt: skip
    assert result.exit_code == 0, result
    assert result.stdout == "night.png\n"
    with Image.open("night.png") as image:
        assert image.format == "PNG"
    (request,) = fake_api.edit_requests()
    assert request.json == {"model": "gpt-image-2", "prompt": "make it night",
                            "output_format": "png", "input_fidelity": "high"}  # fmt: skip
    parts = {part.name: part for part in request.parts if part.filename}
    assert parts["image"].filename == "photo.png"
    assert parts["image"].content_type == "image/png"
    assert parts["image"].data == Path("photo.png").read_bytes()
    assert parts["mask"].data == Path("m.png").read_bytes()


def test_several_images_are_image_array_parts_with_base_names(fake_api, invoke):
    Path("in").mkdir()
    write_image("in/a.png")
    write_image("in/b.jpg", "jpeg")
    write_image("in/c.webp", "webp")
    result = invoke("edit", "in/a.png", "in/b.jpg", "in/c.webp", "combine them")
    assert result.exit_code == 0, result
    assert result.stdout == "a-edit.png\n"
    (request,) = fake_api.edit_requests()
    files = [(p.name, p.filename, p.content_type) for p in request.parts if p.filename]
    assert files == [("image[]", "a.png", "image/png"), ("image[]", "b.jpg", "image/jpeg"),
                     ("image[]", "c.webp", "image/webp")]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda: None, ["missing.png", "x"], "missing.png does not exist"),
        (lambda: Path("t.png").write_text("text"), ["t.png", "x"], "not a PNG, JPEG or WebP"),
        (lambda: (write_image("p.png"), write_mask("m.png", alpha=False)),
         ["p.png", "x", "--mask", "m.png"], "has no alpha channel"),
        (lambda: (write_image("p.png"), write_mask("m.png", size=(10, 10))),
         ["p.png", "x", "--mask", "m.png"], "is 10x10, but p.png is 64x48"),
        (lambda: (write_image("p.png"), write_image("m.jpg", "jpeg")),
         ["p.png", "x", "--mask", "m.jpg"], "must be a PNG"),
        (lambda: write_image("p.png"), ["p.png", "x", "-o", "p.png", "--force"],
         "is an input of this edit"),
    ],
)  # fmt: skip
def test_inputs_are_checked_before_sending(fake_api, invoke, setup, args, message):
    setup()
    result = invoke("edit", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert fake_api.requests == []


def test_batch_edits_the_same_images_with_many_prompts(fake_api, invoke):
    write_image("photo.png")
    write_image("other.png")
    Path("p.txt").write_text('make it night\n{"prompt": "make it snow", "image": "other.png"}\n')
    result = invoke("edit", "photo.png", "-f", "p.txt")
    assert result.exit_code == 0, result
    assert sorted(result.stdout.split()) == ["other-edit.png", "photo-edit.png"]
    names = sorted(
        next(p.filename for p in r.parts if p.filename) for r in fake_api.edit_requests()
    )
    assert names == ["other.png", "photo.png"]


def test_dry_run_lists_files_not_bytes(fake_api, invoke, monkeypatch):
    monkeypatch.delenv("DEERAPI_KEY")
    write_image("photo.png")
    result = invoke("edit", "photo.png", "make it night", "--dry-run")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert record["url"].endswith("/v1/images/edits")
    assert record["files"] == [{"field": "image", "file": "photo.png", "name": "photo.png",
                                "type": "image/png",
                                "bytes": Path("photo.png").stat().st_size}]  # fmt: skip
    assert record["outputs"] == ["photo-edit.png"]
    assert fake_api.requests == []


def test_edit_errors_are_retried_like_generate(fake_api, invoke):
    write_image("photo.png")
    fake_api.queue({"status": 503, "retry_after_ms": "1"})
    result = invoke("edit", "photo.png", "make it night")
    assert result.exit_code == 0, result
    assert len(fake_api.edit_requests()) == 2
    # the files are sent whole again on the retry
    for request in fake_api.edit_requests():
        image = next(p for p in request.parts if p.filename)
        assert image.data == Path("photo.png").read_bytes()


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_prompt_that_names_an_image_file_is_refused(fake_api, invoke, dry_run):
    """Issue 16 (finding 15): `edit photo.png photo-edit.png`, the prompt forgotten, paid for an
    edit whose prompt was "photo-edit.png"."""
    write_image("photo.png")
    write_image("dog.png", "jpeg")
    result = invoke("edit", "photo.png", "dog.png", *dry_run)
    assert result.exit_code == 2, result
    assert "error: the prompt 'dog.png' is an image file: did you forget the prompt?" in (
        result.stderr
    )
    assert result.stdout == ""
    assert fake_api.requests == []


def test_a_prompt_that_names_another_file_is_sent(fake_api, invoke):
    write_image("photo.png")
    Path("notes").write_text("not an image")
    result = invoke("edit", "photo.png", "notes", "--dry-run")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["body"]["prompt"] == "notes"
