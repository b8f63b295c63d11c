"""The options of fields only some model families take, each checked against the family table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deerimg.cli.options import REQUEST, opt
from deerimg.values import VALUE_SETS

# OpenAI's November-2026 fields (research/peers-2026-12.md §5) and Seedream's watermark.
Complexity = Annotated[
    str | None,
    opt(
        "--complexity",
        help=f"One of: {', '.join(VALUE_SETS['complexity'])}: how much the model plans the "
        "image, apart from --quality (GPT image 2.5 and later). Default: not sent (the API's).",
    ),
]
Frames = Annotated[
    int | None,
    opt(
        "--frames",
        help="2-16: frames of GIF output (frame_count; --format gif or a .gif -o name). "
        "Default: not sent (the API's: 9).",
        metavar="N",
    ),
]
FrameDuration = Annotated[
    int | None,
    opt(
        "--frame-duration",
        help="Milliseconds each frame of GIF output shows (frame_duration_ms; the API rounds it "
        "to 10 ms). Default: not sent (the API's: 200).",
        metavar="MS",
    ),
]
Watermark = Annotated[
    bool,
    typer.Option(
        "--watermark",
        help="Ask for the model's visible watermark (Seedream, SeedEdit: deerimg sends "
        "watermark false otherwise); GPT image and DALL·E have none.",
        rich_help_panel=REQUEST,
    ),
]
Markup = Annotated[
    Path | None,
    opt(
        "--markup",
        help="Transparent PNG, the first image's size, drawn over it to guide the edit (GPT "
        "image 2.5 and later; not with --mask). Default: none.",
        metavar="FILE.png",
    ),
]
Upscale = Annotated[
    str | None,
    opt(
        "--upscale",
        help="Midjourney: after the 2x2 grid, upscale these of its images, each saved as an "
        "image of its own: 1, 2, 3, 4, a list such as 1,3, or all. Default: the grid only.",
        metavar="1|2|3|4|all",
    ),
]
