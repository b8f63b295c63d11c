"""Issue 20: each answer's cost, estimates before anything is sent, and --max-cost never passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ledger_entries

SEEDREAM = "doubao-seedream-4-5-251128"


def write_prompts(count: int) -> list[str]:
    prompts = [f"prompt number {k}" for k in range(1, count + 1)]
    Path("p.txt").write_text("".join(f"{p}\n" for p in prompts))
    return prompts


def price(config_file: Path, text: str) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(text)


def test_max_cost_between_3_and_4_images_pays_for_3_then_a_rerun_finishes(
    fake_api, invoke, config_file
) -> None:
    price(config_file, '[prices."gpt-image-2"]\nper_image = 0.01\n')
    write_prompts(10)
    result = invoke("generate", "-f", "p.txt", "-d", "out", "-j", "2", "--max-cost", "0.035",
                    "--json")  # fmt: skip
    assert result.exit_code == 1, result
    billed = fake_api.generation_requests()  # every one answered 200: each was paid for
    assert len(billed) == 3  # 3 x 0.01 <= 0.035 < 4 x 0.01
    records = [json.loads(line) for line in result.stdout.splitlines()]
    saved = [r for r in records if "path" in r]
    held = [r for r in records if "error" in r]
    assert len(saved) == 3 and all(r["cost_usd"] == 0.01 for r in saved)
    assert len(held) == 7 and {r["error"]["code"] for r in held} == {"budget"}
    assert "the budget (--max-cost 0.035) stopped the run: cost $0.03" in result.stderr
    again = invoke("generate", "-f", "p.txt", "-d", "out", "--skip-existing", "--max-cost", "0.1")
    assert again.exit_code == 0, again
    assert len(fake_api.generation_requests()) == 10
    assert len(list(Path("out").iterdir())) == 10


def test_spent_never_passes_the_budget_with_token_billed_answers(fake_api, invoke) -> None:
    """Estimates (272 output tokens at low, 1024x1024) above the fake's actual usage (208)."""
    write_prompts(10)
    budget = 0.03
    result = invoke("generate", "-f", "p.txt", "-d", "out", "-j", "2", "-q", "low",
                    "-s", "1024x1024", "--max-cost", str(budget))  # fmt: skip
    assert result.exit_code == 1, result
    billed = len(fake_api.generation_requests())
    actual = (16 * 5 + 208 * 30) / 1e6  # what each answer cost at gpt-image-2's list price
    assert billed >= 3 and billed * actual <= budget
    assert sum(e["cost_usd"] for e in ledger_entries()) == pytest.approx(billed * actual)


def test_a_model_with_no_price_cannot_be_budgeted(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", "acme-image-9", "--max-cost", "1")
    assert result.exit_code == 2
    assert "--max-cost needs an estimate of every request: acme-image-9 has none" in result.stderr
    assert fake_api.requests == []
    bad = invoke("generate", "a fox", "--max-cost", "-1")
    assert bad.exit_code == 2


def test_dry_run_of_a_mixed_batch_estimates_each_request_and_the_total(fake_api, invoke) -> None:
    Path("p.jsonl").write_text("\n".join(json.dumps(line) for line in [
        {"prompt": "a", "quality": "low", "size": "1024x1024"},
        {"prompt": "b", "quality": "high", "size": "1536x1024"},
        {"prompt": "c", "model": SEEDREAM, "size": "2K"},
    ]) + "\n")  # fmt: skip
    result = invoke("generate", "-f", "p.jsonl", "--dry-run", "--json", "-d", "out")
    assert result.exit_code == 0, result
    shown = [json.loads(line)["estimate_usd"] for line in result.stdout.splitlines()]
    assert shown == [
        pytest.approx((272 * 30 + 100 * 5) / 1e6),
        pytest.approx((6240 * 30 + 100 * 5) / 1e6),
        0.04,
    ]
    assert f"estimated cost of 3 request(s): ${sum(shown):.4f}" in result.stderr
    assert fake_api.requests == []


def test_each_image_s_cost_is_on_its_line_and_in_the_summary(fake_api, invoke) -> None:
    one = invoke("generate", "a fox", "-o", "fox.png")
    assert one.exit_code == 0, one
    assert "total 224; cost $0.0063" in one.stderr
    write_prompts(2)
    batch = invoke("generate", "-f", "p.txt", "-d", "out")
    assert "cost $0.0126" in batch.stderr
    unknown = invoke("generate", "a fox", "-m", "acme-image-9", "-o", "acme.png", "--json")
    assert unknown.exit_code == 0, unknown
    record = json.loads(unknown.stdout)
    assert (record["cost_usd"], record["cost_source"]) == (None, "unknown")
    assert "cost unknown" in unknown.stderr


def test_a_price_in_config_overrides_the_table_everywhere(fake_api, invoke, config_file) -> None:
    price(config_file, '[prices."gpt-image-2"]\nper_image = 0.02\n')
    dry = invoke("generate", "a fox", "--dry-run", "--json")
    assert json.loads(dry.stdout)["estimate_usd"] == 0.02
    run = invoke("generate", "a fox", "-o", "fox.png", "--json")
    assert json.loads(run.stdout)["cost_usd"] == 0.02
    assert ledger_entries()[-1]["cost_usd"] == 0.02
