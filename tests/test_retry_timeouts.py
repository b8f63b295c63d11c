"""Issue 20, never paid twice without asking: a paid request's read time-out is not retried.

A read time-out comes after the request went out whole, so the server may be making the image
and charge for it. It fails the prompt at once, saying so, unless --retry-timeouts (or config
retry-timeouts) asks for the retry, which is then announced as possibly paying twice. What
fails before the request went out (refused, dropped, a connect time-out) is retried as before,
and so is whatever costs nothing to ask again (a poll, a download, the model list).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from deerimg.errors import DeerimgError
from deerimg.wire import retry
from deerimg.wire.send import Broken, Fetch, Sender
from tests.fake import FakeDeerAPI, make_image
from tests.helpers import error_lines, free_port, names_in

RETRIES = 2
# The fake holds the answer far past --timeout: the client gives up first, whatever the load,
# and the fake's thread is let go when the server stops.
STALLED = {"delay": 30}
TIMEOUT = ("--timeout", "0.2")
BILLED = (
    "error: no answer within 0.2 s (ReadTimeout): the request was sent, so it may have been "
    "billed; it is not sent again, since another try could pay twice; --skip-existing re-runs "
    "the prompt"
)
TWICE = "possibly billed: this retry may pay twice (--retry-timeouts)"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """A time-out carries no Retry-After: shrink the back-off so a retry takes ms, not s."""
    monkeypatch.setattr(retry, "BASE_DELAY", 0.001)


def retry_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("retrying")]


def paid_requests(fake_api: FakeDeerAPI) -> list[str]:
    """The paths of every request the API saw but the model list."""
    return [r.path for r in fake_api.requests if not r.path.endswith("/models")]


# Every Fetch that charges: a generation, an edit, Gemini's generateContent, a task's submit.
ROUTES = {
    "generations": (),
    "edits": ("photo.png",),
    "gemini": ("-m", "gemini-3.1-flash-image-preview"),
    "flux": ("-m", "flux-kontext-pro"),
}


def command(route: str) -> list[str]:
    if route == "edits":
        Path("photo.png").write_bytes(make_image("png", 64, 48))
        return ["edit", "photo.png", "a paper boat"]
    return ["generate", "a paper boat", *ROUTES[route]]


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_read_time_out_of_a_paid_request_is_not_retried(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, route: str
) -> None:
    fake_api.always(route=route, **STALLED)
    args = [*command(route), "-d", "out", "--retries", str(RETRIES), *TIMEOUT, "--json"]
    outcome = invoke(*args)

    assert outcome.exit_code == 1, outcome
    assert len(paid_requests(fake_api)) == 1  # sent once: not paid twice
    assert retry_lines(outcome.stderr) == []
    assert error_lines(outcome) == [BILLED]
    hint = "hint: raise --timeout; large or high-quality images can take minutes; "
    assert f"{hint}--retry-timeouts sends such a request again, which may pay twice" in (
        outcome.stderr
    )
    assert "Traceback" not in outcome.stderr
    assert not (isolated_env / "out").exists() or names_in(isolated_env / "out") == []
    (record,) = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert record["error"]["message"] == BILLED.removeprefix("error: ")


def test_skip_existing_re_runs_only_the_prompt_that_timed_out(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    """What the error line promises: the same command with --skip-existing sends that prompt."""
    Path("prompts.txt").write_text("a paper boat\na red fox\n", encoding="utf-8")
    fake_api.queue(STALLED)  # the first prompt's: -j 1 sends them in order
    first = invoke("generate", "-f", "prompts.txt", "-d", "out", "-j", "1", "--timeout", "1")
    assert first.exit_code == 1
    assert len(fake_api.generation_requests()) == 2  # each prompt once
    assert names_in(isolated_env / "out") == ["a-red-fox.png"]

    fake_api.reset()
    again = invoke("generate", "-f", "prompts.txt", "-d", "out", "--skip-existing", "-j", "1")
    assert again.exit_code == 0, again
    assert [r.json["prompt"] for r in fake_api.generation_requests()] == ["a paper boat"]
    assert names_in(isolated_env / "out") == ["a-paper-boat.png", "a-red-fox.png"]


@pytest.mark.parametrize("route", ["generations", "edits"])
def test_retry_timeouts_retries_and_says_it_may_pay_twice(
    fake_api: FakeDeerAPI, invoke: Any, route: str
) -> None:
    fake_api.always(route=route, **STALLED)
    args = [*command(route), "--retries", str(RETRIES), *TIMEOUT, "--retry-timeouts"]
    outcome = invoke(*args)

    assert outcome.exit_code == 1, outcome
    assert len(paid_requests(fake_api)) == RETRIES + 1
    retries = retry_lines(outcome.stderr)
    assert len(retries) == RETRIES
    for number, line in enumerate(retries, start=1):
        assert line.startswith(f"retrying no answer within 0.2 s (ReadTimeout), {TWICE}; ")
        assert f"; retry {number} of {RETRIES} in " in line
    # Out of retries: the time-out itself, as any network error that retries did not mend.
    assert error_lines(outcome) == ["error: no answer within 0.2 s (ReadTimeout)"]


def test_retry_timeouts_recovers_from_one_time_out(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    fake_api.queue(STALLED)
    # --timeout 1: well past a normal answer even on a loaded machine, well short of the delay.
    outcome = invoke("generate", "a paper boat", "-d", "out", "--timeout", "1", "--retry-timeouts")
    assert outcome.exit_code == 0, outcome
    assert len(fake_api.generation_requests()) == 2
    (line,) = retry_lines(outcome.stderr)
    assert TWICE in line
    assert names_in(isolated_env / "out") == ["a-paper-boat.png"]


@pytest.mark.parametrize(
    ("config", "flag", "retried"),
    [
        pytest.param(None, False, False, id="default-off"),
        pytest.param("true", False, True, id="config-on"),
        pytest.param("yes", False, True, id="config-yes"),
        pytest.param("false", False, False, id="config-off"),
        pytest.param("false", True, True, id="flag-over-config"),
    ],
)
def test_config_key_retry_timeouts(
    fake_api: FakeDeerAPI, invoke: Any, config: str | None, flag: bool, retried: bool
) -> None:
    if config is not None:
        assert invoke("config", "set", "retry-timeouts", config).exit_code == 0
        entry = json.loads(invoke("config", "list", "--json").stdout)["retry_timeouts"]
        assert (entry["value"], entry["source"]) == (config != "false", "config")
    fake_api.always(**STALLED)
    extra = ["--retry-timeouts"] if flag else []
    outcome = invoke("generate", "a paper boat", "--retries", "1", *TIMEOUT, *extra)

    assert outcome.exit_code == 1
    assert len(fake_api.generation_requests()) == (2 if retried else 1)
    assert len(retry_lines(outcome.stderr)) == (1 if retried else 0)
    assert (error_lines(outcome) == [BILLED]) is not retried


def test_a_bad_config_value_names_the_key(invoke: Any) -> None:
    outcome = invoke("config", "set", "retry-timeouts", "maybe")
    assert outcome.exit_code == 2
    assert "retry-timeouts" in error_lines(outcome)[0]


def test_a_refused_connection_is_still_retried(fake_api: FakeDeerAPI, invoke: Any) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    outcome = invoke(
        "generate", "a paper boat", "--retries", str(RETRIES), *TIMEOUT,
        env={"DEERIMG_BASE_URL": base},
    )  # fmt: skip
    assert outcome.exit_code == 1
    retries = retry_lines(outcome.stderr)
    assert len(retries) == RETRIES
    assert all("refused" in line and TWICE not in line for line in retries)
    assert fake_api.requests == []


def test_a_dropped_connection_is_still_retried(fake_api: FakeDeerAPI, invoke: Any) -> None:
    """No time-out, no answer: a keep-alive connection the server closed is the usual cause."""
    fake_api.queue({"drop": True})
    outcome = invoke("generate", "a paper boat", "-o", "boat.png", *TIMEOUT)
    assert outcome.exit_code == 0, outcome
    assert len(fake_api.generation_requests()) == 2
    (line,) = retry_lines(outcome.stderr)
    assert "Server disconnected" in line and TWICE not in line


# -- each time-out and network error, as the Sender classes it ----------------------------------

URL = "http://127.0.0.1:9/v1/images/generations"


def attempt(error: Exception, *, charges: bool = True, retry_timeouts: bool = False) -> Any:
    """One Sender.attempt of a fetch whose transport raises ERROR."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = httpx.Client(transport=httpx.MockTransport(handler))
    sender = Sender(
        client, timeout=0.2, retries=RETRIES, stop=threading.Event(), rand=lambda: 0.0,
        retry_timeouts=retry_timeouts,
    )  # fmt: skip
    return sender.attempt(Fetch("POST", URL, charges=charges))


@pytest.mark.parametrize(
    ("error", "charges"),
    [
        pytest.param(httpx.ConnectTimeout("connect"), True, id="connect-time-out"),
        pytest.param(httpx.PoolTimeout("pool"), True, id="pool-time-out"),
        pytest.param(httpx.WriteTimeout("write"), True, id="write-time-out-not-sent-whole"),
        pytest.param(httpx.ConnectError("refused"), True, id="connect-error-dns-refused"),
        pytest.param(httpx.ProxyError("proxy"), True, id="proxy-error"),
        pytest.param(httpx.RemoteProtocolError("disconnected"), True, id="dropped"),
        pytest.param(httpx.ReadTimeout("read"), False, id="read-time-out-of-a-poll-or-download"),
    ],
)
def test_what_stays_retried(error: Exception, charges: bool) -> None:
    outcome = attempt(error, charges=charges)
    assert isinstance(outcome, Broken)
    assert not outcome.billed


def test_a_paid_read_time_out_is_final_unless_asked() -> None:
    with pytest.raises(DeerimgError) as raised:
        attempt(httpx.ReadTimeout("read"))
    assert raised.value.message == BILLED.removeprefix("error: ")
    asked = attempt(httpx.ReadTimeout("read"), retry_timeouts=True)
    assert isinstance(asked, Broken) and asked.billed
    assert asked.error.message == "no answer within 0.2 s (ReadTimeout)"


def test_a_retry_that_may_pay_twice_counts_against_max_cost(
    fake_api: FakeDeerAPI, invoke: Any, config_file: Path
) -> None:
    """Issue 20: the try a --retry-timeouts retry replaces is counted at its estimate."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[prices."gpt-image-2"]\nper_image = 0.01\n')
    Path("p.txt").write_text("one\ntwo\nthree\n")
    fake_api.queue(STALLED)
    outcome = invoke("generate", "-f", "p.txt", "-d", "out", "-j", "1", "--timeout", "1",
                     "--retry-timeouts", "--max-cost", "0.025")  # fmt: skip
    # 0.01 possibly paid by the first try, 0.01 by its retry: the next 0.01 would pass 0.025
    assert outcome.exit_code == 1, outcome
    assert len(fake_api.generation_requests()) == 2
    assert "the budget (--max-cost 0.025) stopped the run" in outcome.stderr
