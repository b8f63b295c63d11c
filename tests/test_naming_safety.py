"""Names whose extension the answer picks: inputs, clashes, extras and --skip-existing re-runs."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from PIL import Image

from tests.fake import make_image
from tests.helpers import names_in, prompts_sent


def two_images_for_one(fake_api) -> None:
    """The next answer holds two images, whatever n was asked for (a gateway ignoring n)."""
    b64 = base64.b64encode(fake_api.expected_image("png", "1024x1024")).decode()
    body = {"created": 1, "data": [{"b64_json": b64}, {"b64_json": b64}]}
    fake_api.queue({"body": json.dumps(body), "content_type": "application/json"})


# -- 1: an edit never writes over its own input -----------------------------------------------


def test_edit_output_without_extension_never_replaces_its_input(fake_api, invoke):
    Path("photo.jpg").write_bytes(make_image("jpeg", 64, 48))
    before = Path("photo.jpg").read_bytes()
    fake_api.always(wrong_format="jpeg")  # the model answers in the input's type
    result = invoke("edit", "photo.jpg", "make it night", "-o", "photo", "--force")
    assert result.exit_code == 2, result
    assert "photo.jpg is an input of this edit" in result.stderr
    assert fake_api.requests == []
    assert Path("photo.jpg").read_bytes() == before


# -- 2: one slug, two formats -----------------------------------------------------------------


def test_same_slug_in_another_format_is_not_taken_for_done(fake_api, invoke):
    Path("batch.txt").write_text('a cat\n{"prompt": "A cat!", "output_format": "jpeg"}\n')
    fake_api.reject_prompts("a cat")  # the first prompt fails; the second is saved
    first = invoke("generate", "-f", "batch.txt", "--no-history")
    assert first.exit_code == 1, first
    fake_api.reset()
    again = invoke("generate", "-f", "batch.txt", "--skip-existing", "--no-history")
    assert again.exit_code == 0, again
    assert prompts_sent(fake_api) == ["a cat"]  # the one never made, and only it
    assert names_in() == ["a-cat-2.jpg", "a-cat.png", "batch.txt"]


def test_explicit_names_in_two_fixed_formats_do_not_clash(fake_api, invoke):
    Path("p.txt").write_text(
        '{"prompt": "x", "output": "a.png"}\n{"prompt": "y", "output": "a.jpg"}\n'
    )
    result = invoke("generate", "-f", "p.txt", "--no-history")
    assert result.exit_code == 0, result
    assert names_in() == ["a.jpg", "a.png", "p.txt"]


def test_explicit_name_without_extension_clashes_with_every_format(fake_api, invoke):
    Path("p.txt").write_text('{"prompt": "x", "output": "a"}\n{"prompt": "y", "output": "a.jpg"}\n')
    result = invoke("generate", "-f", "p.txt", "--no-history")
    assert result.exit_code == 2, result
    assert "prompt 1 and prompt 2 would both write a.jpg" in result.stderr
    assert fake_api.requests == []


# -- 3: images beyond those asked for ---------------------------------------------------------


def test_extra_image_never_takes_a_name_planned_for_another_prompt(fake_api, invoke):
    Path("batch.txt").write_text("Cat\ncat!\n")
    two_images_for_one(fake_api)  # prompt 1 (n=1) gets two images
    fake_api.reject_prompts("cat!")
    first = invoke("generate", "-f", "batch.txt", "-j", "1", "--no-history")
    assert first.exit_code == 1, first
    assert "cat-2.png" not in names_in()  # prompt 2's name, though prompt 2 made nothing
    fake_api.reset()
    again = invoke("generate", "-f", "batch.txt", "--skip-existing", "--no-history")
    assert again.exit_code == 0, again
    assert prompts_sent(fake_api) == ["cat!"]
    assert again.stdout == "cat-2.png\n"


# -- 4: -o with no extension, then a re-run ---------------------------------------------------


def test_output_without_extension_is_found_again_in_its_real_type(fake_api, invoke):
    fake_api.always(wrong_format="jpeg")  # the answer is a JPEG, so -o out saves out.jpg
    first = invoke("generate", "a cat", "-o", "out", "--no-history")
    assert (first.exit_code, first.stdout) == (0, "out.jpg\n"), first
    saved = Path("out.jpg").read_bytes()
    fake_api.reset()
    skipped = invoke("generate", "a cat", "-o", "out", "--skip-existing", "--no-history")
    assert skipped.exit_code == 0, skipped
    assert fake_api.requests == []
    refused = invoke("generate", "a cat", "-o", "out", "--no-history")
    assert refused.exit_code == 2, refused
    assert "out.jpg exists" in refused.stderr
    assert fake_api.requests == []
    assert names_in() == ["out.jpg"]
    assert Path("out.jpg").read_bytes() == saved


# -- 5: -o - and an answer with more than one image -------------------------------------------


def test_stdout_output_with_extra_images_warns_without_a_traceback(fake_api, invoke):
    two_images_for_one(fake_api)
    result = invoke("generate", "a cat", "-o", "-", "--no-history")
    assert result.exit_code == 0, result
    with Image.open(io.BytesIO(result.stdout_bytes)) as image:  # one whole image, nothing more
        image.load()
        assert image.format == "PNG"
    assert "warning: the API sent 2 images" in result.stderr
    assert "Traceback" not in result.stderr
    assert names_in() == []


# -- 6: a prompt partly made asks only for the images it lacks ---------------------------------


def test_skip_existing_resumes_a_prompt_partly_made(fake_api, invoke):
    b64 = base64.b64encode(fake_api.expected_image("png", "1024x1024")).decode()
    body = {"created": 1, "data": [{"b64_json": b64}, {"b64_json": "!!not base64**"}]}
    fake_api.queue({"body": json.dumps(body), "content_type": "application/json"})
    first = invoke("generate", "a cat", "-n", "3", "-o", "out.png", "--no-history")
    assert first.exit_code == 1
    assert names_in() == ["out-1.png"]  # the one good image is kept

    fake_api.reset()
    dry = invoke("generate", "a cat", "-n", "3", "-o", "out.png", "--skip-existing", "--dry-run")
    assert dry.exit_code == 0, dry
    (request,) = [json.loads(line) for line in dry.stdout.splitlines()]
    assert request["body"]["n"] == 2
    assert request["outputs"] == ["out-2.png", "out-3.png"]

    again = invoke("generate", "a cat", "-n", "3", "-o", "out.png", "--skip-existing")
    assert again.exit_code == 0, again
    (sent,) = fake_api.generation_requests()
    assert sent.json["n"] == 2  # pays only for what is missing
    assert names_in() == ["out-1.png", "out-2.png", "out-3.png"]


def test_skip_existing_resumes_default_names_too(fake_api, invoke):
    Path("a-cat-2.png").write_bytes(make_image("png", 8, 8))
    result = invoke("generate", "a cat", "-n", "3", "--skip-existing", "--no-history")
    assert result.exit_code == 0, result
    (sent,) = fake_api.generation_requests()
    assert sent.json["n"] == 2
    assert names_in() == ["a-cat-1.png", "a-cat-2.png", "a-cat-3.png"]


def test_more_images_than_asked_are_kept_and_said(fake_api, invoke):
    """Hostile run 20: 30 images for n=1 were written with no word."""
    fake_api.always(images=3)
    result = invoke("generate", "a cat", "-o", "cat.png", "--no-history")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == ["cat.png", "cat-2.png", "cat-3.png"]
    assert "the API sent 3 images for the 1 asked; the 2 more were paid for" in result.stderr
    assert "(request id req_" in result.stderr
