"""Issue 17: `-i/--image` reference images, placed as each model's family takes them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PIL import Image

from tests.fake import make_image

SEEDREAM = "doubao-seedream-4-5-251128"


def write_image(name: str, fmt: str = "png", size: tuple[int, int] = (64, 48)) -> bytes:
    data = make_image(fmt, *size)
    Path(name).write_bytes(data)
    return data


def data_url(fmt: str, data: bytes) -> str:
    return f"data:image/{fmt};base64,{base64.b64encode(data).decode()}"


def test_two_references_reach_seedream_as_two_data_urls(fake_api, invoke) -> None:
    """The issue's "done when": -i ref.png -i ref2.jpg reaches Seedream as two data URLs."""
    png = write_image("ref.png")
    jpeg = write_image("ref2.jpg", "jpeg")
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-i", "ref.png", "-i", "ref2.jpg",
                    "-o", "fox.jpg")  # fmt: skip
    assert result.exit_code == 0, result
    assert fake_api.edit_requests() == []
    (sent,) = fake_api.generation_requests()
    assert sent.json["image"] == [data_url("png", png), data_url("jpeg", jpeg)]
    assert Path("fox.jpg").exists()
    # The record of the image names the model, not megabytes of base64.
    record = json.loads(invoke("info", "fox.jpg", "--json").stdout)[0]["record"]
    assert "base64" not in json.dumps(record)


def test_one_reference_goes_as_one_string_and_a_url_as_given(fake_api, invoke) -> None:
    png = write_image("ref.png")
    url = "https://example.com/cat.png?X-Tos-Expires=86400"
    assert invoke("generate", "a", "-m", SEEDREAM, "-i", "ref.png", "-o", "a.jpg").exit_code == 0
    assert invoke("generate", "b", "-m", SEEDREAM, "-i", url, "-o", "b.jpg").exit_code == 0
    both = invoke("generate", "c", "-m", SEEDREAM, "-i", "ref.png", "-i", url, "-o", "c.jpg")
    assert both.exit_code == 0, both
    first, second, third = (r.json["image"] for r in fake_api.generation_requests())
    assert first == data_url("png", png)
    assert second == url
    assert third == [url, data_url("png", png)]


def test_references_reach_gpt_image_as_an_edit(fake_api, invoke) -> None:
    write_image("ref.png")
    write_image("ref2.jpg", "jpeg")
    result = invoke("generate", "a fox", "-m", "gpt-image-2", "-i", "ref.png", "-i", "ref2.jpg",
                    "-o", "fox.png")  # fmt: skip
    assert result.exit_code == 0, result
    assert fake_api.generation_requests() == []
    (sent,) = fake_api.edit_requests()
    files = [(part.name, part.filename) for part in sent.parts if part.filename]
    assert files == [("image[]", "ref.png"), ("image[]", "ref2.jpg")]
    assert sent.json["prompt"] == "a fox"
    assert result.stdout == "fox.png\n"  # generate's name, not an edit's photo-edit


def test_dry_run_shows_each_family_its_endpoint_and_names_inline_files(fake_api, invoke) -> None:
    write_image("ref.png")
    shown = {}
    for model in (SEEDREAM, "gpt-image-2"):
        result = invoke("generate", "a fox", "-m", model, "-i", "ref.png", "--dry-run", "--json")
        assert result.exit_code == 0, result
        shown[model] = json.loads(result.stdout)
    assert shown[SEEDREAM]["url"].endswith("/v1/images/generations")
    assert "image" not in shown[SEEDREAM]["body"]  # the file joins as a data URL when sent
    assert shown[SEEDREAM]["files"][0]["as"] == "data URL in the JSON body"
    assert shown[SEEDREAM]["files"][0]["file"] == "ref.png"
    assert shown["gpt-image-2"]["url"].endswith("/v1/images/edits")
    assert "as" not in shown["gpt-image-2"]["files"][0]
    assert fake_api.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "dall-e-3", "-i", "ref.png"], "DALL·E 3 takes no reference images"),
        (["-m", "doubao-seedream-3-0-t2i-250415", "-i", "ref.png"], "takes no reference images"),
        (
            ["-m", "doubao-seededit-3-0-i2i-250628", "-i", "ref.png", "-i", "ref.png"],
            "SeedEdit 3.0 takes at most 1 reference image, not 2",
        ),
        (
            ["-m", "gpt-image-2", "-i", "https://example.com/a.png"],
            "takes reference images as files (an edit), not as URLs",
        ),
        (["-m", SEEDREAM, "-n", "14", "-i", "ref.png", "-i", "ref.png"], "(allowed: 1 to 10)"),
        (
            ["-m", SEEDREAM, "-n", "10", *["-i", "ref.png"] * 6],
            "at most 15 images with its references together: 6 reference image(s) + 10",
        ),
        (["-m", "gpt-image-2", "-i", "missing.png"], "reference image missing.png does not exist"),
        (["-m", "gpt-image-2", "-i", "notes.txt"], "is not a PNG, JPEG or WebP image"),
        (["-m", "gpt-image-2", "-i", "ref.png", "-p", "image=x"], "-p image=… is not a file"),
    ],
)
def test_references_a_family_refuses_are_refused_before_sending(
    fake_api, invoke, args, message
) -> None:
    write_image("ref.png")
    Path("notes.txt").write_text("not an image")
    result = invoke("generate", "a fox", *args, "-o", "fox.png")
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert fake_api.requests == []


def test_edit_with_seedream_sends_its_images_inline_and_refuses_a_mask(fake_api, invoke) -> None:
    png = write_image("photo.png")
    result = invoke("edit", "photo.png", "make it night", "-m", SEEDREAM)
    assert result.exit_code == 0, result
    (sent,) = fake_api.generation_requests()
    assert sent.json["image"] == data_url("png", png)
    assert result.stdout.strip() == "photo-edit.jpg"
    Image.new("RGBA", (64, 48)).save("m.png")
    masked = invoke("edit", "photo.png", "x", "-m", SEEDREAM, "--mask", "m.png")
    assert masked.exit_code == 2
    assert "Seedream 4.5 takes no mask" in masked.stderr


def test_a_prompt_file_line_names_its_own_references(fake_api, invoke) -> None:
    png = write_image("a.png")
    Path("prompts.jsonl").write_text(
        json.dumps({"prompt": "one", "image": "a.png"}) + "\n"
        + json.dumps({"prompt": "two", "image": ["https://example.com/b.png"]}) + "\n"
        + json.dumps({"prompt": "three"}) + "\n"
    )  # fmt: skip
    result = invoke("generate", "-m", SEEDREAM, "-f", "prompts.jsonl", "-d", "out")
    assert result.exit_code == 0, result
    sent = {r.json["prompt"]: r.json.get("image") for r in fake_api.generation_requests()}
    assert sent == {"one": data_url("png", png), "two": "https://example.com/b.png", "three": None}


def test_a_refused_reference_on_a_line_names_the_line(fake_api, invoke) -> None:
    Path("prompts.jsonl").write_text(json.dumps({"prompt": "one", "image": "nope.png"}) + "\n")
    result = invoke("generate", "-m", SEEDREAM, "-f", "prompts.jsonl")
    assert result.exit_code == 2
    assert "prompts.jsonl line 1: reference image nope.png does not exist" in result.stderr


def test_a_reference_retried_is_the_same_bytes(fake_api, invoke) -> None:
    """A 503 then a 200: the retry sends the same data URL (the payload is made once)."""
    png = write_image("ref.png")
    fake_api.queue({"status": 503})
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-i", "ref.png", "-o", "fox.jpg",
                    "--retries", "1")  # fmt: skip
    assert result.exit_code == 0, result
    images = [r.json["image"] for r in fake_api.generation_requests()]
    assert images == [data_url("png", png)] * 2
