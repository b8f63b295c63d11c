"""The terminal under a hostile world (issue 16): closed standard streams, encodings that cannot
carry the text, a terminal left tidy after a stop, data lines that never glue onto the bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import OUTPUTS
from tests.fake import FakeDeerAPI
from tests.helpers import ledger_entries, write_ledger

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX shells and descriptors")


def run_closed(
    args: Sequence[str], close: str, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m deerimg ARGS` with CLOSE (`>&-` or `2>&-`) applied by a shell: the process
    starts without that descriptor, as under cron or a daemon (a DEVNULL is not closed)."""
    done = subprocess.run(
        ["sh", "-c", f'exec "$@" {close}', "sh", sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    OUTPUTS.append(done.stdout + done.stderr)
    return done


# -- closed stdout or stderr (finding 7) --------------------------------------------------------


@posix_only
@pytest.mark.parametrize("close", [">&-", "2>&-"])
def test_a_closed_stream_keeps_the_image_saved_and_the_exit_code(
    fake_api: FakeDeerAPI, isolated_env: Path, close: str
) -> None:
    done = run_closed(["generate", "a closed stream", "-o", "closed.png"], close)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert Path("closed.png").is_file()
    (entry,) = ledger_entries()
    assert (entry["outcome"], entry["files"]) == ("ok", ["closed.png"])
    if close == ">&-":
        assert "saved closed.png" in done.stderr  # people still hear of it


@posix_only
def test_a_closed_stdout_in_a_batch_fails_no_prompt(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    Path("p.txt").write_text("one\ntwo\nthree\n")
    done = run_closed(["generate", "-f", "p.txt", "-j", "2", "--json"], ">&-")
    assert done.returncode == 0, done.stderr
    assert "done: 3 images saved" in done.stderr
    assert sorted(e["outcome"] for e in ledger_entries()) == ["ok", "ok", "ok"]


@posix_only
@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("history", "--json"),
        ("history", "--usage"),
        ("models",),
        ("models", "--json"),
        ("config", "list"),
        ("config", "list", "--json"),
        ("config", "get", "model"),
        ("config", "path"),
        ("generate", "x", "--dry-run"),
    ],
)
@pytest.mark.parametrize("close", [">&-", "2>&-"])
def test_listings_with_a_closed_stream_exit_0_without_a_traceback(
    fake_api: FakeDeerAPI, isolated_env: Path, args: tuple[str, ...], close: str
) -> None:
    write_ledger(json.dumps({"time": "2026-12-01T10:00:00Z", "command": "generate",
                             "prompt": "a boat", "outcome": "ok", "files": ["b.png"]}))  # fmt: skip
    done = run_closed(args, close)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@posix_only
def test_an_error_with_a_closed_stderr_keeps_its_exit_code(isolated_env: Path) -> None:
    done = run_closed(["generate", "x", "-n", "11"], "2>&-")
    assert (done.returncode, done.stdout) == (2, "")


# -- an encoding that cannot carry the text (finding 9) ------------------------------------------

ASCII = {"PYTHONIOENCODING": "ascii"}


def run_ascii(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, **ASCII},
        timeout=60,
        check=False,
    )
    OUTPUTS.append(done.stdout.decode("ascii", "replace") + done.stderr.decode("ascii", "replace"))
    return done


def test_ascii_config_list_escapes_the_ellipsis(isolated_env: Path) -> None:
    done = run_ascii(["config", "list"])
    assert done.returncode == 0, done.stderr
    assert b"UnicodeEncodeError" not in done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith(b"api-key")]
    assert b"sk-\\u2026" in line  # sk-…cRET, as JSON would escape it


def test_ascii_history_escapes_a_prompt_and_json_stays_json(isolated_env: Path) -> None:
    prompt = "un caf\u00e9 \u2615 \U0001f98c"
    write_ledger(json.dumps({"time": "2026-12-01T10:00:00Z", "command": "generate",
                             "prompt": prompt, "outcome": "ok", "files": []}))  # fmt: skip
    table = run_ascii(["history"])
    assert table.returncode == 0, table.stderr
    assert b"un caf\\u00e9 \\u2615 \\ud83e\\udd8c" in table.stdout
    as_json = run_ascii(["history", "--json"])
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["prompt"] == prompt


def test_ascii_generate_and_info_of_a_non_ascii_prompt(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    prompt = "caf\u00e9 \u2026 au lait"
    made = run_ascii(["generate", prompt, "-o", "cafe.png", "--json"])
    assert made.returncode == 0, made.stderr
    assert b"Error" not in made.stderr
    assert json.loads(made.stdout)["prompt"] == prompt
    (entry,) = ledger_entries()
    assert entry["outcome"] == "ok"
    shown = run_ascii(["info", "cafe.png"])
    assert shown.returncode == 0, shown.stderr
    assert b"caf\\u00e9 \\u2026 au lait" in shown.stdout


@posix_only
def test_a_file_name_that_is_not_utf8_is_printed_as_its_bytes(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: a lone surrogate in Python's str
    strict = {"PYTHONIOENCODING": "utf-8"}  # as in a UTF-8 locale other than C.UTF-8: "strict"
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", "generate", "x", "-o", name],
        stdin=subprocess.DEVNULL, capture_output=True, env={**os.environ, **strict}, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"caf\xe9.png\n"  # the path names the file: `xargs rm` finds it
    assert Path(os.fsdecode(b"caf\xe9.png")).is_file()


def test_the_report_writes_nowhere_without_standard_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deerimg.errors import DeerimgError
    from deerimg.report import terminal
    from deerimg.report.listings import show_history
    from deerimg.report.run import Report

    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    terminal.data("a path")
    terminal.note("a note")
    terminal.warn("a warning")
    terminal.print_error(DeerimgError("an error", hint="a hint"))
    show_history([{"prompt": "p", "outcome": "ok"}], as_json=False, empty="none")
    report = Report()
    report.warn("a warning")
    report._data("a path")
