"""Issue 20: what the ledger's requests cost, per day and model in `history --usage`, and each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from deerimg import prices
from tests.helpers import write_ledger

GPT_USAGE = {"input_tokens": 100, "output_tokens": 4160, "total_tokens": 4260}
GPT_COST = (100 * 5 + 4160 * 30) / 1e6  # gpt-image-2: $5 text in, $30 image out per 1M


@pytest.fixture(autouse=True)
def _no_config_rows():
    prices.use_prices({})
    yield
    prices.use_prices({})


def line(model: str = "gpt-image-2", day: str = "2026-11-24", **changes: Any) -> str:
    """A ledger line as deerimg writes it (before costs were recorded), with CHANGES."""
    entry = {"time": f"{day}T09:30:00Z", "command": "generate", "prompt": "a paper boat",
             "model": model, "fields": {}, "files": ["boat.png"], "usage": None,
             "request_id": "req_1", "seconds": 1.0, "outcome": "ok"}  # fmt: skip
    entry.update(changes)
    return json.dumps(entry)


def usage_rows(invoke) -> list[dict[str, Any]]:
    shown = invoke("history", "--usage", "--json")
    assert shown.exit_code == 0, shown
    rows: list[dict[str, Any]] = json.loads(shown.stdout)
    return rows


def cost_column(invoke, *args: str) -> list[str]:
    """The COST cell of each line of a history table, where the header puts it (the columns are
    aligned; a cell may be blank)."""
    shown = invoke("history", *args)
    assert shown.exit_code == 0, shown
    header, *lines = shown.stdout.splitlines()
    start = header.index("COST")
    after = header[start + len("COST") :]
    end = len(header) - len(after.lstrip()) if after else None  # where the next column starts
    return [text[start:end].strip() for text in lines]


def test_an_older_ledger_is_costed_from_its_usage_and_images(invoke) -> None:
    write_ledger(
        line(usage=GPT_USAGE),
        line(usage=GPT_USAGE),
        line("doubao-seedream-4-5-251128", files=["a.jpg", "b.jpg", "c.jpg"]),
        # a link answer of 2 images, one not downloaded: both were made, both are paid for
        line("flux-kontext-max", files=["k.png"], sources=[{"file": "k.png"}, {"file": None}]),
    )
    rows = {row["model"]: row for row in usage_rows(invoke)}
    assert rows["gpt-image-2"]["cost_usd"] == pytest.approx(2 * GPT_COST)
    assert rows["doubao-seedream-4-5-251128"]["cost_usd"] == pytest.approx(3 * 0.04)
    assert rows["flux-kontext-max"]["cost_usd"] == pytest.approx(2 * 0.08)
    assert {row["cost_unknown"] for row in rows.values()} == {0}
    total = 2 * GPT_COST + 0.12 + 0.16
    assert cost_column(invoke, "--usage") == [
        "$0.1200", "$0.1600", f"${2 * GPT_COST:.4f}", f"${total:.4f}"
    ]  # fmt: skip


def test_a_recorded_cost_is_taken_as_it_is(invoke) -> None:
    write_ledger(
        line(usage=GPT_USAGE, cost_usd=0.5, cost_source="usage"),
        line(usage=GPT_USAGE, cost_usd=None, cost_source="unknown"),  # counted again, now
    )
    [row] = usage_rows(invoke)
    assert row["cost_usd"] == pytest.approx(0.5 + GPT_COST) and row["cost_unknown"] == 0


def test_unknown_costs_are_never_0(invoke) -> None:
    write_ledger(
        line("midjourney"),
        line("gpt-image-2", usage=GPT_USAGE),
        line("gpt-image-2"),  # an answer without usage: its cost is unknown
        line("midjourney", day="2026-11-25"),
    )
    rows = usage_rows(invoke)
    assert [(r["day"], r["model"], r["cost_usd"], r["cost_unknown"]) for r in rows] == [
        ("2026-11-24", "gpt-image-2", pytest.approx(GPT_COST), 1),
        ("2026-11-24", "midjourney", None, 1),
        ("2026-11-25", "midjourney", None, 1),
    ]
    shown = invoke("history", "--usage")
    assert cost_column(invoke, "--usage") == [
        f"${GPT_COST:.4f} + 1 unknown", "unknown", "unknown", f"${GPT_COST:.4f} + 3 unknown"
    ]  # fmt: skip
    assert '[prices."MODEL"]' in shown.stderr
    assert "$0.0000" not in shown.stdout


def test_only_unknown_costs_total_unknown(invoke) -> None:
    write_ledger(line("midjourney"), line("acme-image-9"))
    assert cost_column(invoke, "--usage")[-1] == "unknown"


def test_a_failure_without_an_answer_costs_nothing(invoke) -> None:
    failed = {"outcome": "failed", "files": [], "error": {"status": 400, "message": "bad"}}
    write_ledger(
        line("gpt-image-2", **failed),
        line("doubao-seedream-4-5-251128", **failed),
        line("midjourney", outcome="pending", files=[], task={"id": "t1", "route": "midjourney"}),
        # an answer came (usage) though its image could not be saved: it was billed
        line("gpt-image-2", day="2026-11-25", usage=GPT_USAGE, outcome="failed", files=[]),
    )
    rows = usage_rows(invoke)
    assert [(r["model"], r["failed"], r["cost_usd"], r["cost_unknown"]) for r in rows] == [
        ("doubao-seedream-4-5-251128", 1, 0.0, 0),
        ("gpt-image-2", 1, 0.0, 0),
        ("midjourney", 1, 0.0, 0),
        ("gpt-image-2", 1, pytest.approx(GPT_COST), 0),
    ]
    assert cost_column(invoke) == ["", "", "", f"${GPT_COST:.4f}"]


def test_a_config_price_counts_for_older_entries(invoke, config_file) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[prices."midjourney"]\nper_image = 0.05\n')
    write_ledger(line("midjourney", files=["1.png", "2.png", "3.png", "4.png"]))
    [row] = usage_rows(invoke)
    assert row["cost_usd"] == pytest.approx(0.2) and row["cost_unknown"] == 0
    assert cost_column(invoke) == ["$0.2000"]


def test_the_listing_shows_each_request_s_cost(invoke) -> None:
    write_ledger(
        line(usage=GPT_USAGE),
        line("midjourney"),
        line(usage=GPT_USAGE, cost_usd=0.25, cost_source="usage"),
    )
    assert cost_column(invoke) == [f"${GPT_COST:.4f}", "unknown", "$0.2500"]
    stored = json.loads(invoke("history", "--json").stdout)  # the entries as they are
    assert ["cost_usd" in entry for entry in stored] == [False, False, True]


def test_odd_cost_fields_are_counted_again(invoke) -> None:
    write_ledger(
        line(usage=GPT_USAGE, cost_usd="0.5"),
        line(usage=GPT_USAGE, cost_usd=True),
        line(usage=GPT_USAGE, cost_usd=-1),
        line(usage="lots", model=7),
    )
    rows = usage_rows(invoke)
    assert [(r["model"], r["cost_usd"], r["cost_unknown"]) for r in rows] == [
        ("gpt-image-2", pytest.approx(3 * GPT_COST), 0),
        ("unknown", None, 1),
    ]


def test_a_run_against_the_fake_is_costed(fake_api, invoke) -> None:
    assert invoke("generate", "a fox", "-n", "2").exit_code == 0
    [row] = usage_rows(invoke)
    assert row["images"] == 2 and row["cost_unknown"] == 0
    assert row["cost_usd"] is not None and row["cost_usd"] > 0
    assert cost_column(invoke, "--usage")[-1] == f"${row['cost_usd']:.4f}"
