"""The fake's Gemini route (issue 18) through plain httpx: answers, variants, 400s, faults."""

from __future__ import annotations

import base64
import io
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import TEST_KEY
from tests.fake import FakeDeerAPI, make_image
from tests.fake.gemini import FINISH_REASONS, IMAGE_VARIANTS, VARIANTS, pixels
from tests.fake.images import pixel_size

FLASH = "gemini-3.1-flash-image-preview"
PNG = base64.b64encode(make_image("png", 8, 8)).decode()
DATA_URI = re.compile(r"data:(image/\w+);base64,([A-Za-z0-9+/=]+)")


@pytest.fixture
def client(fake_api: FakeDeerAPI) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    with httpx.Client(base_url=fake_api.base_url, headers=auth, timeout=10) as http:
        yield http
    assert fake_api.errors == []


def request_body(
    prompt: str | None = "a paper boat",
    *,
    images: int = 0,
    snake: bool = False,
    **image_config: Any,
) -> dict[str, Any]:
    """A generateContent body: the prompt, IMAGES inline PNGs, an imageConfig (camelCase keys)."""
    parts: list[dict[str, Any]] = [] if prompt is None else [{"text": prompt}]
    inline = (
        {"mime_type": "image/png", "data": PNG} if snake else {"mimeType": "image/png", "data": PNG}
    )
    parts += [{"inline_data" if snake else "inlineData": inline} for _ in range(images)]
    config: dict[str, Any] = {"responseModalities": ["TEXT", "IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def post(client: httpx.Client, body: Any, model: str = FLASH) -> httpx.Response:
    return client.post(f"/v1beta/models/{model}:generateContent", json=body)


def image_in(answer: dict[str, Any]) -> tuple[str, bytes]:
    """(mime type, bytes) of the image an answer carries, whatever its shape."""
    for part in answer["candidates"][0]["content"]["parts"]:
        inline = part.get("inlineData") or part.get("inline_data")
        if inline:
            mime = inline.get("mimeType") or inline.get("mime_type")
            return mime, base64.b64decode(inline["data"])
        found = DATA_URI.search(part.get("text", ""))
        if found:
            return found.group(1), base64.b64decode(found.group(2))
        url = re.search(r"!\[image\]\((http[^)]+)\)", part.get("text", ""))
        if url:
            got = httpx.get(url.group(1), timeout=10)  # no key: a CDN-like link
            return got.headers["content-type"], got.content
    raise AssertionError(f"no image in {answer}")


def test_an_image_in_the_ratio_and_size_asked_for(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    sent = request_body(aspectRatio="16:9", imageSize="2K")
    response = post(client, sent)
    assert response.status_code == 200
    answer = response.json()
    candidate = answer["candidates"][0]
    assert (candidate["finishReason"], candidate["index"]) == ("STOP", 0)
    assert candidate["content"]["role"] == "model"
    assert candidate["content"]["parts"][0] == {"text": "Here is the image you asked for."}
    mime, data = image_in(answer)
    assert mime == "image/png"
    assert data == fake_api.expected_gemini_image("16:9", "2K")
    assert Image.open(io.BytesIO(data)).size == pixel_size(*pixels("16:9", "2K"))
    assert pixels("16:9", "2K") == (2736, 1536) and pixels("1:1", "1K") == (1024, 1024)
    usage = answer["usageMetadata"]
    assert usage["candidatesTokensDetails"][0] == {"modality": "IMAGE", "tokenCount": 1290}
    assert usage["totalTokenCount"] == sum(
        usage[k] for k in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount")
    )
    assert answer["modelVersion"] == FLASH
    assert answer["responseId"] == f"fake-{response.headers['x-request-id']}"
    [recorded] = fake_api.gemini_requests()
    assert recorded.json == sent
    assert recorded.path == f"/v1beta/models/{FLASH}:generateContent"
    assert fake_api.generation_requests() == []


def test_snake_case_names_and_reference_images(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    sent = request_body(images=3, snake=True)
    sent["generation_config"] = {
        "response_modalities": ["IMAGE"],
        "image_config": {"aspect_ratio": "1:8", "image_size": "512px"},
    }
    del sent["generationConfig"]
    sent["tools"] = [{"google_search": {}}]
    urlsafe = base64.urlsafe_b64encode(make_image("png", 8, 8, noise_bytes=900)).decode()
    sent["contents"][0]["parts"][1]["inline_data"]["data"] = urlsafe.rstrip("=")  # proto3 takes it
    answer = post(client, sent).json()
    [part] = answer["candidates"][0]["content"]["parts"]  # IMAGE only: no text part
    width, height = Image.open(io.BytesIO(base64.b64decode(part["inlineData"]["data"]))).size
    assert (width, height) == pixels("1:8", "512px")
    image_tokens = {"modality": "IMAGE", "tokenCount": 3 * 258}
    assert answer["usageMetadata"]["promptTokensDetails"][1] == image_tokens
    older = post(client, request_body(), "gemini-2.5-flash-image").json()["usageMetadata"]
    assert "thoughtsTokenCount" not in older  # 2.5 does not think


@pytest.mark.parametrize("variant", IMAGE_VARIANTS)
def test_every_image_variant_carries_the_same_image(
    fake_api: FakeDeerAPI, client: httpx.Client, variant: str
) -> None:
    fake_api.gemini_answer(variant)
    answer = post(client, request_body(aspectRatio="3:4")).json()
    assert image_in(answer) == ("image/png", fake_api.expected_gemini_image("3:4"))
    parts = answer["candidates"][0]["content"]["parts"]
    if variant == "inline_data":
        assert set(parts[1]["inline_data"]) == {"mime_type", "data"}
    elif variant != "inlineData":
        assert set(parts[1]) == {"text"}
    assert len(fake_api.downloads) == (variant == "markdown_url")


@pytest.mark.parametrize("variant", ["text_only", *FINISH_REASONS, "blocked"])
def test_answers_without_an_image(
    fake_api: FakeDeerAPI, client: httpx.Client, variant: str
) -> None:
    fake_api.gemini_answer(variant)
    answer = post(client, request_body()).json()
    if variant == "blocked":
        assert "candidates" not in answer
        assert answer["promptFeedback"]["blockReason"] == "SAFETY"
    elif variant == "text_only":
        [candidate] = answer["candidates"]
        assert candidate["finishReason"] == "STOP"
        assert list(candidate["content"]["parts"][0]) == ["text"]
        assert len(candidate["content"]["parts"]) == 1
    else:
        assert answer["candidates"] == [{"finishReason": FINISH_REASONS[variant], "index": 0}]
    assert answer["usageMetadata"]["promptTokenCount"] > 0


def test_text_modality_alone_answers_text_and_reset_restores_the_default(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    sent = request_body()
    sent["generationConfig"]["responseModalities"] = ["TEXT"]
    [part] = post(client, sent).json()["candidates"][0]["content"]["parts"]
    assert list(part) == ["text"]
    with pytest.raises(ValueError, match="unknown Gemini answer"):
        fake_api.gemini_answer("inlinedata")
    fake_api.gemini_answer("safety")
    fake_api.reset()
    assert fake_api.faults.gemini_answer == "inlineData" == VARIANTS[0]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *keys, last = path.split(".")
    target: Any = body
    for key in keys:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(last) if last.isdigit() else last] = value
    return body


def _inline(name: str, value: str) -> dict[str, Any]:
    return _set(request_body(images=1), f"contents.0.parts.1.inlineData.{name}", value)


BAD: list[tuple[str, Any, str]] = [
    (FLASH, request_body(aspectRatio="7:5"), "Unsupported aspect ratio: 7:5"),
    ("gemini-3-pro-image-preview", request_body(aspectRatio="1:8"), "aspect ratio: 1:8"),
    ("gemini-2.5-flash-image", request_body(aspectRatio="4:1"), "aspect ratio: 4:1"),
    (FLASH, request_body(imageSize="2k"), "Unsupported image size: 2k"),
    (FLASH, request_body(imageSize="1024x1024"), "Unsupported image size"),
    ("gemini-2.5-flash-image", request_body(imageSize="1K"), "imageSize is not supported"),
    (FLASH, request_body(None, images=1), "a text part (the prompt) is required"),
    (FLASH, request_body("  "), "a text part (the prompt) is required"),
    (FLASH, {"contents": []}, "contents is not specified"),
    (FLASH, {"generationConfig": {}}, "contents is not specified"),
    (FLASH, [request_body()], "Invalid JSON payload"),
    (FLASH, _inline("data", "!!"), "Base64 decoding failed"),
    (FLASH, _inline("data", ""), "Base64"),
    (FLASH, _inline("mimeType", "text/plain"), "Unsupported MIME type: text/plain"),
    (FLASH, _inline("data", "aGVsbG8="), "Unable to process input image"),
    (FLASH, request_body(images=15), "Too many images: 15"),
    (FLASH, _set(request_body(), "contents.0.role", "assistant"), "valid role: user, model"),
    (FLASH, _set(request_body(), "contents.0.parts.0", {}), "required oneof field 'data'"),
    (FLASH, _set(request_body(), "generationConfig.responseModalities", ["AUDIO"]), "AUDIO"),
    (FLASH, _set(request_body(), "tools", {"google_search": {}}), "'tools'"),
]


@pytest.mark.parametrize(("model", "body", "message"), BAD, ids=[m for *_, m in BAD])
def test_what_the_api_refuses_is_a_google_400(
    client: httpx.Client, model: str, body: Any, message: str
) -> None:
    response = post(client, body, model)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert message in error["message"]


def test_what_the_api_takes_at_the_limits(client: httpx.Client) -> None:
    assert (
        post(client, request_body(images=14, aspectRatio="8:1", imageSize="4K")).status_code == 200
    )
    assert post(client, request_body(aspectRatio="21:9"), "gemini-3-pro-image").status_code == 200
    assert post(client, request_body(), "gemini-2.5-flash-image").status_code == 200


def test_other_models_paths_and_keys_are_refused(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    missing = post(client, request_body(), "gemini-2.5-pro")
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    assert "models/gemini-2.5-pro is not found" in missing.json()["error"]["message"]
    stream = client.post(f"/v1beta/models/{FLASH}:streamGenerateContent", json=request_body())
    assert stream.status_code == 404
    assert client.get(f"/v1beta/models/{FLASH}:generateContent").status_code == 404
    bare = httpx.post(f"{fake_api.base_url}/v1beta/models/{FLASH}:generateContent", json={})
    assert bare.status_code == 401
    assert len(fake_api.gemini_requests()) == 2  # the GET and the stream are not generateContent


def test_faults_apply_on_the_gemini_route(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.queue(
        {"route": "generations", "status": 500},  # not this route's: left for a generation
        {"route": "gemini", "status": 429, "retry_after": "3"},
        {"route": "gemini", "status": 503, "retry_after_ms": "1"},
        {"route": "gemini", "gemini_answer": "image_safety"},
    )
    limited, busy, unsafe, fine = (post(client, request_body()) for _ in range(4))
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert busy.status_code == 503 and busy.json()["error"]["code"] == 503
    assert unsafe.json()["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
    assert fine.status_code == 200
    fake_api.queue({"route": "gemini", "drop": True}, {"route": "gemini", "truncate": True})
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            post(client, request_body())
    fake_api.queue({"route": "gemini", "body": "<html>Bad gateway</html>", "status": 502})
    assert post(client, request_body()).text == "<html>Bad gateway</html>"
    fake_api.queue({"route": "gemini", "delay": 0.3})
    started = time.monotonic()
    assert post(client, request_body()).status_code == 200
    assert time.monotonic() - started >= 0.25
    fake_api.reject_prompts("forbidden", status=400, message="blocked by policy")
    assert post(client, request_body("a forbidden boat")).json()["error"] == {
        "code": 400,
        "message": "blocked by policy",
        "status": "INVALID_ARGUMENT",
    }


def test_image_faults_bend_the_gemini_image(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.queue(
        {"route": "gemini", "wrong_format": "jpeg"},
        {"route": "gemini", "invalid_b64": True},
        {"route": "gemini", "gemini_answer": "markdown_url", "url_status": 404},
        {"route": "gemini", "error_200": True, "message": "upstream broke"},
        {"route": "gemini", "usage": None},
    )
    mime, data = image_in(post(client, request_body()).json())
    assert (mime, data[:3]) == ("image/jpeg", b"\xff\xd8\xff")
    parts = post(client, request_body()).json()["candidates"][0]["content"]["parts"]
    assert parts[1]["inlineData"]["data"] == "!!!notbase64***"
    text = post(client, request_body()).json()["candidates"][0]["content"]["parts"][1]["text"]
    url = text.removeprefix("![image](").removesuffix(")")
    assert httpx.get(url, timeout=10).status_code == 404
    broken = post(client, request_body())
    assert broken.status_code == 200 and broken.json()["error"]["message"] == "upstream broke"
    assert "usageMetadata" not in post(client, request_body()).json()


def test_gemini_requests_are_counted_in_flight(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.gather(2, timeout=5)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: post(client, request_body()), range(2)))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert fake_api.max_in_flight == 2
