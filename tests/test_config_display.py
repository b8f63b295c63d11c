"""How values are shown: history times in the local zone, config numbers in full, runnable hints."""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deerimg.settings import keys
from tests import helpers
from tests.test_odd_records import GOOD  # one ledger entry for the tests of history


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local zone is Asia/Tokyo (UTC+9, no summer time) for the test, and as it was after."""
    before = os.environ.get("TZ")
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    # As monkeypatch will leave it, but now, so that tzset reads the zone from before.
    if before is None:
        monkeypatch.delenv("TZ")
    else:
        monkeypatch.setenv("TZ", before)
    time.tzset()


def write_ledger(*times: object) -> Path:
    """A ledger of GOOD entries at these TIMES, prompted "boat 0", "boat 1"..."""
    return helpers.write_ledger(
        *(
            json.dumps({**GOOD, "time": when, "prompt": f"boat {number}"})
            for number, when in enumerate(times)
        )
    )


# -- history: the local zone, as --since and --usage read it ------------------------------------


def test_history_shows_times_in_the_zone_since_reads_them_in(invoke, tokyo):
    # 23:57 UTC on the 24th is 08:57 on the 25th in Tokyo; 14:00 UTC is 23:00 on the 24th there.
    write_ledger("2026-11-24T14:00:00Z", "2026-11-24T23:57:00Z")
    since = invoke("history", "--since", "2026-11-25")
    assert since.exit_code == 0, since
    assert "2026-11-25 08:57:00" in since.stdout
    assert "2026-11-24 23:57" not in since.stdout
    assert "boat 0" not in since.stdout
    everything = invoke("history")
    assert "2026-11-24 23:00:00" in everything.stdout
    assert "2026-11-25 08:57:00" in everything.stdout
    usage = invoke("history", "--usage", "--json")
    assert {row["day"] for row in json.loads(usage.stdout)} == {"2026-11-24", "2026-11-25"}


def test_history_json_keeps_the_stored_time(invoke, tokyo):
    write_ledger("2026-11-24T23:57:00Z", "2026-11-24T10:00:00+02:00")
    shown = invoke("history", "--json")
    assert shown.exit_code == 0, shown
    assert [e["time"] for e in json.loads(shown.stdout)] == [
        "2026-11-24T23:57:00Z",
        "2026-11-24T10:00:00+02:00",
    ]
    table = invoke("history")
    assert "2026-11-24 17:00:00" in table.stdout  # 08:00 UTC in Tokyo


@pytest.mark.parametrize("when", ["not a time", "2026-13-45T99:00:00Z", 5, None])
def test_history_shows_an_unreadable_time_blank(invoke, tokyo, when):
    write_ledger(when, "2026-11-24T23:57:00Z")
    result = invoke("history")
    assert result.exit_code == 0, result
    rows = [line for line in result.stdout.splitlines() if "boat" in line]
    assert len(rows) == 2
    assert rows[0].lstrip().startswith("generate")
    assert "not a time" not in result.stdout and "2026-13-45" not in result.stdout
    assert rows[1].lstrip().startswith("2026-11-25 08:57:00")


# -- config numbers: shown exactly as `config set` takes them back ------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("1234567", "1234567"),
        ("600", "600"),
        ("0.5", "0.5"),
        ("0.1", "0.1"),
        ("1234567.25", "1234567.25"),
        ("123456789012345", "123456789012345"),
        ("1e-7", "1e-07"),
        ("1e20", "1e+20"),
    ],
)
def test_get_and_list_show_the_timeout_in_full(invoke, config_file, value, shown):
    assert invoke("config", "set", "timeout", value).exit_code == 0
    got = invoke("config", "get", "timeout")
    assert (got.exit_code, got.stdout) == (0, shown + "\n")
    listed = invoke("config", "list")
    assert re.search(rf"^timeout +{re.escape(shown)} +config file *$", listed.stdout, re.M), listed
    stored = config_file.read_text()
    # What is shown, set again, writes the same file.
    assert invoke("config", "set", "timeout", shown).exit_code == 0
    assert config_file.read_text() == stored


def test_display_value_is_the_shortest_text_that_reads_back() -> None:
    for number in (1234567.0, 0.1, 1 / 3, 2.5e-05, 1e16, 123456789.125, 300.0):
        text = keys.display_value("timeout", number)
        assert float(text) == number
        assert "e" in text or not text.endswith(".0")
    assert keys.display_value("timeout", 300.0) == "300"
    assert keys.display_value("jobs", 12) == "12"


# -- an unset key: a hint that runs as given ----------------------------------------------------


def hinted_command(stderr: str) -> list[str]:
    match = re.search(r"hint: set it with `deerimg (config set [^`]*)`", stderr)
    assert match, stderr
    return shlex.split(match.group(1))


def test_unset_key_hint_is_a_command_that_runs(invoke, config_file):
    result = invoke("config", "get", "size")
    assert result.exit_code == 1
    assert "error: size is not set" in result.stderr
    command = hinted_command(result.stderr)
    assert command == ["config", "set", "size", "VALUE"]
    ran = invoke(*command[:-1], "1024x1536")
    assert ran.exit_code == 0, ran
    assert invoke("config", "get", "size").stdout == "1024x1536\n"


def test_unset_api_key_hint_asks_for_the_key_not_on_the_command_line(
    invoke, config_file, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("DEERAPI_KEY", raising=False)
    result = invoke("config", "get", "api-key")
    assert result.exit_code == 1
    command = hinted_command(result.stderr)
    assert command == ["config", "set", "api-key"]  # no VALUE: it prompts, hidden
    ran = invoke(*command, input="sk-hint-0123456789abcdefHINT\n")
    assert ran.exit_code == 0, ran
    assert "shell history" not in ran.stderr
    assert invoke("config", "get", "api-key").stdout == "sk-…HINT\n"
