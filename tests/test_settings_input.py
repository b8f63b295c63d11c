"""Settings and prompt sources that are refused or read as people mean them: a base URL with a
password, a query or a bad port; a plain-http host that only looks local; a byte-order mark in a
config file or on standard input; standard input closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from deerimg.errors import DeerimgError
from deerimg.jobs.prompts import read_jobs
from deerimg.report.terminal import note

pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://user:s3cret@127.0.0.1:9", "no user name or password"),
        ("https://api.deerapi.com?x=1", "no query"),
        ("https://api.deerapi.com/v1#top", "no query"),
        ("http://127.0.0.1:abc", "port that is not a number"),
        ("https://api deerapi.com", "must be an http(s) URL"),
    ],
)
def test_a_bad_base_url_is_refused_before_sending(
    fake_api: Any, invoke: Any, monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("DEERIMG_BASE_URL", url)
    outcome = invoke("generate", "a boat", "--dry-run")
    assert outcome.exit_code == 3
    assert outcome.stderr.startswith("error: DEERIMG_BASE_URL: base-url ")
    assert says in outcome.stderr
    assert "s3cret" not in outcome.stdout + outcome.stderr
    monkeypatch.delenv("DEERIMG_BASE_URL")
    refused = invoke("config", "set", "base-url", url)
    assert refused.exit_code == 2
    assert says in refused.stderr
    assert "s3cret" not in refused.stdout + refused.stderr
    assert fake_api.requests == []


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://127.0.0.1:9", False),
        ("http://127.1.2.3:9", False),
        ("http://localhost:9", False),
        ("http://127.evil.example", True),
        ("http://127.0.0.1.nip.io:8080", True),
        ("http://example.com", True),
    ],
)
def test_plain_http_warns_unless_the_host_is_this_machine(
    invoke: Any, monkeypatch: pytest.MonkeyPatch, url: str, warned: bool
) -> None:
    monkeypatch.setenv("DEERIMG_BASE_URL", url)
    outcome = invoke("generate", "a boat", "--dry-run")
    assert outcome.exit_code == 0, outcome
    assert ("plain http" in outcome.stderr) is warned


def test_a_config_file_with_a_byte_order_mark_is_read(invoke: Any) -> None:
    path = Path(os.environ["DEERIMG_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(b'\xef\xbb\xbfmodel = "dall-e-3"\n')
    outcome = invoke("generate", "a boat", "--dry-run")
    assert outcome.exit_code == 0, outcome
    assert json.loads(outcome.stdout)["body"]["model"] == "dall-e-3"


def test_a_byte_order_mark_on_standard_input_leaves_a_comment_a_comment(invoke: Any) -> None:
    outcome = invoke("generate", "--dry-run", input="\ufeff# a comment\na real prompt\n")
    assert outcome.exit_code == 0, outcome
    (request,) = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert request["body"]["prompt"] == "a real prompt"
    one = invoke("generate", "-", "--dry-run", input="\ufeffone prompt\n")
    assert json.loads(one.stdout)["body"]["prompt"] == "one prompt"


def test_closed_standard_input_is_no_prompt_not_a_traceback() -> None:
    for prompt, file in ((None, None), ("-", None), (None, "-")):
        with pytest.raises(DeerimgError) as caught:
            read_jobs(prompt, file, None, False, note)
        assert caught.value.exit_code == 2
    done = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m deerimg generate --dry-run <&-'],
        capture_output=True, text=True, timeout=60, check=False, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "error: no prompt given" in done.stderr


def test_a_prompt_read_from_a_terminal_says_how_to_end_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    jobs = read_jobs("-", None, io.StringIO("a boat at dawn\n"), True, note)
    assert [job.prompt for job in jobs] == ["a boat at dawn"]
    assert "type the prompt, then Ctrl-D on a line of its own" in capsys.readouterr().err
    read_jobs(None, "-", io.StringIO("one\ntwo\n"), True, note)
    assert "type one prompt a line, then Ctrl-D" in capsys.readouterr().err
    read_jobs("-", None, io.StringIO("piped\n"), False, note)
    assert capsys.readouterr().err == ""  # piped: nothing to say
