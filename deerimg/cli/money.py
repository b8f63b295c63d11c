"""Image options kept out of images.py: --max-cost, --preview, --open and --partial-images."""

from __future__ import annotations

from typing import Annotated

import typer

from deerimg.cli.options import BATCH, OUTPUT, opt

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
Preview = Annotated[
    bool,
    typer.Option(
        "--preview",
        help="Show each saved image in the terminal, on standard error (Kitty, Ghostty, WezTerm, "
        "iTerm2; inside tmux too). Default: off, or DEERIMG_PREVIEW=1, or config preview.",
        rich_help_panel=OUTPUT,
        show_default=False,
    ),
]
Open = Annotated[
    bool,
    typer.Option(
        "--open",
        help="Open each saved image with the system's viewer when the run ends.",
        rich_help_panel=OUTPUT,
        show_default=False,
    ),
]
PartialImages = Annotated[
    int | None,
    typer.Option(
        "--partial-images",
        help="Stream the image, with 1 to 3 partial images before it (GPT image models; not GIF "
        "or SVG): each is written as NAME.partial-K.EXT, or only shown with --preview, and "
        "removed once the image is saved. Default: 0, no stream.",
        rich_help_panel=OUTPUT,
        show_default=False,
        metavar="N",
    ),
]
