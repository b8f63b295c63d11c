"""Issue 6, fault matrix: every way DeerAPI or the network can fail, against the fake server.

For each fault: retried or not as the contract says, the exact number of requests the server saw,
the exit code, one `error:` line with the request id, no traceback, and no file or temporary
file left in the output folder.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from deerimg.wire import retry
from tests.conftest import TEST_KEY, Outcome
from tests.fake import FakeDeerAPI
from tests.helpers import error_lines, free_port, names_in, pixels

RETRIES = 2  # three tries in all: enough to see the loop, and cheap
HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
)
CUT_JSON = '{"created": 1745000000, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhEUgAA'


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Network failures carry no Retry-After: shrink the back-off so a retry takes ms, not s."""
    monkeypatch.setattr(retry, "BASE_DELAY", 0.001)


def http_date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def retry_lines(outcome: Outcome) -> list[str]:
    return [line for line in outcome.stderr.splitlines() if line.startswith("retrying")]


def leftovers(folder: Path) -> list[str]:
    """Every name in FOLDER: images, and temporary files (dot files, *.deerimg-tmp)."""
    return names_in(folder) if folder.exists() else []


def assert_failed_cleanly(outcome: Outcome, out: Path, exit_code: int = 1) -> None:
    assert outcome.exit_code == exit_code, outcome
    assert outcome.stdout == ""
    assert "Traceback" not in outcome.stderr
    assert len(error_lines(outcome)) == 1, outcome.stderr
    assert leftovers(out) == []
    assert leftovers(out.parent) in ([], ["out"])  # nothing beside it either


SEEN = "<the last request's>"  # Row.request_id: the id of the last request the fake answered
CLOSED = "<a closed port>"  # in Row.env and Row.message: a loopback port nothing listens on


@dataclass(frozen=True)
class Row:
    fault: dict[str, Any]
    requests: int  # generation requests the server saw
    retried: bool
    exit_code: int = 1
    message: str = ""  # a part of the error line
    downloads: int = 0
    args: tuple[str, ...] = field(default=())
    # the environment of the run: a proxy variable, with NO_PROXY (the fixture's "*") unset
    env: dict[str, str] = field(default_factory=dict)
    request_id: str | None = SEEN  # the request id the error line and retries name; None: none
    wait: str | None = "0.0"  # what each retry announces it waits; None: not checked
    backoff: float | None = None  # retry.BASE_DELAY for the run (None: the real one)
    gap: float = 0.0  # at least this many seconds between two requests: no tight loop


# The key as a server might quote it, and what every output shows instead.
QUOTED_KEY = f"Unavailable for key {TEST_KEY}"
CONCEALED_ID = "id-<the API key>"

# (fault, requests seen, retried?) per the contract: 408, 409, 429, 5xx and connection errors are
# retried; any other answer is final, and so is a read time-out of a generation that was sent
# (it may have been billed: tests/test_retry_timeouts.py). A 200 that is not a usable image is
# final too: the image was paid for, and asking again would pay twice. So is a 200 whose body is
# cut off, stalls or is not whole within --timeout.
MATRIX = {
    "429-retry-after-seconds": Row({"status": 429, "retry_after": "0.01"}, 3, True, 1, "429 Rate"),
    "429-retry-after-ms": Row({"status": 429, "retry_after_ms": "1"}, 3, True, 1, "429 Rate"),
    # Retry-After 0, negative or past: the back-off, not back-to-back requests (issue 16)
    **{
        f"429-retry-after-{name}": Row(
            {"status": 429, "retry_after": value},
            3,
            True,
            1,
            "429 Rate",
            wait=None,
            backoff=0.05,
            gap=0.03,
        )
        for name, value in [
            ("0", "0"),
            ("negative", "-5"),
            ("minus-inf", "-inf"),
            ("past-http-date", http_date(-30)),
        ]
    },
    "408": Row({"status": 408, "retry_after_ms": "1"}, 3, True, 1, "408 The request timed out"),
    "409": Row({"status": 409, "retry_after_ms": "1"}, 3, True, 1, "409 The request conflicted"),
    "500": Row({"status": 500, "retry_after_ms": "1"}, 3, True, 1, "500 The server had an error"),
    "502-html-body": Row(
        {"status": 502, "body": HTML_502, "retry_after_ms": "1"}, 3, True, 1, "502 Bad Gateway ("
    ),
    "503": Row({"status": 503, "retry_after_ms": "1"}, 3, True, 1, "503 The service is"),
    "503-reason-and-request-id-quote-the-key": Row(
        {
            "status": 503,
            "retry_after_ms": "1",
            "reason": QUOTED_KEY,
            "request_id": f"id-{TEST_KEY}",
        },
        3,
        True,
        1,
        "503 The service is",
        request_id=CONCEALED_ID,
    ),
    "504": Row({"status": 504, "retry_after_ms": "1"}, 3, True, 1, "504 The upstream model"),
    "400-final": Row({"status": 400}, 1, False, 1, "400 The request was invalid."),
    "402-final": Row({"status": 402}, 1, False, 1, "402 Your account balance"),
    "404-final": Row({"status": 404}, 1, False, 1, "404 The model does not exist."),
    "401-config": Row({"status": 401}, 1, False, 3, "401 Incorrect API key"),
    "403-config": Row({"status": 403}, 1, False, 3, "403 You do not have access"),
    "301-redirect-config": Row(
        {"status": 301, "body": "", "headers": {"Location": "https://api.example.com/v1/x"}},
        1,
        False,
        3,
        "301 the API redirects to https://api.example.com/v1/x",
    ),
    "truncated-json-complete-message": Row(
        {"body": CUT_JSON, "content_type": "application/json"}, 1, False, 1, "is not JSON"
    ),
    "200-cut-off-mid-body": Row({"truncate": True}, 1, False, 1, "200 the body was cut off after"),
    "200-stalled": Row(
        {"stall": 30}, 1, False, 1, "200 the body stalled after", args=("--timeout", "0.5")
    ),
    "200-trickle-past-timeout": Row(
        {"trickle": 0.05, "trickle_bytes": 64},
        1,
        False,
        1,
        "200 the body came too slowly: not whole within --timeout 0.5 s",
        args=("--timeout", "0.5"),
    ),
    "json-without-data": Row({"no_data": True}, 1, False, 1, "the response has no data"),
    "empty-data": Row({"empty_data": True}, 1, False, 1, "the response holds no image"),
    "invalid-base64": Row({"invalid_b64": True}, 1, False, 1, "not valid base64"),
    "not-an-image": Row(
        {"not_image": True}, 1, False, 1, "not a PNG, JPEG, WebP, GIF or SVG image"
    ),
    "200-with-error-object": Row(
        {"error_200": True}, 1, False, 1, "The upstream returned an error. (code server_error"
    ),
    "url-download-404": Row({"url_status": 404}, 1, False, 1, "image download failed: HTTP 404", 1),
    "url-download-503-retried": Row(
        {"url_status": 503}, 1, True, 1, "image download failed: HTTP 503", 3, backoff=0.001
    ),
    # Proxies (issue 16): a SOCKS proxy at a closed port is a network error that names it, and
    # is retried; a proxy URL that cannot be parsed is a setting to fix (exit 3).
    "socks-proxy-at-a-closed-port": Row(
        {},
        0,
        True,
        1,
        f"via proxy socks5://127.0.0.1:{CLOSED} (ALL_PROXY)",
        env={"ALL_PROXY": f"socks5://127.0.0.1:{CLOSED}"},
        request_id=None,
        wait=None,
        backoff=0.001,
    ),
    "http-proxy-at-a-closed-port": Row(
        {},
        0,
        True,
        1,
        f"via proxy http://127.0.0.1:{CLOSED} (HTTP_PROXY)",
        env={"HTTP_PROXY": f"http://127.0.0.1:{CLOSED}"},
        request_id=None,
        wait=None,
        backoff=0.001,
    ),
    "malformed-proxy-url": Row(
        {}, 0, False, 3, "HTTP_PROXY", env={"HTTP_PROXY": "http://[::1"}, request_id=None
    ),
    "malformed-proxy-colons": Row(
        {}, 0, False, 3, "http_proxy", env={"http_proxy": "::::"}, request_id=None
    ),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_fault_matrix(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    row = MATRIX[name]
    if row.backoff is not None:
        # An image server or a proxy sends no Retry-After: shrink the back-off. The API rows
        # keep the real one, so `in 0.0 s` below proves that their Retry-After headers were read.
        monkeypatch.setattr(retry, "BASE_DELAY", row.backoff)
    closed = str(free_port())
    env: dict[str, str | None] = {k: v.replace(CLOSED, closed) for k, v in row.env.items()}
    if env:
        env["NO_PROXY"] = None
    fake_api.always(**row.fault)
    out = isolated_env / "out"
    args = ("generate", "a paper boat", "-d", "out", "--retries", str(RETRIES), *row.args)
    outcome = invoke(*args, env=env)

    assert_failed_cleanly(outcome, out, row.exit_code)
    assert TEST_KEY not in outcome.stderr
    generations = fake_api.generation_requests()
    assert len(generations) == row.requests
    assert len(fake_api.requests) == row.requests  # nothing else went to the API
    assert len(fake_api.downloads) == row.downloads
    # Every try sent the same bytes, and every one of them named the key to this origin only.
    assert len({r.body for r in generations}) == min(row.requests, 1)
    assert all("authorization" not in d.headers for d in fake_api.downloads)
    gaps = [b.time - a.time for a, b in itertools.pairwise(generations)]
    assert all(gap >= row.gap for gap in gaps), gaps
    (line,) = error_lines(outcome)
    assert row.message.replace(CLOSED, closed) in line
    # a failed download names the API's request id, not the image host's
    ids = [r.request_id for r in generations]
    if row.request_id != SEEN:
        ids = [row.request_id] * len(ids)  # None: no request id at all
    if ids and ids[-1] is not None:
        assert line.endswith(f"request id {ids[-1]})"), line
    else:
        assert "request id" not in line
    retries = retry_lines(outcome)
    assert len(retries) == (RETRIES if row.retried else 0)
    if row.retried and not row.downloads and row.requests:
        # Each retry is announced with the status and the request id of the answer it retries.
        for number, (announced, seen) in enumerate(zip(retries, ids[:-1], strict=True), start=1):
            assert announced.startswith(f"retrying {row.message[:3]} ")
            assert f"request id {seen};" in announced
            wait = "" if row.wait is None else f" in {row.wait} s"
            assert f"retry {number} of {RETRIES}{wait}" in announced


def test_html_body_names_the_status_once(fake_api: FakeDeerAPI, invoke: Any) -> None:
    """Found by the matrix: `502 502 Bad Gateway`, the page title repeating the status."""
    fake_api.always(status=502, body=HTML_502, retry_after_ms="1")
    outcome = invoke("generate", "a paper boat", "--retries", "0")
    (line,) = error_lines(outcome)
    assert line == f"error: 502 Bad Gateway (request id {fake_api.requests[-1].request_id})"


@pytest.mark.parametrize(
    ("name", "fault", "args", "message"),
    [
        pytest.param("drop", {"drop": True}, (), "Server disconnected", id="dropped-connection"),
        pytest.param(  # a 503 is not paid for: cut off mid-body, it is retried (a 200 is not)
            "cut",
            {"status": 503, "truncate": True},
            (),
            "peer closed connection",
            id="503-cut-off-mid-body",
        ),
        pytest.param(  # asked for: by default it is final (tests/test_retry_timeouts.py)
            "timeout",
            {"delay": 0.6},
            ("--timeout", "0.2", "--retry-timeouts"),
            "no answer within 0.2 s (ReadTimeout)",
            id="read-timeout-with-retry-timeouts",
        ),
    ],
)
@pytest.mark.usefixtures("fast_backoff")
def test_network_faults_are_retried(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    name: str,
    fault: dict[str, Any],
    args: tuple[str, ...],
    message: str,
) -> None:
    fake_api.always(**fault)
    out = isolated_env / "out"
    outcome = invoke("generate", "a paper boat", "-d", "out", "--retries", str(RETRIES), *args)

    assert_failed_cleanly(outcome, out)
    assert len(fake_api.generation_requests()) == RETRIES + 1
    assert len(retry_lines(outcome)) == RETRIES
    (line,) = error_lines(outcome)
    assert message in line
    ids = [r.request_id for r in fake_api.generation_requests()]
    if name == "cut":  # the status and headers came, with the request id: shown, retries too
        assert line.endswith(f"(request id {ids[-1]})")
        assert [r.split("request id ")[1].split(";")[0] for r in retry_lines(outcome)] == ids[:-1]
    else:
        assert "request id" not in line  # no answer, so no request id to show


@pytest.mark.usefixtures("fast_backoff")
def test_connection_refused_is_retried(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    outcome = invoke(
        "generate", "a paper boat", "-d", "out", "--retries", str(RETRIES),
        env={"DEERIMG_BASE_URL": base},
    )  # fmt: skip
    assert_failed_cleanly(outcome, isolated_env / "out")
    assert fake_api.requests == []
    retries = retry_lines(outcome)
    assert len(retries) == RETRIES
    assert all("network error" in line and "refused" in line for line in retries)
    assert "refused" in error_lines(outcome)[0]


@pytest.mark.parametrize(
    ("faults", "requests"),
    [
        pytest.param([{"status": 503, "retry_after_ms": "1"}] * 2, 3, id="503-twice"),
        pytest.param([{"status": 429, "retry_after": "0"}], 2, id="429-once"),
        pytest.param([{"drop": True}], 2, id="dropped-once"),
        pytest.param([{"status": 503, "truncate": True}], 2, id="503-cut-off-once"),
        # a read time-out recovers only with --retry-timeouts: tests/test_retry_timeouts.py
    ],
)
@pytest.mark.usefixtures("fast_backoff")
def test_transient_faults_recover(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    faults: list[dict[str, Any]],
    requests: int,
) -> None:
    fake_api.queue(*faults)
    # --timeout 1: well past a normal answer even on a loaded machine, well short of the delay.
    outcome = invoke(
        "generate", "a paper boat", "-d", "out", "--retries", str(RETRIES), "--timeout", "1"
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome
    assert outcome.stdout == "out/a-paper-boat.png\n"
    assert len(fake_api.generation_requests()) == requests
    assert len(retry_lines(outcome)) == requests - 1
    assert error_lines(outcome) == []
    assert leftovers(isolated_env / "out") == ["a-paper-boat.png"]
    assert pixels(isolated_env / "out/a-paper-boat.png") == pixels(fake_api.expected_image())


def test_retry_after_over_two_minutes_fails_at_once(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    """An exhausted quota, not a busy server: the prompt fails at once, naming the wait."""
    fake_api.always(status=429, retry_after="3600")
    outcome = invoke("generate", "a paper boat", "-d", "out", "--retries", "5")
    assert_failed_cleanly(outcome, isolated_env / "out")
    assert len(fake_api.requests) == 1
    assert retry_lines(outcome) == []
    assert "wait 3600 s" in outcome.stderr


def test_retry_after_date_over_two_minutes_fails_at_once(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    fake_api.always(status=503, retry_after=http_date(3600))
    outcome = invoke("generate", "a paper boat", "-d", "out", "--retries", "5")
    assert_failed_cleanly(outcome, isolated_env / "out")
    assert len(fake_api.requests) == 1
    assert "more than 120 s" in outcome.stderr


def test_quota_wait_is_named_with_no_retries_left(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(status=429, retry_after="86400")
    outcome = invoke("generate", "a paper boat", "--retries", "0")
    assert outcome.exit_code == 1
    assert "wait 86400 s" in outcome.stderr


def test_json_record_of_a_failed_prompt(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(status=503, retry_after_ms="1")
    outcome = invoke("generate", "a paper boat", "--retries", "1", "--json")
    assert outcome.exit_code == 1
    record = json.loads(outcome.stdout)
    assert record == {
        "prompt": "a paper boat",
        "model": "gpt-image-2",  # the model it was sent to (issue 17: several -m)
        "error": {
            "status": 503,
            "message": "The service is temporarily overloaded.",
            "code": "service_unavailable",
            "request_id": fake_api.requests[-1].request_id,
        },
    }


def test_auth_failure_stops_a_batch(fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path) -> None:
    """401 is never retried, and the run stops: every other prompt would fail alike."""
    fake_api.always(status=401)
    (isolated_env / "prompts.txt").write_text("".join(f"boat {i}\n" for i in range(20)))
    outcome = invoke("generate", "-f", "prompts.txt", "-d", "out", "-j", "1", "--retries", "3")
    assert outcome.exit_code == 3
    assert len(fake_api.requests) == 1
    assert "Traceback" not in outcome.stderr
    assert leftovers(isolated_env / "out") == []


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://127.0.0.1/x.png", "http://[::1", "http://127.0.0.1:99999/x"],
)
def test_odd_image_urls_fail_cleanly(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, url: str
) -> None:
    """Found by this matrix: a `url` httpx cannot parse was a traceback, `file:` was retried."""
    body = json.dumps({"created": 1, "data": [{"url": url}]})
    fake_api.always(body=body, content_type="application/json")
    outcome = invoke("generate", "a paper boat", "-d", "out", "--retries", "3")
    assert_failed_cleanly(outcome, isolated_env / "out")
    assert len(fake_api.requests) == 1
    assert retry_lines(outcome) == []
    assert "image download failed" in error_lines(outcome)[0]


def test_request_id_of_a_failed_download(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(url_status=404)
    outcome = invoke("generate", "a paper boat", "--retries", "0")
    (line,) = error_lines(outcome)
    assert line.endswith(f"request id {fake_api.requests[-1].request_id})"), line


@pytest.mark.usefixtures("fast_backoff")
def test_download_retries_are_announced(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(url_status=503)
    outcome = invoke("generate", "a paper boat", "--retries", "2")
    assert len(fake_api.downloads) == 3
    assert len(retry_lines(outcome)) == 2
