"""The fake DeerAPI itself: what the other tests and the benchmark rely on."""

from __future__ import annotations

import base64
import dataclasses
import io
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.fake import FAULT_KEYS, FakeDeerAPI, Fault, Part, make_image, png_with_chunk
from tests.fake.server import API, FILES

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


def stream_body(
    client: httpx.Client, read_timeout: float = 5.0
) -> tuple[httpx.Response, list[tuple[float, int]]]:
    """A generation streamed: the response, and (seconds since its headers, bytes) per chunk."""
    request = client.build_request(
        "POST",
        "/v1/images/generations",
        json={"model": "gpt-image-2", "prompt": "a paper boat", "size": "16x16"},
        timeout=httpx.Timeout(5.0, read=read_timeout),
    )
    response = client.send(request, stream=True)
    started = time.monotonic()
    chunks: list[tuple[float, int]] = []
    try:
        for chunk in response.iter_raw():
            chunks.append((time.monotonic() - started, len(chunk)))
    finally:
        response.close()
    return response, chunks


def test_stall_sends_the_headers_and_half_the_body_then_waits(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.queue({"stall": 0.3}, {"stall": 5})
    response, chunks = stream_body(client)
    assert response.status_code == 200
    length = int(response.headers["content-length"])
    assert sum(size for _, size in chunks) == length  # the rest came after the stall
    arrived = 0
    for at, size in chunks:
        arrived += size
        if arrived > length // 2:
            assert at >= 0.25  # nothing past the half before the stall ended
            break
    with pytest.raises(httpx.ReadTimeout):
        stream_body(client, read_timeout=0.2)  # a 200 status, then no more within 0.2 s
    assert len(api.generation_requests()) == 2


def test_stall_with_truncate_closes_after_the_stall(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.queue({"stall": 0.2, "truncate": True})
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|peer closed"):
        stream_body(client)
    assert time.monotonic() - started >= 0.15


def test_trickle_sends_that_many_bytes_at_that_interval(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.queue({"trickle": 0.05, "trickle_bytes": 64})
    response, chunks = stream_body(client)
    assert response.status_code == 200
    length = int(response.headers["content-length"])
    assert sum(size for _, size in chunks) == length
    assert max(size for _, size in chunks) <= 64
    pieces = -(-length // 64)
    assert chunks[-1][0] >= 0.05 * (pieces - 2)  # each piece waited for


def test_reason_phrase_request_id_and_raw_retry_after_are_sent_as_given(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.queue(
        {"status": 503, "reason": "Unavailable for key sk-x", "request_id": "id-sk-x"},
        {"status": 429, "retry_after": "-inf"},
        {"status": 429, "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"reason": "Fine Thanks", "request_id": ""},
    )
    unavailable = generate(client, size="8x8")
    assert (unavailable.status_code, unavailable.reason_phrase) == (503, "Unavailable for key sk-x")
    assert unavailable.headers["x-request-id"] == "id-sk-x"
    assert generate(client, size="8x8").headers["retry-after"] == "-inf"
    past = generate(client, size="8x8").headers["retry-after"]
    assert past == "Wed, 21 Oct 2015 07:28:00 GMT"
    fine = generate(client, size="8x8")
    assert (fine.status_code, fine.reason_phrase) == (200, "Fine Thanks")
    assert "x-request-id" not in fine.headers  # "" sends none
    assert generate(client, size="8x8").headers["x-request-id"].startswith("req_")


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


def at_once(
    api: FakeDeerAPI, count: int, send: Callable[[httpx.Client], httpx.Response]
) -> list[int]:
    """The statuses of COUNT requests sent together, each from its own thread and client."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def worker() -> None:
        with httpx.Client(base_url=api.base_url, headers=AUTH, timeout=15) as http:
            barrier.wait(timeout=5)
            statuses.append(send(http).status_code)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    return statuses


def test_max_in_flight_counts_concurrent_generations(api: FakeDeerAPI) -> None:
    api.latency = 0.2
    assert at_once(api, 4, lambda http: generate(http, size="8x8")) == [200] * 4
    assert api.max_in_flight == 4


def test_gather_holds_answers_until_that_many_are_in_flight(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.gather(3)
    assert at_once(api, 3, lambda http: generate(http, size="8x8")) == [200] * 3
    assert api.max_in_flight == 3
    # Once gathered, nothing is held: a request alone is answered, where a held one would
    # wait the gathering's 10 s and time the 5 s client out.
    assert generate(client, size="8x8").status_code == 200


def test_gather_gives_up_after_its_timeout(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.gather(2, timeout=0.05)
    assert generate(client, size="8x8").status_code == 200
    assert api.max_in_flight == 1


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


# -- POST /v1/images/edits ---------------------------------------------------------------------

# Image bytes that a multipart splitter could get wrong: CRLFs, dashes, NULs, a trailing CRLF.
TRICKY = b"\r\n--\r\n\x00\xff--boundary\r\n\r\n" + random.Random(3).randbytes(4096) + b"\r\n"


def edit(
    client: httpx.Client,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    **fields: str,
) -> httpx.Response:
    data = {"model": "gpt-image-2", "prompt": "make it blue", **fields}
    if files is None:
        files = [("image", ("in.png", make_image("png", 8, 8), "image/png"))]
    return client.post("/v1/images/edits", data=data, files=files)


def test_edit_with_two_images_and_a_mask_is_recorded_and_answered(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    first = make_image("png", 16, 16) + TRICKY  # decoders stop at IEND; the fake only sniffs
    second = make_image("jpeg", 16, 16) + TRICKY
    mask = make_image("png", 16, 16)
    files = [
        ("image[]", ("first.png", first, "image/png")),
        ("image[]", ("second é.jpg", second, "image/jpeg")),
        ("mask", ("mask.png", mask, "image/png")),
    ]
    response = edit(client, files, output_format="webp", size="64x48", n="2", input_fidelity="high")
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"].startswith("req_")
    payload = response.json()
    assert {k: payload[k] for k in ("output_format", "size", "quality")} == {
        "output_format": "webp",
        "size": "64x48",
        "quality": "auto",
    }
    assert len(payload["data"]) == 2
    assert payload["usage"]["input_tokens_details"]["image_tokens"] == 2000
    data = base64.b64decode(payload["data"][0]["b64_json"], validate=True)
    image = Image.open(io.BytesIO(data))
    image.load()
    assert (image.format, image.size) == ("WEBP", (64, 48))
    assert data == api.expected_image("webp", "64x48")

    [recorded] = api.edit_requests()
    assert api.generation_requests() == []
    assert recorded.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert recorded.json == {
        "model": "gpt-image-2",
        "prompt": "make it blue",
        "output_format": "webp",
        "size": "64x48",
        "n": "2",
        "input_fidelity": "high",
    }
    assert recorded.parts is not None
    files_sent = [p for p in recorded.parts if p.filename is not None]
    assert files_sent == [
        Part("image[]", "first.png", "image/png", first),
        Part("image[]", "second é.jpg", "image/jpeg", second),
        Part("mask", "mask.png", "image/png", mask),
    ]
    text = [p for p in recorded.parts if p.filename is None]
    assert [(p.name, p.content_type, p.data) for p in text][:2] == [
        ("model", None, b"gpt-image-2"),
        ("prompt", None, b"make it blue"),
    ]


def test_edit_single_image_field(api: FakeDeerAPI, client: httpx.Client) -> None:
    response = edit(client, size="16x16")
    assert response.status_code == 200
    assert response.json()["usage"]["input_tokens_details"]["image_tokens"] == 1000
    [recorded] = api.edit_requests()
    assert recorded.parts is not None
    assert [p.name for p in recorded.parts if p.filename] == ["image"]


def test_invalid_edits_are_400(api: FakeDeerAPI, client: httpx.Client) -> None:
    png = ("in.png", make_image("png", 8, 8), "image/png")
    missing = client.post(
        "/v1/images/edits", data={"model": "gpt-image-2"}, files=[("image[]", png)]
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["param"] == "prompt"
    assert missing.json()["error"]["type"] == "invalid_request_error"
    no_model = client.post("/v1/images/edits", data={"prompt": "p"}, files=[("image", png)])
    assert no_model.json()["error"]["param"] == "model"
    no_image = client.post(
        "/v1/images/edits", data={"model": "m", "prompt": "p"}, files=[("other", png)]
    )
    assert (no_image.status_code, no_image.json()["error"]["param"]) == (400, "image")
    not_image = edit(client, [("image[]", ("a.txt", b"hello", "text/plain"))])
    assert (not_image.status_code, not_image.json()["error"]["param"]) == (400, "image")
    jpeg_mask = ("mask.jpg", make_image("jpeg", 8, 8), "image/jpeg")
    bad_mask = edit(client, [("image[]", png), ("mask", jpeg_mask)])
    assert (bad_mask.status_code, bad_mask.json()["error"]["param"]) == (400, "mask")
    assert edit(client, n="two").json()["error"]["param"] == "n"
    assert edit(client, output_format="gif").json()["error"]["param"] == "output_format"
    as_json = client.post("/v1/images/edits", json={"model": "m", "prompt": "p"})
    assert as_json.status_code == 400
    assert api.edit_requests()[-1].parts is None
    assert client.get("/v1/images/edits").status_code == 405


def test_faults_apply_to_edits(api: FakeDeerAPI, client: httpx.Client) -> None:
    api.queue(
        {"status": 503, "route": "edits", "retry_after_ms": "1"}, {"drop": True, "route": "edits"}
    )
    assert generate(client, size="8x8").status_code == 200  # the edits fault waits its turn
    failed = edit(client)
    assert (failed.status_code, failed.headers["retry-after-ms"]) == (503, "1")
    with pytest.raises(httpx.RemoteProtocolError):
        edit(client)
    assert edit(client, size="8x8").status_code == 200
    api.reject_prompts("forbidden")
    rejected = edit(client, prompt="a forbidden edit")
    assert rejected.json()["error"]["code"] == "content_policy_violation"
    api.always(route="edits", status=500)
    assert edit(client).status_code == 500
    assert generate(client, size="8x8").status_code == 200
    api.reset()
    api.fail_randomly(1.0, seed=1)
    assert edit(client).status_code == 503
    with pytest.raises(ValueError, match="route"):
        api.queue({"route": "variations"})


def test_max_in_flight_counts_concurrent_edits(api: FakeDeerAPI) -> None:
    api.latency = 0.2
    assert at_once(api, 3, lambda http: edit(http, size="8x8")) == [200] * 3
    assert api.max_in_flight == 3


def test_png_with_chunk_keeps_the_png_valid() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    png = png_with_chunk(buffer.getvalue(), b"caBX", b"dummy")
    Image.open(io.BytesIO(png)).load()
    assert png[37:41] == b"caBX"


def test_a_fault_is_frozen_data_with_a_default_for_every_field() -> None:
    fault = Fault(status=503, retry_after_ms="1")
    assert fault.response_headers() == {"retry-after-ms": "1"}
    assert Fault().replaced_answer() is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        fault.status = 500  # type: ignore[misc]
    with pytest.raises(TypeError, match="stauts"):
        Fault(stauts=500)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"unknown fault keys: \['stauts'\]"):
        Fault.of({"stauts": 500})
    with pytest.raises(ValueError, match="route"):
        Fault(route="variations")
    assert {field.name for field in dataclasses.fields(Fault)} == FAULT_KEYS
    assert len(FAULT_KEYS) == 37


def test_queue_takes_faults_and_always_takes_the_error_type_by_its_api_name(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    api.queue(Fault(status=503, retry_after_ms="1"), {"status": 429})
    assert [generate(client, size="8x8").status_code for _ in range(3)] == [503, 429, 200]
    api.always(status=400, type="my_type", param="size")
    error = generate(client).json()["error"]
    assert (error["type"], error["param"]) == ("my_type", "size")


def test_route_table_answers_405_for_an_endpoint_and_404_under_a_prefix(
    api: FakeDeerAPI, client: httpx.Client
) -> None:
    assert [(r.method, r.path) for r in API.routes] == [
        ("GET", "/files/"),
        ("POST", "/v1/images/generations"),
        ("POST", "/v1/images/edits"),
        ("GET", "/flux/v1/get_result"),
        ("POST", "/flux/v1/"),
        ("POST", "/v1beta/models/"),
        ("POST", "/kling/v1/images/generations"),
        ("GET", "/kling/v1/images/generations/"),
        ("POST", "/mj/submit/imagine"),
        ("POST", "/mj/submit/action"),
        ("GET", "/mj/task/"),
        ("GET", "/mj/image/"),
        ("GET", "/v1/models"),
        ("POST", "/replicate/v1/models/"),
        ("POST", "/replicate/v1/predictions"),
        ("GET", "/replicate/v1/predictions/"),
    ]
    assert [(r.method, r.path) for r in FILES.routes] == [(None, "/files/")]
    wrong = client.delete("/v1/models")
    assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET")
    assert client.head("/v1/models").status_code == 200
    assert client.post("/files/img_000001.png").json()["error"]["code"] == "unknown_url"
    url = generate(client, response_format="url", size="8x8").json()["data"][0]["url"]
    with httpx.Client(timeout=5) as http:
        assert http.post(url).status_code == 405
        assert http.post(url.split("?")[0] + ".gone").status_code == 404
        assert http.head(url).status_code == 200


def test_standalone_prints_its_base_url_and_stops_on_stdin_eof() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake", "--port", "0", "--key", "k"],
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
