"""Issue 16, the network layer under a hostile world: paid answers that break, deadlines, caps.

The fault matrix (test_faults.py) runs each fault through the CLI; these look closer: the
ledger and --json of a paid answer that broke, the deadline against a trickle that then stalls,
and Sender itself against bodies no server on 127.0.0.1 makes easily (endless, oversized).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from deerimg.errors import DeerimgError
from deerimg.wire import proxies, reading, retry
from deerimg.wire.send import Answer, Broken, Fetch, Sender
from tests.fake import FakeDeerAPI
from tests.helpers import error_lines, ledger_entries

PAID_HINT = "likely charged"


def test_a_cut_off_200_is_paid_once_and_its_request_id_kept(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    fake_api.always(truncate=True)
    outcome = invoke("generate", "a paper boat", "--retries", "3", "--json")
    assert outcome.exit_code == 1
    (seen,) = fake_api.generation_requests()  # one try: another would pay again
    record = json.loads(outcome.stdout)
    assert record["error"]["status"] == 200
    assert record["error"]["request_id"] == seen.request_id
    assert record["error"]["message"].startswith("the body was cut off after ")
    (line,) = error_lines(outcome)
    assert line.endswith(f"(request id {seen.request_id})")
    assert PAID_HINT in outcome.stderr
    assert "retrying" not in outcome.stderr
    (entry,) = ledger_entries()
    assert entry["outcome"] == "failed"
    assert entry["request_id"] == seen.request_id
    assert entry["error"]["request_id"] == seen.request_id


def test_the_deadline_holds_against_a_trickle_that_then_stalls(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    """Half the body in pieces over 1.5 s, then nothing: --timeout 2 ends the answer at 2 s.

    httpx's per-read time-out would restart after the last piece and wait until 3.5 s.
    """
    fake_api.always(trickle=0.25, trickle_bytes=2048, stall=30)
    started = time.monotonic()
    outcome = invoke("generate", "a paper boat", "--timeout", "2", "--retries", "0")
    elapsed = time.monotonic() - started
    assert outcome.exit_code == 1
    (line,) = error_lines(outcome)
    assert "200 the body stalled after" in line
    assert "not whole within --timeout 2 s" in line
    assert 1.9 <= elapsed < 3.0, elapsed


def test_a_503_that_stalls_mid_body_is_retried_with_its_request_id(
    fake_api: FakeDeerAPI, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "BASE_DELAY", 0.001)
    fake_api.queue({"status": 503, "stall": 30})
    outcome = invoke("generate", "a paper boat", "--timeout", "0.5", "--retries", "1")
    assert outcome.exit_code == 0, outcome
    first, _ = fake_api.generation_requests()
    (announced,) = [line for line in outcome.stderr.splitlines() if line.startswith("retrying")]
    assert "503 answer incomplete: the body stalled after" in announced
    assert f"request id {first.request_id};" in announced


def test_a_cut_off_model_list_is_asked_again(
    fake_api: FakeDeerAPI, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GET /models costs nothing: its 200 cut off mid-body is retried, unlike a generation."""
    monkeypatch.setattr(retry, "BASE_DELAY", 0.001)
    fake_api.queue({"route": "models", "truncate": True})
    outcome = invoke("models", "--json")
    assert outcome.exit_code == 0, outcome
    assert [r.path for r in fake_api.requests] == ["/v1/models", "/v1/models"]


# -- Sender against bodies made in-process ----------------------------------------------------


def one_sender(handler: Callable[[httpx.Request], httpx.Response], timeout: float = 5.0) -> Sender:
    """A Sender over httpx's MockTransport (which holds nothing to close)."""
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Sender(client, timeout=timeout, retries=0, stop=threading.Event(), rand=lambda: 0.0)


def broken_body(pieces: int) -> Iterator[bytes]:
    for _ in range(pieces):
        yield b"x" * 100
    raise httpx.ReadError("connection reset by peer")


@pytest.mark.parametrize(
    ("status", "charges", "final"),
    [
        pytest.param(200, True, True, id="200-generation-final"),
        pytest.param(200, False, False, id="200-download-retried"),
        pytest.param(503, True, False, id="503-retried"),
        pytest.param(400, True, True, id="400-final"),
    ],
)
def test_a_body_cut_off_after_its_status(status: int, charges: bool, final: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"x-request-id": "rid_7"}, content=broken_body(3))

    fetch = Fetch("POST", "http://127.0.0.1:9/v1/images/generations", charges=charges)
    if final:
        with pytest.raises(DeerimgError) as raised:
            one_sender(handler).attempt(fetch)
        assert (raised.value.status, raised.value.request_id) == (status, "rid_7")
        if status == 200:
            assert raised.value.message == (
                "the body was cut off after 300 bytes (connection reset by peer)"
            )
            assert PAID_HINT in (raised.value.hint or "")
        return
    outcome = one_sender(handler).attempt(fetch)
    assert isinstance(outcome, Broken)
    assert outcome.error.request_id == "rid_7"
    assert outcome.error.message == "network error: connection reset by peer"


def test_an_endless_body_is_refused_as_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_ANSWER_BYTES", 1000)
    pulled = []

    def endless() -> Iterator[bytes]:
        while True:
            pulled.append(1)
            yield b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    with pytest.raises(DeerimgError, match="larger than 0 MB: refused"):
        one_sender(handler).attempt(Fetch("GET", "http://127.0.0.1:9/x"))
    assert len(pulled) <= 12  # stopped at the cap, not after holding everything


def test_a_content_length_over_the_cap_is_refused_before_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pulled = []

    def body() -> Iterator[bytes]:
        pulled.append(1)
        yield b"x"

    def handler(request: httpx.Request) -> httpx.Response:
        length = str(reading.MAX_ANSWER_BYTES + 1)
        return httpx.Response(200, headers={"content-length": length}, content=body())

    with pytest.raises(DeerimgError, match="larger than 512 MB") as raised:
        one_sender(handler).attempt(Fetch("GET", "http://127.0.0.1:9/x"))
    assert raised.value.status == 200
    assert pulled == []


def test_without_a_socket_the_deadline_is_checked_after_each_chunk() -> None:
    """MockTransport gives no network_stream: the check between chunks ends a trickle."""

    def trickle() -> Iterator[bytes]:
        for _ in range(100):
            time.sleep(0.02)
            yield b"x"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle())

    started = time.monotonic()
    with pytest.raises(DeerimgError, match=r"came too slowly: not whole within --timeout 0\.2 s"):
        one_sender(handler, timeout=0.2).attempt(Fetch("POST", "http://127.0.0.1:9/x"))
    assert time.monotonic() - started < 1.0


def test_a_whole_answer_in_time_is_an_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"{", b"}"]))

    outcome = one_sender(handler, timeout=0.5).attempt(Fetch("POST", "http://127.0.0.1:9/x"))
    assert isinstance(outcome, Answer)
    assert outcome.body == b"{}"


# -- Retry-After past two minutes: the hint names the wait readably -------------------------------

NOW = 1767225600.0  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("wait", "asked"),
    [
        (120.5, "121 s, more than 120 s"),
        (3600.0, "3600 s, more than 120 s"),
        (86400.0, "86400 s, more than 120 s"),
        (86401.0, "more than a day (until 2026-01-02 00:00 UTC), more than 120 s"),
        (2299777716.0, "more than a day (until 2098-11-16 19:08 UTC)"),
        (1e15, "more than a day, more than 120 s"),  # past the year 9999
        (math.inf, "more than a day, more than 120 s"),
    ],
)
def test_quota_hint_table(wait: float, asked: str) -> None:
    hint = retry.quota_hint(wait, NOW)
    assert hint.startswith(f"the server asks to wait {asked}")
    assert "inf" not in hint


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("inf", "wait more than a day"),
        ("1e309", "wait more than a day"),
        ("Wed, 21 Oct 2099 07:28:00 GMT", "wait more than a day (until 2099-10-21 07:28 UTC)"),
        ("120.5", "wait 121 s, more than 120 s"),
    ],
)
def test_quota_waits_read_well(fake_api: FakeDeerAPI, invoke: Any, value: str, shown: str) -> None:
    fake_api.always(status=429, retry_after=value)
    outcome = invoke("generate", "a paper boat", "--retries", "3")
    assert outcome.exit_code == 1
    assert len(fake_api.requests) == 1
    assert f"hint: the server asks to {shown}" in outcome.stderr


# -- proxies from the environment ------------------------------------------------------------


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable but those a test sets (the fixture's NO_PROXY=* removed)."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "url", "shown"),
    [
        ({"HTTP_PROXY": "garbage"}, "http://api.example/v1", " via proxy garbage (HTTP_PROXY)"),
        ({"HTTP_PROXY": "garbage"}, "https://api.example/v1", ""),
        (
            {"HTTPS_PROXY": "http://p:3128", "ALL_PROXY": "socks5://s:1080"},
            "https://api.example/v1",
            " via proxy http://p:3128 (HTTPS_PROXY)",
        ),
        (
            {"ALL_PROXY": "socks5h://me:secret@s:1080"},
            "https://api.example/v1",
            " via proxy socks5h://…@s:1080 (ALL_PROXY)",
        ),
        (
            {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"},
            "https://api.example/v1",
            " via proxy http://lower:1 (https_proxy)",
        ),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://api.example/v1", ""),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "example"}, "https://api.example/v1", ""),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "a, api.example"}, "https://api.example/", ""),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": ".example"}, "https://example/", " via proxy "),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1"}, "http://127.0.0.1:8/", ""),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "::1"}, "http://[::1]:8/", ""),
        ({"ALL_PROXY": "http://p:1", "NO_PROXY": "le.example"}, "https://api.example/", " via"),
    ],
)
def test_which_proxy_a_network_error_names(
    proxy_env: pytest.MonkeyPatch, env: dict[str, str], url: str, shown: str
) -> None:
    for name, value in env.items():
        proxy_env.setenv(name, value)
    assert proxies.via(url).startswith(shown)
    assert bool(proxies.via(url)) == bool(shown)


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("HTTP_PROXY", "http://[::1", "Invalid port"),
        ("http_proxy", "::::", "Invalid port"),
        ("HTTPS_PROXY", "ftp://me:secret@127.0.0.1:1", "its scheme is not http, https, socks5"),
        ("ALL_PROXY", "socks5://127.0.0.1:1x", "Invalid port"),
    ],
)
def test_a_malformed_proxy_names_its_variable(
    proxy_env: pytest.MonkeyPatch, invoke: Any, name: str, value: str, why: str
) -> None:
    proxy_env.setenv(name, value)
    outcome = invoke("generate", "a paper boat", "--retries", "0")
    assert outcome.exit_code == 3
    (line,) = error_lines(outcome)
    assert line.startswith(f"error: {name} is not a proxy URL deerimg can use: ")
    assert why in line
    assert "secret" not in outcome.stderr
    assert f"hint: fix {name} " in outcome.stderr
    assert "Traceback" not in outcome.stderr


# -- hints for answers that are not the API's, and the bound on --retries ---------------------


@pytest.mark.parametrize(
    ("fault", "hint"),
    [
        (
            {"body": "<!doctype html><title>Welcome</title>"},
            "hint: a web page answered, not the API",
        ),
        ({"body": "<html></html>", "content_type": "text/plain"}, "a web page answered"),
        ({"status": 402}, "hint: check the DeerAPI account's balance"),
    ],
)
def test_hints_for_a_page_and_an_empty_balance(
    fake_api: FakeDeerAPI, invoke: Any, fault: dict[str, Any], hint: str
) -> None:
    fake_api.always(**fault)
    outcome = invoke("generate", "a paper boat", "--retries", "3")
    assert outcome.exit_code == 1
    assert len(fake_api.requests) == 1
    assert hint in outcome.stderr
    if "status" not in fault:
        assert "DEERIMG_BASE_URL" in outcome.stderr


def test_json_that_is_no_image_gets_no_page_hint(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.always(body="[not json", content_type="application/json")
    outcome = invoke("generate", "a paper boat")
    assert "is not JSON" in outcome.stderr
    assert "web page" not in outcome.stderr


@pytest.mark.parametrize("value", ["21", "99999999999"])
def test_retries_are_bounded(fake_api: FakeDeerAPI, invoke: Any, value: str) -> None:
    outcome = invoke("generate", "a paper boat", "--retries", value)
    assert outcome.exit_code == 2
    assert error_lines(outcome) == ["error: invalid value for --retries: must be from 0 to 20"]
    assert fake_api.requests == []
    refused = invoke("config", "set", "retries", value)
    assert refused.exit_code == 2
    assert invoke("generate", "a paper boat", "--retries", "20").exit_code == 0
