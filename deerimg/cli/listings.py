"""`info`, `history` and `models`: what is gathered for each listing, handed to the report."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command, 5 ms of `deerimg --help` (issue 10's bar; STYLE §2.9 aside).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deerimg.cli.options import opt

if TYPE_CHECKING:
    from deerimg.events import Retrying


def info(
    images: Annotated[
        list[Path], typer.Argument(help="PNG, JPEG or WebP files.", show_default=False)
    ],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """Show what images carry: deerimg's record, C2PA credentials, other tools' parameters.

    Example: deerimg info night.png
    """
    from deerimg.imaging.metadata import describe
    from deerimg.report.listings import show_info
    from deerimg.report.terminal import warn

    described = []
    for path in images:
        info, warnings = describe(path)
        for warning in warnings:
            warn(warning)
        described.append(info)
    show_info(described, json_out)


def history(
    limit: Annotated[
        int, typer.Option("-n", "--limit", help="How many of the latest entries.", metavar="N")
    ] = 20,
    search: Annotated[
        str | None,
        opt(
            "--search",
            help="Only entries whose prompt, model or files contain TEXT. Default: all entries.",
            metavar="TEXT",
            panel="Options",
        ),
    ] = None,
    since: Annotated[
        str | None,
        opt(
            "--since",
            help="Only entries since a date (YYYY-MM-DD), a time "
            "(ISO 8601) or a span ago (3d, 12h, 2w). Default: all entries.",
            metavar="WHEN",
            panel="Options",
        ),
    ] = None,
    usage: Annotated[
        bool, typer.Option("--usage", help="Images, tokens and cost per day and model.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Show the history ledger: every generation and edit, newest last, with what each cost.

    A cost is the one the ledger holds, else counted from the usage with `deerimg prices`.

    Example: deerimg history --usage --since 7d
    """
    from deerimg import history as ledger
    from deerimg.cli.prices import use_config_prices
    from deerimg.errors import DeerimgError, ExitCode
    from deerimg.report.listings import show_history, show_usage
    from deerimg.report.terminal import warn

    path = ledger.ledger_path()
    entries, corrupt = ledger.read_entries(path)
    if corrupt:
        warn(f"{corrupt} unreadable line{'s' if corrupt != 1 else ''} in {path} skipped "
             "(the file is left as it is)")  # fmt: skip
    try:
        start = ledger.parse_since(since) if since else None
    except ValueError as exc:
        raise DeerimgError(f"invalid --since {since!r}: {exc}", ExitCode.USAGE) from None
    if usage or not json_out:  # costs shown: the config's prices count
        use_config_prices()
    chosen = ledger.filter_entries(entries, n=None if usage else limit, search=search, since=start)
    if usage:
        show_usage(ledger.usage_by_day_and_model(chosen), json_out)
    else:
        empty = f"no history yet in {path}" if entries else "no entry matches"
        show_history(chosen, json_out, empty)


def models_command(
    all_models: Annotated[
        bool, typer.Option("--all", help="Every model the API serves, not only image models.")
    ] = False,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            metavar="TEXT",
            help="Only models whose id or owner contains every word of TEXT (any case). "
            "Default: every image model.",
            show_default=False,
        ),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            "--family",
            metavar="NAME",
            help="Only models of the families whose name holds NAME (gpt-image, seedream, "
            "seededit, dall-e, gemini, flux, flux-kontext, replicate, midjourney, kling, "
            "generic: those deerimg's table does not know). Default: all.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='The API\'s model objects, each with its "family", as one JSON array.'
        ),
    ] = False,
) -> None:
    """List the image models DeerAPI serves (GET /v1/models): id, family, owner, created date.

    The API does not say which models draw, so image models are told by their id (gpt-image,
    dall-e, flux, midjourney, seedream, imagen, ideogram, recraft, stable-diffusion, qwen-image,
    gemini …-image, …); --all shows every model.
    Example: deerimg models --search flux
    """
    from deerimg import catalog
    from deerimg.report.listings import show_models
    from deerimg.report.terminal import warn
    from deerimg.settings.resolve import resolve_settings

    settings = resolve_settings()
    for warning in settings.warnings:
        warn(warning)
    models = catalog.fetch_models(settings, on_retry=_announce_retry)
    shown = catalog.select(models, all_models=all_models, search=search, family=family)
    rows = catalog.rows(shown)
    show_models(shown, rows, len(models), all_models=all_models, search=search, as_json=as_json)


def _announce_retry(retry: "Retrying") -> None:
    from deerimg.report.terminal import note, retry_line

    note(retry_line("GET /v1/models: ", retry))
