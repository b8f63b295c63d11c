"""Issue 17: svg_usage is counted like usage: the saved line, summary, --json and the ledger."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from deerimg import history
from deerimg.events import Summary, token_counts
from deerimg.report.tokens import format_usage
from tests.fake.routes.images import svg_usage
from tests.helpers import ledger_entries

SVG_MODEL = "gpt-image-2.5-sunburst"
USAGE = {"input_tokens": 16, "input_tokens_details": {"image_tokens": 0, "text_tokens": 16},
         "output_tokens": 208, "total_tokens": 224}  # fmt: skip  # the fake's usage of one image
SVG_LINE = (
    "  tokens: input 16 (text 16, image 0), output 208, total 224; "
    "svg: input 40, output 900 (reasoning 300), total 940"
)


def test_an_svg_answer_s_svg_usage_is_its_own_field_in_json_and_the_ledger(fake_api, invoke):
    result = invoke("generate", "a logo", "-m", SVG_MODEL, "-o", "logo.svg", "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert (record["usage"], record["svg_usage"]) == (USAGE, svg_usage())
    assert list(record).index("svg_usage") == list(record).index("usage") + 1
    [entry] = ledger_entries()
    assert (entry["usage"], entry["svg_usage"]) == (USAGE, svg_usage())


def test_a_png_answer_has_no_svg_usage_field(fake_api, invoke):
    result = invoke("generate", "a fox", "-m", SVG_MODEL, "--json")
    assert result.exit_code == 0, result
    assert "svg_usage" not in json.loads(result.stdout)
    assert "svg_usage" not in ledger_entries()[0]


def test_the_saved_line_shows_both_and_the_summary_adds_them_up(fake_api, invoke):
    one = invoke("generate", "a logo", "-m", SVG_MODEL, "-o", "logo.svg")
    assert one.exit_code == 0, one
    # svg_usage's tokens are another model's (the one that wrote the SVG): not priced
    assert SVG_LINE + "; cost $0.0063" in one.stderr.splitlines()
    Path("prompts.txt").write_text("a fox\nan owl\n")
    batch = invoke("generate", "-f", "prompts.txt", "-m", SVG_MODEL, "--format", "svg", "-d", "b")
    assert batch.exit_code == 0, batch
    # (16 + 40) * 2 in, (208 + 900) * 2 out, (224 + 940) * 2 in all
    assert "tokens: input 112, output 2,216, total 2,328;" in batch.stderr


def test_history_and_its_usage_count_svg_usage_in_the_totals(fake_api, invoke):
    assert invoke("generate", "a logo", "-m", SVG_MODEL, "-o", "logo.svg").exit_code == 0
    assert invoke("generate", "a fox", "-m", SVG_MODEL, "-o", "fox.png").exit_code == 0
    table = invoke("history")
    assert table.exit_code == 0, table
    tokens = [line.split()[6] for line in table.stdout.splitlines()[1:]]
    assert tokens == ["1,164", "224"]
    usage = invoke("history", "--usage", "--json")
    [row] = json.loads(usage.stdout)
    assert (row["input_tokens"], row["output_tokens"], row["total_tokens"]) == (72, 1316, 1388)


def answer_svg_with(fake_api, svg: object) -> None:
    """Every generation answers one SVG whose svg_usage is SVG, as written."""
    image = base64.b64encode(fake_api.expected_image("svg")).decode()
    body = {"created": 1, "data": [{"b64_json": image}], "usage": USAGE, "svg_usage": svg}
    fake_api.always(body=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("svg", "shown"),
    [
        pytest.param({"total_tokens": "many", "input_tokens": True}, None, id="no-counts"),
        pytest.param(["not", "an", "object"], None, id="a-list"),
        pytest.param({"output_tokens": 5}, "svg: output 5", id="no-total"),
    ],
)
def test_an_odd_svg_usage_never_breaks_the_run(fake_api, invoke, svg, shown):
    answer_svg_with(fake_api, svg)
    result = invoke("generate", "a logo", "-m", SVG_MODEL, "-o", "logo.svg", "--json")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert record.get("svg_usage") == (svg if isinstance(svg, dict) else None)
    line = format_usage(USAGE, record.get("svg_usage"))
    assert (line.split("; ")[1] if "; " in line else None) == shown
    assert history.usage_by_day_and_model(ledger_entries())[0].total_tokens == 224 + (
        5 if shown else 0
    )


def test_token_counts_add_each_usage_object_up() -> None:
    assert token_counts(USAGE, svg_usage()) == (56, 1108, 1164)
    assert token_counts(None, {"input_tokens": 3, "output_tokens": 4}) == (3, 4, 7)
    assert token_counts() == (0, 0, 0)
    summary = Summary()
    summary.add_usage(USAGE, svg_usage())
    summary.add_usage(USAGE)
    assert summary.tokens == {"input": 72, "output": 1316, "total": 1388}
    assert format_usage(None, svg_usage()) == (
        "tokens: svg: input 40, output 900 (reasoning 300), total 940"
    )
    assert format_usage({}, None) is None
