"""Issue 18: Gemini's image models on their own endpoint, through the real command line."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PIL import Image

from deerimg.errors import DeerimgError
from deerimg.wire import gemini as wire_gemini
from tests.fake import gemini, make_image
from tests.helpers import ledger_entries, pixels

FLASH = "gemini-3.1-flash-image-preview"
PRO = "gemini-3-pro-image-preview"
OLD = "gemini-2.5-flash-image"


def write_image(name: str, fmt: str = "png") -> bytes:
    data = make_image(fmt, 64, 48)
    Path(name).write_bytes(data)
    return data


def test_the_issue_s_command_sends_the_documented_body(fake_api, invoke) -> None:
    """generate -m gemini-3.1… --aspect 16:9 --resolution 2K -i sketch.png -o fox.png."""
    sketch = write_image("sketch.png")
    result = invoke("generate", "a fox", "-m", FLASH, "--aspect", "16:9", "--resolution", "2K",
                    "-i", "sketch.png", "-o", "fox.png")  # fmt: skip
    assert result.exit_code == 0, result
    assert result.stdout == "fox.png\n"
    (sent,) = fake_api.gemini_requests()
    assert gemini.model_of(sent.path) == FLASH
    assert sent.headers["authorization"].startswith("Bearer ")
    assert sent.json == {
        "contents": [{"role": "user", "parts": [
            {"text": "a fox"},
            {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(sketch).decode()}},
        ]}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
        },
    }  # fmt: skip
    assert Path("fox.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads(invoke("info", "fox.png", "--json").stdout)[0]["record"]
    assert (record["prompt"], record["model"]) == ("a fox", FLASH)
    assert "contents" not in record["fields"]  # the prompt is its own field, not repeated
    (entry,) = ledger_entries()
    assert entry["fields"]["files"] == ["sketch.png"]
    assert entry["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("variant", gemini.IMAGE_VARIANTS)
def test_every_answer_shape_writes_the_image(fake_api, invoke, variant) -> None:
    fake_api.gemini_answer(variant)
    result = invoke("generate", "a fox", "-m", PRO, "-o", "fox.png", "--json")
    assert result.exit_code == 0, result
    # the answer's pixels, with deerimg's record added beside them
    assert pixels(Path("fox.png")) == pixels(fake_api.expected_gemini_image())
    assert len(fake_api.gemini_requests()) == 1


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("text_only", "the model answered with text, no image"),
        ("safety", "(finishReason SAFETY)"),
        ("prohibited_content", "(finishReason PROHIBITED_CONTENT)"),
        ("image_safety", "(finishReason IMAGE_SAFETY)"),
        ("recitation", "(finishReason RECITATION)"),
        ("blocked", "the prompt was blocked (SAFETY)"),
    ],
)
def test_every_refusal_is_one_error_line_and_one_request(fake_api, invoke, variant, message):
    fake_api.gemini_answer(variant)
    result = invoke("generate", "a fox", "-m", FLASH, "-o", "fox.png", "--retries", "3")
    assert result.exit_code == 1, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "request id" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(fake_api.gemini_requests()) == 1  # not retried: it would be refused again
    assert not Path("fox.png").exists()


def test_n_3_is_three_requests_each_one_image(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", FLASH, "-n", "3", "-o", "fox.png", "-j", "2")
    assert result.exit_code == 0, result
    assert sorted(result.stdout.split()) == ["fox-1.png", "fox-2.png", "fox-3.png"]
    assert len(fake_api.gemini_requests()) == 3
    # --skip-existing asks only for the missing one
    Path("fox-2.png").unlink()
    again = invoke("generate", "a fox", "-m", FLASH, "-n", "3", "-o", "fox.png", "--skip-existing")
    assert again.exit_code == 0, again
    assert again.stdout.split() == ["fox-2.png"]
    assert len(fake_api.gemini_requests()) == 4


def test_a_429_is_paused_and_retried_like_any_request(fake_api, invoke) -> None:
    fake_api.queue({"route": "gemini", "status": 429, "retry_after": "0.01"})
    result = invoke("generate", "a fox", "-m", FLASH, "-o", "fox.png")
    assert result.exit_code == 0, result
    assert len(fake_api.gemini_requests()) == 2


def test_google_s_error_body_is_one_line_with_its_status(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", FLASH, "-p", "imageConfig.imageSize=2k")
    assert result.exit_code == 1, result
    assert "INVALID_ARGUMENT" in result.stderr
    assert len(fake_api.gemini_requests()) == 1


def test_edit_sends_its_images_as_inline_data(fake_api, invoke) -> None:
    photo = write_image("photo.jpg", "jpeg")
    result = invoke("edit", "photo.jpg", "make it night", "-m", PRO)
    assert result.exit_code == 0, result
    (sent,) = fake_api.gemini_requests()
    parts = sent.json["contents"][0]["parts"]
    assert parts == [
        {"text": "make it night"},
        {"inline_data": {"mime_type": "image/jpeg", "data": base64.b64encode(photo).decode()}},
    ]
    assert result.stdout.strip() == "photo-edit.png"  # the type the answer really is


def test_p_keys_merge_by_dotted_path_and_s_maps_to_the_nearest_ratio(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", FLASH, "-s", "1536x1024", "-p", "temperature=0.4",
                    "-p", "imageConfig.imageSize=1K", "-p", 'tools=[{"google_search": {}}]',
                    "--dry-run", "--json")  # fmt: skip
    assert result.exit_code == 0, result
    shown = json.loads(result.stdout)
    assert shown["url"].endswith(f"/v1beta/models/{FLASH}:generateContent")
    assert shown["body"]["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": "3:2", "imageSize": "1K"},
        "temperature": 0.4,
    }
    assert shown["body"]["tools"] == [{"google_search": {}}]
    assert "model" not in shown["body"]  # the URL names it
    assert "-s 1536x1024 sent as aspectRatio 3:2" in result.stderr
    assert fake_api.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", OLD, "--resolution", "2K"], "takes no --resolution 2K"),
        (["-m", PRO, "--aspect", "8:1"], "Gemini 3 Pro Image takes 1:1, 2:3"),
        (["-m", FLASH, "--resolution", "3K"], "(Gemini 3.1 Flash Image takes 512px, 1K, 2K, 4K)"),
        (["-m", FLASH, "-i", "https://example.com/a.png"], "takes reference images as files"),
        (["-m", FLASH, "--complexity", "high"], "takes no complexity"),
    ],
)
def test_a_value_the_model_does_not_take_is_refused_before_sending(
    fake_api, invoke, args, message
) -> None:
    result = invoke("generate", "a fox", *args, "-o", "fox.png")
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert fake_api.requests == []


def test_flags_gemini_has_no_field_for_are_said_and_not_sent(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", FLASH, "-q", "high", "--format", "jpeg",
                    "-o", "fox.png")  # fmt: skip
    assert result.exit_code == 0, result
    assert "has no field for -q/--quality: not sent" in result.stderr
    assert "--format not sent" in result.stderr
    assert "quality" not in json.dumps(fake_api.gemini_requests()[0].json)


def test_more_references_than_2_5_works_best_with_is_a_note(fake_api, invoke) -> None:
    for name in "abcd":
        write_image(f"{name}.png")
    args = [arg for name in "abcd" for arg in ("-i", f"{name}.png")]
    result = invoke("generate", "a fox", "-m", OLD, *args, "-o", "fox.png")
    assert result.exit_code == 0, result
    assert "works best with at most 3 reference images; 4 are sent" in result.stderr
    assert len(fake_api.gemini_requests()[0].json["contents"][0]["parts"]) == 5


def test_a_markdown_url_answer_is_downloaded_with_its_source(fake_api, invoke) -> None:
    fake_api.gemini_answer("markdown_url")
    result = invoke("generate", "a fox", "-m", FLASH, "-o", "fox.png", "--json")
    assert result.exit_code == 0, result
    assert len(fake_api.downloads) == 1
    assert json.loads(result.stdout.splitlines()[0])["source_url"].startswith("http://127.0.0.1")


def test_the_model_s_text_is_shown_as_its_revised_prompt() -> None:
    answer = {"candidates": [{"content": {"parts": [
        {"text": "A fox, drawn."},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]}, "finishReason": "STOP"}], "usageMetadata": {
        "promptTokenCount": 10, "candidatesTokenCount": 1290, "thoughtsTokenCount": 100,
        "totalTokenCount": 1400}}  # fmt: skip
    items, usage = wire_gemini.images_of(answer, "req-1")
    assert items == [{"b64_json": "iVBORw0KGgo=", "revised_prompt": "A fox, drawn."}]
    assert usage == {"input_tokens": 10, "output_tokens": 1390, "total_tokens": 1400,
                     "output_tokens_details": {"reasoning_tokens": 100}}  # fmt: skip
    with pytest.raises(DeerimgError, match="no image"):
        wire_gemini.images_of({"candidates": []}, None)


def test_a_transparent_markup_or_mask_is_refused_for_gemini(fake_api, invoke) -> None:
    write_image("photo.png")
    Image.new("RGBA", (64, 48)).save("m.png")
    result = invoke("edit", "photo.png", "x", "-m", FLASH, "--mask", "m.png")
    assert result.exit_code == 2
    assert "Gemini 3.1 Flash Image takes no mask" in result.stderr


def test_config_routes_send_an_id_the_table_cannot_tell_to_gemini(
    fake_api, invoke, config_file
) -> None:
    """/v1/models cannot tell routes apart: [routes] sends a gateway's own id by Google's way."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(
        '[routes]\n"gemini-nano-image-x" = "gemini"\n"gemini-3-pro-image-preview" = "images"\n'
    )
    result = invoke("generate", "a fox", "-m", "gemini-nano-image-x", "-o", "fox.png")
    assert result.exit_code == 0, result
    assert [gemini.model_of(r.path) for r in fake_api.gemini_requests()] == ["gemini-nano-image-x"]
    assert "unknown key" not in result.stderr
    other = invoke("generate", "a fox", "-m", PRO, "--dry-run", "--json")
    assert json.loads(other.stdout)["url"].endswith("/v1/images/generations")


def test_a_route_deerimg_does_not_know_is_a_config_error(invoke, config_file) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[routes]\n"x" = "telepathy"\n')
    result = invoke("generate", "a fox", "--dry-run")
    assert result.exit_code == 3, result
    assert (
        "'x' = 'telepathy' names no route "
        "(deerimg knows images, gemini, flux, replicate, midjourney, kling)" in result.stderr
    )
