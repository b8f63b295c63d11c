"""Issue 20: `deerimg prices`, the table in force (the config's rows first), one row, JSON."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from deerimg import prices

CONFIG = """\
[prices."gpt-image-2"]
per_image = 0.02
date = "2026-12"

[prices."Midjourney"]
per_image = 0.05
"""


@pytest.fixture(autouse=True)
def _no_config_rows():
    prices.use_prices({})
    yield
    prices.use_prices({})


@pytest.fixture
def priced(config_file):
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(CONFIG)
    return config_file


def rows_of(stdout: str) -> list[list[str]]:
    """The table's lines, split where its columns are (two spaces or more)."""
    return [re.split(r"\s{2,}", line) for line in stdout.splitlines()]


def test_the_shipped_table_one_line_a_row(invoke) -> None:
    shown = invoke("prices")
    assert shown.exit_code == 0, shown
    header, *lines = rows_of(shown.stdout)
    assert header == ["MODEL", "PER IMAGE", "TEXT IN", "IMAGE IN", "IMAGE OUT", "DATE", "SOURCE"]
    assert len(lines) == len(prices.TABLE)
    assert lines[0] == ["gpt-image-2*", "$5", "$8", "$30", "2026-11", prices.OPENAI]
    assert ["[doubao-]seedream-4-5*", "$0.04", "2026-06", prices.BYTEPLUS] in lines
    assert "per 1M tokens" in shown.stderr and '"unknown", never 0' in shown.stderr


def test_the_config_s_rows_come_first(invoke, priced) -> None:
    shown = invoke("prices")
    assert shown.exit_code == 0, shown
    lines = rows_of(shown.stdout)[1:]
    assert lines[:2] == [
        ["gpt-image-2", "$0.02", "2026-12", "config file"],
        ["Midjourney", "$0.05", "config file"],
    ]
    assert lines[2][0] == "gpt-image-2*"  # the shipped row, still listed, no longer in force


def test_json_is_every_row_in_force_in_order(invoke, priced) -> None:
    shown = invoke("prices", "--json")
    assert shown.exit_code == 0, shown
    rows = json.loads(shown.stdout)
    assert len(rows) == 2 + len(prices.TABLE)
    assert rows[0] == {"pattern": "gpt-image-2", "per_image": 0.02, "text_in": None,
                       "image_in": None, "image_out": None, "text_out": None, "date": "2026-12",
                       "source": "config file"}  # fmt: skip
    assert rows[2:] == [row.as_json() for row in prices.TABLE]


@pytest.mark.parametrize(
    ("model", "first"),
    [
        ("gpt-image-2", "gpt-image-2"),  # the config's row, not the shipped one
        ("MIDJOURNEY", "Midjourney"),  # a config id matches in any case
        ("doubao-seedream-4-0-250828", "[doubao-]seedream-4-0*, [doubao-]seedream-3-0*"),
        ("gpt-image-1.5", "gpt-image-1.5*, chatgpt-image*"),
    ],
)
def test_model_shows_the_one_row_in_force(invoke, priced, model: str, first: str) -> None:
    shown = invoke("prices", "--model", model)
    assert shown.exit_code == 0, shown
    header, *lines = rows_of(shown.stdout)
    assert header[0] == "MODEL" and len(lines) == 1 and lines[0][0] == first
    as_json = json.loads(invoke("prices", "-m", model, "--json").stdout)
    in_force = prices.price_of(model)  # the config's rows are in force after a command
    assert in_force is not None and as_json == [in_force.as_json()]


def test_a_model_with_no_price_is_cost_unknown(invoke) -> None:
    shown = invoke("prices", "--model", "acme-image-9")
    assert shown.exit_code == 0, shown
    assert shown.stdout == ""
    assert (
        'cost unknown: no price for acme-image-9; set one with [prices."acme-image-9"] in the '
        "config file" in shown.stderr
    )
    as_json = invoke("prices", "--model", "acme-image-9", "--json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []


@pytest.mark.parametrize(
    "row", ['[prices."gpt-image-2"]\nimage_out = "thirty"\n', "prices = 3\n", '[prices."x"]\n']
)
def test_a_broken_price_row_is_a_config_error(invoke, config_file, row: str) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(row)
    for args in (["prices"], ["prices", "--json"], ["history", "--usage"]):
        shown = invoke(*args)
        assert shown.exit_code == 3, (args, shown)
        assert "prices" in shown.stderr and "Traceback" not in shown.stderr


def test_unknown_config_keys_are_warned_of(invoke, config_file) -> None:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('colour = "red"\n')
    shown = invoke("prices", "--json")
    assert shown.exit_code == 0 and "unknown key 'colour' ignored" in shown.stderr


@pytest.mark.parametrize("row", prices.TABLE, ids=lambda row: row.pattern)
def test_each_readable_name_spells_ids_its_pattern_matches(row: prices.Price) -> None:
    named = prices.readable(row)
    assert "\\" not in named and "(" not in named
    for spelled in named.split(", "):
        assert spelled.endswith("*")
        parts = re.split(r"\[(.*?)\]", spelled[:-1])  # odd indexes: the optional parts
        for kept in itertools.product((True, False), repeat=len(parts) // 2):
            text = "".join(p for i, p in enumerate(parts) if i % 2 == 0 or kept[i // 2])
            assert re.match(row.pattern, text + "-x"), (text, row.pattern)


def test_a_pattern_beyond_the_simple_ones_is_shown_as_is() -> None:
    for pattern in (r"flux-.*-pro", r"gpt-image-\d", r"(a|b", r"a)"):
        assert prices.readable(prices.Price(pattern, per_image=1)) == pattern
    assert prices.readable(prices.Price(r"(a|b)c?", per_image=1)) == r"(a|b)c?"
    assert prices.readable(prices.Price(r"x(a|b)(-y)?", per_image=1)) == "xa[-y]*, xb[-y]*"
