"""Issue 23: -j auto's last --json record says the rate the run reached; a fixed -j N adds none."""

from __future__ import annotations

import json
from pathlib import Path

KEYS = {
    "rate_per_minute",
    "paced_per_minute",
    "answered_429",
    "images",
    "failed",
    "skipped",
    "not_run",
    "elapsed_s",
}


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_j_auto_json_ends_with_the_rate_reached(fake_api, invoke):
    fake_api.rate_limit(60, burst=2)  # one a second: the third request is answered 429
    Path("batch.txt").write_text("".join(f"prompt {k}\n" for k in range(4)))
    result = invoke("generate", "-f", "batch.txt", "-d", "out", "-j", "auto", "--json")
    assert result.exit_code == 0, result
    *images, last = records(result.stdout)
    assert len(images) == 4
    assert all("path" in record for record in images)
    summary = last["summary"]
    assert set(summary) == KEYS
    assert summary["images"] == 4
    assert summary["failed"] == summary["skipped"] == summary["not_run"] == 0
    refused = len(fake_api.limiter.refused())
    assert refused >= 1
    assert summary["answered_429"] == refused
    assert 0 < summary["rate_per_minute"] <= 60 * 1.5  # accepted, first start to last
    assert summary["paced_per_minute"] > 0
    assert f"{summary['answered_429']} answered 429" in result.stderr  # the human summary


def test_j_auto_json_when_everything_was_skipped_says_nothing(fake_api, invoke):
    Path("batch.txt").write_text("a fox\na cat\n")
    assert invoke("generate", "-f", "batch.txt", "-d", "out").exit_code == 0
    result = invoke(
        "generate", "-f", "batch.txt", "-d", "out", "-j", "auto", "--json", "--skip-existing"
    )
    assert result.exit_code == 0, result
    assert result.stdout == ""  # nothing was sent: no rate to say (the scale-out re-run's case)


def test_a_fixed_j_adds_no_summary_record(fake_api, invoke):
    Path("batch.txt").write_text("a fox\na cat\n")
    result = invoke("generate", "-f", "batch.txt", "-d", "out", "-j", "2", "--json")
    assert result.exit_code == 0, result
    assert [sorted(r) for r in records(result.stdout)] == [sorted(records(result.stdout)[0])] * 2
    assert all("summary" not in record for record in records(result.stdout))
