"""The option about money of the image commands: --max-cost, the run's budget."""

from __future__ import annotations

from typing import Annotated

from deerimg.cli.options import BATCH, opt

MaxCost = Annotated[
    float | None,
    opt(
        "--max-cost",
        panel=BATCH,
        help="Budget in USD, never passed: a request is sent only while what was spent, what is "
        "in flight and its own estimate stay within it (deerimg prices). Default: none, or "
        "config max-cost.",
        metavar="USD",
    ),
]
