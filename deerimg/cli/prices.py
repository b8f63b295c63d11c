"""`prices`: the price table in force, the config file's rows first; and those rows, read."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command (issue 10's bar; STYLE §2.9 aside).

from typing import Annotated

import typer

from deerimg.cli.options import opt


def prices_command(
    model: Annotated[
        str | None,
        opt(
            "-m",
            "--model",
            help="Only the row in force for this model id. Default: every row.",
            metavar="ID",
            panel="Options",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="The rows as one JSON array on stdout.")
    ] = False,
) -> None:
    """Show the prices in force: the config file's own rows first, then deerimg's table.

    Each row: USD per image, or per 1M tokens of text in, image in and image out, with its date
    and source. A model no row matches has no price: its cost is "unknown", never 0, until the
    config file's prices table names it (README: Configuration).
    Example: deerimg prices --model gpt-image-2
    """
    from deerimg import prices
    from deerimg.report.prices import show_prices

    use_config_prices()
    if model is None:
        show_prices(prices.table(), json_out)
        return
    row = prices.price_of(model)
    show_prices([row] if row is not None else [], json_out, model=model)


def use_config_prices() -> None:
    """The config file's [prices."MODEL"] rows put in force, its warnings shown; a row that is
    not a price is a config error (exit 3), as for a run."""
    from deerimg import prices
    from deerimg.report.terminal import warn
    from deerimg.settings import file
    from deerimg.settings.resolve import prices_of

    path = file.config_path()
    values = file.read_config(path)
    for warning in file.warnings_of(path, values):
        warn(warning)
    prices.use_prices(prices_of(values))
