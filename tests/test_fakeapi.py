"""The fake DeerAPI itself: what the other tests and the benchmark rely on."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.fakeapi import FakeDeerAPI, png_with_chunk

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api() -> Iterator[FakeDeerAPI]:
    with FakeDeerAPI(KEY) as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def client(api: FakeDeerAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.base_url, headers=AUTH, timeout=5) as http:
        yield http


def generate(client: httpx.Client, **fields: object) -> httpx.Response:
    body = {"model": "gpt-image-2", "prompt": "a paper boat", **fields}
    return client.post("/v1/images/generations", json=body)


def test_missing_or_wrong_key_is_401_with_a_request_id(api: FakeDeerAPI) -> None:
    with httpx.Client(base_url=api.base_url, timeout=5) as http:
        bare = http.post("/v1/images/generations", json={"model": "m", "prompt": "p"})
        wrong = http.get("/v1/models", headers={"Authorization": "Bearer nope"})
    for response in (bare, wrong):
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
                "param": None,
            }
        }
    assert [bare.headers["x-request-id"], wrong.headers["x-request-id"]] == ["req_1", "req_2"]
    assert [r.request_id for r in api.requests] == ["req_1", "req_2"]


@pytest.mark.parametrize(
    ("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
def test_generation_returns_a_real_image(
    api: FakeDeerAPI, client: httpx.Client, fmt: str, pil_format: str
) -> None:
    response = generate(client, output_format=fmt, size="1536x1024", quality="low")
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    payload = response.json()
    assert {k: payload[k] for k in ("output_format", "quality", "size", "background")} == {
        "output_format": fmt,
        "quality": "low",
        "size": "1536x1024",
        "background": "opaque",
    }
    assert payload["usage"]["total_tokens"] == 224
    [item] = payload["data"]
    assert item["revised_prompt"] == "Revised: a paper boat"
    data = base64.b64decode(item["b64_json"], validate=True)
    image = Image.open(io.BytesIO(data))
    image.load()
    # Above 1024*1024 pixels the fake scales down, keeping the aspect ratio.
    assert (image.format, image.size) == (pil_format, (1254, 836))
    assert data == api.expected_image(fmt, "1536x1024")
    [recorded] = api.generation_requests()
    assert recorded.json["output_format"] == fmt
    assert recorded.headers["authorization"] == f"Bearer {KEY}"


def test_n_gives_that_many_images(client: httpx.Client) -> None:
    payload = generate(client, n=3, size="64x64").json()
    assert len(payload["data"]) == 3
    assert payload["usage"]["output_tokens"] == 3 * 208


def test_invalid_bodies_are_400(client: httpx.Client) -> None:
    missing = client.post("/v1/images/generations", json={"model": "gpt-image-2"})
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "prompt"
    assert generate(client, n=11).json()["error"]["param"] == "n"
    assert generate(client, output_format="gif").json()["error"]["param"] == "output_format"
    assert client.post("/images/generations", json={}).status_code == 404


def test_url_mode_downloads_from_the_files_server_without_auth(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    payload = generate(client, response_format="url", size="32x32", n=2).json()
    urls = [item["url"] for item in payload["data"]]
    assert all(url.startswith(api.files_url + "/files/") for url in urls)
    assert api.files_url != api.base_url
    with httpx.Client(timeout=5) as http:
        download = http.get(urls[0])
    assert download.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(download.content)).size == (32, 32)
    [recorded] = api.downloads
    assert "authorization" not in recorded.headers


def test_url_faults(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.queue({"url_status": 403}, {"redirect_url": True})
    forbidden = generate(client).json()["data"][0]["url"]
    redirected = generate(client).json()["data"][0]["url"]
    assert redirected.startswith(api.base_url + "/files/")
    with httpx.Client(timeout=5, follow_redirects=True) as http:
        assert http.get(forbidden).status_code == 403
        response = http.get(redirected)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [302]
    assert response.url.host == "127.0.0.1"
    assert str(response.url).startswith(api.files_url)


def test_queue_is_applied_in_order_with_retry_headers(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.queue(
        {"status": 503, "retry_after_ms": "1"},
        {"status": 429, "retry_after": "2", "code": "rate_limit_exceeded"},
        {},
    )
    first, second, third, fourth = (generate(client, size="16x16") for _ in range(4))
    assert [r.status_code for r in (first, second, third, fourth)] == [503, 429, 200, 200]
    assert first.headers["retry-after-ms"] == "1"
    assert second.headers["retry-after"] == "2"
    assert second.json()["error"]["code"] == "rate_limit_exceeded"
    assert len({r.headers["x-request-id"] for r in (first, second, third, fourth)}) == 4


def test_drop_and_truncate_break_the_connection(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.queue({"drop": True}, {"truncate": True})
    with pytest.raises(httpx.RemoteProtocolError):
        generate(client)
    with pytest.raises(httpx.RemoteProtocolError):
        generate(client, size="16x16")
    assert generate(client, size="16x16").status_code == 200
    assert len(api.generation_requests()) == 3


def test_body_faults(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.queue(
        {"status": 502, "body": b"<html>Bad Gateway</html>"},
        {"invalid_b64": True},
        {"c2pa": True, "revised_prompt": None, "usage": None},
        {"wrong_format": "jpeg"},
    )
    html = generate(client)
    assert (html.status_code, html.headers["content-type"]) == (502, "text/html; charset=utf-8")
    assert generate(client).json()["data"][0]["b64_json"] == "!!!notbase64***"
    c2pa = generate(client, size="16x16").json()
    assert "usage" not in c2pa
    assert list(c2pa["data"][0]) == ["b64_json"]
    png = base64.b64decode(c2pa["data"][0]["b64_json"])
    assert png[37:41] == b"caBX"  # signature (8) + IHDR chunk (25) + length (4)
    Image.open(io.BytesIO(png)).load()
    wrong = generate(client, size="16x16").json()
    assert wrong["output_format"] == "png"
    assert base64.b64decode(wrong["data"][0]["b64_json"])[:3] == b"\xff\xd8\xff"


def test_reject_prompts_and_fail_randomly(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.reject_prompts("forbidden")
    rejected = generate(client, prompt="a forbidden boat")
    assert rejected.status_code == 400
    assert rejected.json()["error"]["code"] == "content_policy_violation"
    api.fail_randomly(0.5, seed=7)
    statuses = [generate(client, size="8x8").status_code for _ in range(20)]
    assert set(statuses) == {200, 503}
    api.reset()
    api.fail_randomly(0.5, seed=7)
    assert [generate(client, size="8x8").status_code for _ in range(20)] == statuses


def test_max_in_flight_counts_concurrent_generations(api: FakeDeerAPI) -> None:
    api.latency = 0.2
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def worker() -> None:
        with httpx.Client(base_url=api.base_url, headers=AUTH, timeout=5) as http:
            barrier.wait(timeout=5)
            statuses.append(generate(http, size="8x8").status_code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert statuses == [200] * 4
    assert api.max_in_flight == 4


def test_stop_wakes_up_a_delayed_answer(api: FakeDeerAPI) -> None:
    api.always(delay=30)
    errors: list[Exception] = []

    def worker() -> None:
        with httpx.Client(base_url=api.base_url, headers=AUTH, timeout=10) as http:
            try:
                generate(http)
            except httpx.TransportError as error:
                errors.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 5
    while not api.generation_requests() and time.monotonic() < deadline:
        time.sleep(0.005)
    started = time.monotonic()
    api.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 1
    assert len(errors) == 1


def test_models_list_and_its_faults(api: FakeDeerAPI, client: httpx.Client) -> None:
    payload = client.get("/v1/models").json()
    ids = {model["id"] for model in payload["data"]}
    assert payload["object"] == "list"
    assert {"gpt-image-2", "dall-e-3", "gpt-4o", "whisper-1"} <= ids
    assert all(m["object"] == "model" and isinstance(m["created"], int) for m in payload["data"])
    api.queue({"status": 500, "route": "models"})
    assert generate(client, size="8x8").status_code == 200  # the models fault waits its turn
    assert client.get("/v1/models").status_code == 500
    with pytest.raises(ValueError, match="unknown fault keys"):
        api.queue({"stauts": 500})


def test_png_with_chunk_keeps_the_png_valid() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    png = png_with_chunk(buffer.getvalue(), b"caBX", b"dummy")
    Image.open(io.BytesIO(png)).load()
    assert png[37:41] == b"caBX"


def test_standalone_prints_its_base_url_and_stops_on_stdin_eof() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakeapi", "--port", "0", "--key", "k"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().decode().strip()
        assert base_url.startswith("http://127.0.0.1:")
        response = httpx.get(base_url + "/v1/models", headers={"Authorization": "Bearer k"})
        assert response.status_code == 200
    finally:
        _, stderr = process.communicate(timeout=5)  # closes stdin
    assert (process.returncode, stderr) == (0, b"")
