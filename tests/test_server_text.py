"""What a server sends is handled safely: no key it quotes, no control codes, no lone surrogate
is shown; an answer cut off after its status still names its status and request id; an image
cut short is a failure, never a saved file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from deerimg.imaging import images, provenance
from deerimg.wire import responses as answers
from tests.conftest import TEST_KEY
from tests.fake import FakeDeerAPI, make_image
from tests.helpers import error_lines, ledger_text, names_in

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_a_key_the_server_quotes_is_never_shown_or_recorded(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    quoted = f"Incorrect API key provided: {TEST_KEY}. You can find your key at example.com."
    fake_api.queue({"status": 401, "message": quoted, "code": TEST_KEY})
    outcome = invoke("generate", "a paper boat", "-o", "x.png", "--json")
    assert outcome.exit_code == 3
    assert TEST_KEY not in outcome.stdout + outcome.stderr
    assert "Incorrect API key provided: <the API key>." in outcome.stderr
    record = json.loads(outcome.stdout)
    assert TEST_KEY not in json.dumps(record)
    assert TEST_KEY not in ledger_text()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param(b'"bad \\ud800 size"', "bad ? size", id="lone-surrogate"),
        pytest.param(
            b'"bad size\\n\\u001b]0;pwned\\u0007\\u001b[2Jerror: fake second line"',
            "bad size ]0;pwned [2Jerror: fake second line",
            id="escape-sequences-and-a-newline",
        ),
        pytest.param(b'"\\u009b31m red \\t\\r tab"', "31m red tab", id="c1-control"),
    ],
)
def test_an_error_message_is_one_clean_line(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, raw: bytes, shown: str
) -> None:
    body = b'{"error": {"message": ' + raw + b', "code": "bad\\u001b[0m"}}'
    fake_api.queue({"status": 400, "body": body, "content_type": "application/json"})
    outcome = invoke("generate", "a paper boat", "-o", "x.png", "--json")
    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.stderr
    (line,) = error_lines(outcome.stderr)
    request_id = fake_api.generation_requests()[0].request_id
    assert line == f"error: 400 {shown} (code bad [0m, request id {request_id})"
    assert "\x1b" not in outcome.stderr and "\x9b" not in outcome.stderr
    assert json.loads(outcome.stdout)["error"]["message"] == shown
    assert "\\ud800" not in ledger_text()


def test_server_text_keeps_words_and_drops_what_cannot_be_shown() -> None:
    assert answers.server_text("a\u00e9\u4e2d\U0001f600 b") == "a\u00e9\u4e2d\U0001f600 b"
    assert answers.server_text("line one\nline two\x00") == "line one line two"
    assert answers.server_text("para one\n\npara\ttwo\x1b[0m", one_line=False) == (
        "para one\n\npara\ttwo[0m"
    )
    assert answers.server_text("\udcff") == "?"


def test_a_401_cut_off_is_a_key_error_with_its_request_id_and_not_retried(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    fake_api.always(status=401, truncate=True)
    outcome = invoke("generate", "a paper boat", "-o", "x.png", "--retries", "3")
    assert outcome.exit_code == 3
    requests = fake_api.generation_requests()
    assert len(requests) == 1  # a refused key is not asked again
    (line,) = error_lines(outcome.stderr)
    assert line.startswith("error: 401 ")
    assert line.endswith(f"(request id {requests[0].request_id})")
    assert not Path("x.png").exists()


def test_a_model_id_with_a_lone_surrogate_is_listed_without_a_traceback(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    body = b'{"object": "list", "data": [{"id": "gpt-image-\\ud800", "owned_by": "x\\u001b[2J"}]}'
    fake_api.queue({"route": "models", "status": 200, "body": body,
                    "content_type": "application/json"})  # fmt: skip
    outcome = invoke("models", "--all")
    assert outcome.exit_code == 0, outcome
    assert "gpt-image-?" in outcome.stdout
    assert "\x1b" not in outcome.stdout + outcome.stderr


# -- an image cut short -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_cut_off_finds_an_image_cut_short_and_passes_a_whole_one(fmt: str) -> None:
    whole = make_image(fmt, 64, 48, noise_bytes=20_000)
    assert not images.cut_off(whole, fmt)
    assert not images.cut_off(whole + b"\x00" * 100, fmt)  # padding after the end is allowed
    for size in (len(whole) // 3, len(whole) // 2, len(whole) - 40):
        assert images.cut_off(whole[:size], fmt), size


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_an_image_cut_short_is_a_failure_and_never_saved(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, fmt: str
) -> None:
    whole = make_image(fmt, 256, 256, noise_bytes=30_000)
    cut = base64.b64encode(whole[: len(whole) // 2]).decode()
    body = json.dumps({"created": 1, "data": [{"b64_json": cut}]})
    fake_api.queue({"status": 200, "body": body, "content_type": "application/json"})
    outcome = invoke("generate", "a paper boat", "-o", "x")
    assert outcome.exit_code == 1
    (line,) = error_lines(outcome.stderr)
    request_id = fake_api.generation_requests()[0].request_id
    assert line == (
        f"error: the response's {fmt.upper()} image is cut off "
        f"({len(whole) // 2:,} bytes, no end) (request id {request_id})"
    )
    assert names_in() == []


def test_a_revised_prompt_with_control_codes_and_a_lone_surrogate_is_kept_clean(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    fake_api.queue({"revised_prompt": "A boat\ud800 at dawn,\x1b[2J\nwith gulls."})
    outcome = invoke("generate", "a paper boat", "-o", "x.png", "--json")
    assert outcome.exit_code == 0, outcome
    assert json.loads(outcome.stdout)["revised_prompt"] == "A boat? at dawn,[2J\nwith gulls."
    assert "Traceback" not in outcome.stderr


def test_an_unforeseen_error_fails_its_prompt_in_one_line_and_the_batch_goes_on(
    fake_api: FakeDeerAPI, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = provenance.build_record

    def build_record(body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if body["prompt"] == "two":
            raise RuntimeError("boom\nsecond line")
        return real(body, **kwargs)

    monkeypatch.setattr(provenance, "build_record", build_record)
    outcome = invoke("generate", input="one\ntwo\nthree\n")
    assert outcome.exit_code == 1
    assert "Traceback" not in outcome.stderr
    (line,) = error_lines(outcome.stderr)
    assert line.endswith(": unexpected RuntimeError: boom second line"), line
    assert sorted(outcome.stdout.split()) == ["one.png", "three.png"]
    assert "done: 2 images saved, 1 prompt failed" in outcome.stderr


# -- base64 as some gateways send it ----------------------------------------------------------


def test_decode_takes_a_data_url_and_wrapped_lines() -> None:
    image = make_image("png", 16, 16)
    b64 = base64.b64encode(image).decode()
    wrapped = "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    assert images.decode(f"data:image/png;base64,{b64}") == image
    assert images.decode(memoryview(f"data:image/png;base64,{b64}".encode())) == image
    assert images.decode(wrapped + "\n") == image
    buf = bytearray(f'{{"b64_json": "data:image/png;base64,{b64}"}}'.encode())
    start = buf.index(b"data:")
    assert images.decode_in_place(buf, start, start + len(b64) + 22) == image


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("shape", ["data-url", "wrapped"])
def test_an_answer_with_a_data_url_or_wrapped_base64_is_saved(
    fake_api: FakeDeerAPI, invoke: Any, count: int, shape: str
) -> None:
    image = fake_api.expected_image("png", "1024x1024")
    b64 = base64.b64encode(image).decode()
    if shape == "data-url":
        b64 = "data:image/png;base64," + b64
    else:
        b64 = "\n".join(b64[i : i + 76] for i in range(0, len(b64), 76))
    body = json.dumps({"created": 1, "data": [{"b64_json": b64}] * count})
    fake_api.queue({"body": body, "content_type": "application/json"})
    outcome = invoke("generate", "a paper boat", "-n", str(count), "--no-metadata", "--no-history")
    assert outcome.exit_code == 0, outcome
    for name in outcome.stdout.split():
        assert Path(name).read_bytes() == image
    assert len(outcome.stdout.split()) == count


def test_a_refused_key_in_a_200_answer_stops_the_batch_with_exit_3(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    fake_api.always(error_200=True, code="invalid_api_key", message="Invalid token.")
    outcome = invoke("generate", "-j", "1", input="one\ntwo\nthree\n")
    assert outcome.exit_code == 3
    (line, *_) = error_lines(outcome.stderr)
    assert "Invalid token. (code invalid_api_key, request id req_" in line
    assert "config set api-key" in outcome.stderr
