"""`gallery`: the images chosen (files, a folder, the last run, history) as one HTML page."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command (cli/listings.py says why).

from pathlib import Path
from typing import Annotated

import typer

from deerimg.cli.options import opt

PANEL = "Options"


def gallery(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Images to show. Default: those --last, --dir, --since or --search choose.",
            show_default=False,
        ),
    ] = None,
    last: Annotated[
        bool, typer.Option("--last", help="The images of the last run (generate or edit).")
    ] = False,
    folder: Annotated[
        Path | None,
        opt(
            "--dir", help="The images of a folder (not its subfolders).", metavar="DIR", panel=PANEL
        ),
    ] = None,
    since: Annotated[
        str | None,
        opt(
            "--since",
            help="The images of history entries since a date (YYYY-MM-DD), a time "
            "(ISO 8601) or a span ago (3d, 12h, 2w).",
            metavar="WHEN",
            panel=PANEL,
        ),
    ] = None,
    search: Annotated[
        str | None,
        opt(
            "--search",
            help="The images of history entries whose prompt, model or files contain TEXT.",
            metavar="TEXT",
            panel=PANEL,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        opt(
            "-o",
            "--output",
            help="Where the page goes (a file, or a folder for its "
            "gallery.html). Default: gallery.html in the images' folder.",
            metavar="PATH",
            panel=PANEL,
        ),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page with the system's viewer.")
    ] = False,
) -> None:
    """Write an HTML contact sheet of images: prompt, model, size, cost, date, request id.

    Each image's facts come from its own record (embedded or a sidecar), else the history
    ledger. The page links the images where they are (relative links), fetches nothing, and
    has a filter box; its path is printed. Example: deerimg gallery --last --open
    """
    from deerimg import history
    from deerimg.report.gallery import render
    from deerimg.report.terminal import data, note, warn
    from deerimg.run.gallery import choose, page_path, write_page

    chosen = choose(files or [], last=last, folder=folder, since=since, search=search)
    for warning in chosen.warnings:
        warn(warning)
    path = page_path(output, chosen.folder)
    write_page(path, render(chosen.cards, path.parent, made=history.now_iso()))
    data(str(path))
    if open_page:
        from deerimg.run import viewer

        if not viewer.view(path):
            note(f"no viewer could be started for {path}")
