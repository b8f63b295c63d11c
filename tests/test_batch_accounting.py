"""What a batch has paid for is kept, counted and told: url images after a stop, the tokens of an
answer whose image then failed, failures that come after Ctrl-C, answers with too few images."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from deerimg.settings.resolve import Settings
from deerimg.wire.client import ApiClient
from deerimg.wire.send import Cancelled
from tests.conftest import OUTPUTS, TEST_KEY, interrupt_when
from tests.fake import FakeDeerAPI
from tests.helpers import ledger_entries, names_in

pytestmark = pytest.mark.usefixtures("isolated_env")


def settings(fake_api: FakeDeerAPI) -> Settings:
    return Settings(TEST_KEY, fake_api.base_url, "dall-e-3", None, None, None, Path(), 2, 5, 2)


def test_a_paid_image_url_is_downloaded_after_a_stop(fake_api: FakeDeerAPI) -> None:
    stop = threading.Event()
    client = ApiClient(settings(fake_api), stop=stop)
    try:
        result = client.generate(
            {"model": "dall-e-3", "prompt": "a boat", "response_format": "url"}
        )
        stop.set()  # Ctrl-C or --fail-fast, after this answer came: the image is paid for
        image = client.download(result.data[0]["url"])
        assert bytes(image[:4]) == b"\x89PNG"
        with pytest.raises(Cancelled):  # what is not paid for yet is not sent
            client.generate({"model": "dall-e-3", "prompt": "another"})
    finally:
        client.close()
    assert len(fake_api.generation_requests()) == 1


def test_the_tokens_of_an_answer_whose_image_fails_are_counted_and_recorded(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    fake_api.queue({"not_image": True})
    outcome = invoke("generate", input="one\ntwo\n")
    assert outcome.exit_code == 1
    # Both answers were paid for: 224 tokens each (16 in, 208 out).
    assert "tokens: input 32, output 416, total 448" in outcome.stderr
    failed = [e for e in ledger_entries() if e["outcome"] == "failed"]
    assert [e["usage"]["total_tokens"] for e in failed] == [224]
    assert failed[0]["request_id"] == failed[0]["error"]["request_id"]


def test_an_answer_with_fewer_images_than_asked_fails_and_the_rest_is_resumed(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    b64 = base64.b64encode(fake_api.expected_image("png", "1024x1024")).decode()
    body = json.dumps({"created": 1, "data": [{"b64_json": b64}]})
    fake_api.queue({"body": body, "content_type": "application/json"})
    outcome = invoke("generate", "a cat", "-n", "2", "--no-history")
    assert outcome.exit_code == 1
    request_id = fake_api.generation_requests()[0].request_id
    assert f"the API sent 1 of the 2 images asked for (request id {request_id})" in outcome.stderr
    assert outcome.stdout.split() == ["a-cat-1.png"]

    fake_api.reset()
    again = invoke("generate", "a cat", "-n", "2", "--skip-existing", "--no-history")
    assert again.exit_code == 0, again
    (sent,) = fake_api.generation_requests()
    assert sent.json["n"] == 1
    assert names_in(".", "*.png") == ["a-cat-1.png", "a-cat-2.png"]


def test_a_failure_after_ctrl_c_is_told_like_any_other(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    fake_api.reject_prompts("forbidden")
    fake_api.latency = 0.5
    Path("p.txt").write_text("a good boat\na forbidden boat\nthird\nfourth\n")
    code, out, err, _ = interrupt_when(
        ["generate", "-f", "p.txt", "-j", "2", "--json"],
        lambda: fake_api.in_flight >= 2,  # both first prompts are waiting for their answers
    )
    assert code == 130, err
    records = {r["prompt"]: r for r in map(json.loads, out.splitlines())}
    assert sorted(records) == ["a forbidden boat", "a good boat", "fourth", "third"]
    assert "path" in records["a good boat"]
    assert records["a forbidden boat"]["error"]["status"] == 400
    for prompt in ("third", "fourth"):  # never sent: told so, for a script re-running failures
        assert records[prompt]["error"] == {
            "status": None, "message": "not run: interrupted", "code": "not_run",
            "request_id": None,
        }  # fmt: skip
    assert any(line.startswith("error: ") and "line 2" in line for line in err.splitlines())
    assert "interrupted: 1 image saved, 1 prompt failed, 2 not run" in err
    outcomes = sorted((e["prompt"], e["outcome"]) for e in ledger_entries())
    assert outcomes == [("a forbidden boat", "failed"), ("a good boat", "ok")]


def test_a_reader_that_goes_away_loses_no_image_and_fails_no_prompt(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    fake_api.latency = 0.3  # the next paths are written after the reader has gone
    Path("p.txt").write_text("one\ntwo\nthree\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "deerimg", "generate", "-f", "p.txt", "-j", "1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ),
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()  # what `| head -1` reads, before it leaves
    process.stdout.close()
    err = process.stderr.read().decode()
    process.wait(timeout=30)
    OUTPUTS.append(first.decode() + err)
    assert first.decode().strip() in {"one.png", "two.png", "three.png"}
    assert process.returncode == 0, err
    assert "error" not in err
    assert "done: 3 images saved" in err
    assert names_in(".", "*.png") == ["one.png", "three.png", "two.png"]
    assert len(ledger_entries()) == 3


def test_json_tells_the_prompts_a_fail_fast_never_ran(fake_api: FakeDeerAPI, invoke: Any) -> None:
    fake_api.reject_prompts("BAD")
    outcome = invoke("generate", "--json", "--fail-fast", "-j", "1", input="BAD one\ntwo\nthree\n")
    assert outcome.exit_code == 1
    records = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert records[0]["prompt"] == "BAD one" and records[0]["error"]["status"] == 400
    not_run = {r["prompt"]: r["error"]["message"] for r in records[1:]}
    assert set(not_run) <= {"two", "three"} and "three" in not_run  # "two" may have been sent
    assert set(not_run.values()) == {"not run: --fail-fast stopped the run"}
    assert len(records) == 3  # every prompt: saved, failed or not run


def test_quiet_keeps_the_config_warnings_off_too(invoke: Any, isolated_env: Path) -> None:
    config = isolated_env.parent / "config"
    config.mkdir()
    (config / "config.toml").write_text('colour = "blue"\n')  # an unknown key: a warning
    loud = invoke("generate", "a boat", "--dry-run")
    assert "warning:" in loud.stderr
    quiet = invoke("generate", "a boat", "--dry-run", "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
