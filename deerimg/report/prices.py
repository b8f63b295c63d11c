"""The price table of `deerimg prices`, and money as every listing writes it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from deerimg.prices import Price, readable
from deerimg.report.terminal import data, note, print_table, warn

HEADERS = ("MODEL", "PER IMAGE", "TEXT IN", "IMAGE IN", "IMAGE OUT", "DATE", "SOURCE")


def show_prices(rows: Sequence[Price], as_json: bool, model: str | None = None) -> None:
    """ROWS (the table in force, or the one row MODEL takes) as a table or a JSON array."""
    if model is not None and not rows:
        warn(f"cost unknown: no price for {model}; set one with [prices.\"{model}\"] in the "
             "config file")  # fmt: skip
    if as_json:
        data(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        return
    table = [
        (readable(row), price(row.per_image), price(row.text_in), price(row.image_in),
         price(row.image_out), row.date, row.source)
        for row in rows
    ]  # fmt: skip
    print_table(HEADERS, table)
    if model is None:
        note(
            "USD; TEXT IN, IMAGE IN, IMAGE OUT per 1M tokens. A model takes the first row that "
            "matches it (id*: the ids that start so; [part]: optional); a config row is its id."
        )
        note('A model no row matches costs "unknown", never 0: set its price with '
             '[prices."MODEL"] in the config file.')  # fmt: skip


def price(usd: float | None) -> str:
    """A list price as written: $0.04, $30, $2.5; blank when the row has none."""
    return f"${usd:g}" if usd is not None else ""


def cost(usd: float | None, unknown: int = 0) -> str:
    """A cost to 4 decimals; `$0.1200 + 2 unknown` when some costs are unknown, never 0."""
    if usd is None:
        return "unknown"
    known = f"${usd:.4f}"
    return f"{known} + {unknown} unknown" if unknown else known
