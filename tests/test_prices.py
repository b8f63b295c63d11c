"""Issue 20: the price table, actual costs from answers, estimates, and the config's rows."""

from __future__ import annotations

import pytest

from deerimg import prices
from deerimg.prices import cost_of, estimate_of, price_of


@pytest.fixture(autouse=True)
def _no_config_rows():
    prices.use_prices({})
    yield
    prices.use_prices({})


@pytest.mark.parametrize(
    ("model", "pattern"),
    [
        ("gpt-image-2", "gpt-image-2"),
        ("gpt-image-2.5-sunburst", "gpt-image-2"),
        ("gpt-image-1-mini", "gpt-image-1-mini"),
        ("gpt-image-1.5", r"(gpt-image-1\.5|chatgpt-image)"),
        ("gpt-image-1", "gpt-image-1"),
        ("doubao-seedream-4-5-251128", r"(doubao-)?seedream-4-5"),
        ("flux-kontext-pro", "flux-kontext-pro"),
        ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
    ],
)
def test_each_model_finds_its_row(model: str, pattern: str) -> None:
    row = price_of(model)
    assert row is not None and row.pattern == pattern
    assert row.date and row.source


def test_a_model_with_no_price_costs_unknown_never_0() -> None:
    assert price_of("midjourney") is None
    assert cost_of("midjourney", None, 4) == prices.Cost(None, "unknown")
    assert estimate_of("acme-image-9", "1024x1024", "high", 1).usd is None


def test_token_priced_cost_reads_the_usage() -> None:
    usage = {"input_tokens": 50, "input_tokens_details": {"text_tokens": 40, "image_tokens": 10},
             "output_tokens": 4160, "total_tokens": 4210}  # fmt: skip
    cost = cost_of("gpt-image-2", usage, 1)
    assert cost.source == "usage"
    assert cost.usd == pytest.approx((40 * 5 + 10 * 8 + 4160 * 30) / 1e6)
    assert cost_of("gpt-image-2", None, 1).source == "unknown"


def test_per_image_cost_counts_what_was_made() -> None:
    assert cost_of("doubao-seedream-4-5-251128", {"generated_images": 3}, 1).usd == pytest.approx(
        0.12
    )
    assert cost_of("flux-kontext-max", None, 2).usd == pytest.approx(0.16)


def test_estimates_follow_quality_and_pixels() -> None:
    low = estimate_of("gpt-image-2", "1024x1024", "low", 1)
    high = estimate_of("gpt-image-2", "1536x1024", "high", 2)
    assert low.usd == pytest.approx((272 * 30 + 100 * 5) / 1e6)
    assert high.usd == pytest.approx((6240 * 30 + 100 * 5) * 2 / 1e6)
    assumed = estimate_of("gpt-image-2", None, None, 1)
    assert "auto quality counted as high" in assumed.how and "1536x1024" in assumed.how
    assert estimate_of("flux-pro-1.1", None, None, 3).usd == pytest.approx(0.12)


def test_a_config_row_overrides_the_table() -> None:
    prices.use_prices({"gpt-image-2": {"per_image": 0.02, "date": "2026-12"}})
    assert cost_of("GPT-IMAGE-2", None, 2) == prices.Cost(0.04, "per_image")
    assert prices.table()[0].source == "config file"


def test_the_config_file_s_rows_are_checked(invoke, config_file) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[prices."gpt-image-2"]\nimage_out = -1\n')
    result = invoke("generate", "a fox", "--dry-run")
    assert result.exit_code == 3
    assert "image_out = -1 is not a price" in result.stderr
    config_file.write_text('[prices."gpt-image-2"]\nper_image = 0.05\n')
    assert invoke("generate", "a fox", "--dry-run").exit_code == 0


def test_usage_without_token_counts_is_unknown_never_0() -> None:
    assert cost_of("gpt-image-2", {"total_tokens": 5}, 1) == prices.Cost(None, "unknown")
