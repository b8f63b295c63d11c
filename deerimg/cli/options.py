"""The options of the image commands, defined once: panels, Annotated types, one typed record."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from deerimg.values import VALUE_SETS

REQUEST = "Request"
OUTPUT = "Output"
BATCH = "Batch"
CONNECTION = "Connection"


def _values(name: str) -> str:
    return ", ".join(VALUE_SETS[name])


def opt(
    *names: str, help: str, panel: str = REQUEST, metavar: str | None = None
) -> typer.models.OptionInfo:
    """An option whose value is named METAVAR, else as the man page does (--model MODEL)."""
    metavar = metavar or names[-1].lstrip("-").upper().replace("-", "_")
    return typer.Option(
        *names, help=help, rich_help_panel=panel, show_default=False, metavar=metavar
    )


# The options `generate` and `edit` share, defined once.
Model = Annotated[
    str | None, opt("-m", "--model", help="Model id. Default: gpt-image-2, or config model.")
]
Size = Annotated[
    str | None,
    opt(
        "-s",
        "--size",
        help="WxH (such as 1024x1536) or auto. Default: config size, else the API's.",
        metavar="WxH",
    ),
]
Quality = Annotated[
    str | None,
    opt(
        "-q",
        "--quality",
        help=f"One of: {_values('quality')}. Default: config quality, else the API's.",
    ),
]
Count = Annotated[
    int | None, opt("-n", "--count", help="Images per prompt, 1-10. Default: 1.", metavar="N")
]
Format = Annotated[
    str | None,
    opt(
        "--format",
        help="png, jpeg, webp, gif or svg (output_format; gif and svg: GPT image 2.5 and later). "
        "Default: from the -o extension, else config format, else png.",
    ),
]
Compression = Annotated[
    int | None,
    opt(
        "--compression",
        metavar="0-100",
        help="0-100, jpeg and webp only (output_compression). Default: not sent (the API's).",
    ),
]
Background = Annotated[
    str | None,
    opt("--background", help=f"One of: {_values('background')}. Default: not sent (the API's)."),
]
Moderation = Annotated[
    str | None,
    opt("--moderation", help=f"One of: {_values('moderation')}. Default: not sent (the API's)."),
]
ResponseFormat = Annotated[
    str | None,
    opt(
        "--response-format",
        help=f"One of: {_values('response_format')} (dall-e models; GPT "
        "image models always answer in base64). Default: not sent (the API's).",
    ),
]
User = Annotated[
    str | None,
    opt("--user", help="An end-user id for abuse monitoring. Default: none.", metavar="ID"),
]
Param = Annotated[
    list[str] | None,
    opt(
        "-p",
        "--param",
        help="KEY=VALUE, any request field, sent as is (VALUE is parsed as "
        "JSON when it parses); repeatable. Default: none.",
        metavar="KEY=VALUE",
    ),
]
Output = Annotated[
    str | None,
    opt(
        "-o",
        "--output",
        panel=OUTPUT,
        help="Image path; '-' for standard output. "
        "Placeholders: {index} {n} {slug} {model} {ext} {date} {time}. Default: {slug}.{ext} in "
        "the output folder ({slug}-{n}.{ext} with -n).",
        metavar="PATH",
    ),
]
OutputDir = Annotated[
    Path | None,
    opt(
        "-d",
        "--output-dir",
        panel=OUTPUT,
        help="Folder for the images, created when "
        "missing. Default: the current folder, or config output_dir.",
        metavar="DIR",
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing -o target.", rich_help_panel=OUTPUT)
]
SkipExisting = Annotated[
    bool,
    typer.Option(
        "--skip-existing",
        help="Skip prompts whose images all exist, and ask a prompt with some of them only for "
        "the rest (-n), so a re-run pays only for what is missing.",
        rich_help_panel=OUTPUT,
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json",
        help="One JSON object per image (and per failed prompt) on standard output.",
        rich_help_panel=OUTPUT,
    ),
]
NoMetadata = Annotated[
    bool,
    typer.Option(
        "--no-metadata",
        help="Do not embed provenance (prompt, model, request id, the IPTC 'made by AI' label) "
        "in the images.",
        rich_help_panel=OUTPUT,
    ),
]
Sidecar = Annotated[
    bool,
    typer.Option(
        "--sidecar",
        help="Also write the provenance to FILE.json beside each image (always done when the "
        "image carries C2PA content credentials).",
        rich_help_panel=OUTPUT,
    ),
]
NoHistory = Annotated[
    bool,
    typer.Option(
        "--no-history",
        help="Do not append this run to the history ledger (see `deerimg history`).",
        rich_help_panel=OUTPUT,
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", help="Errors only on standard error.", rich_help_panel=OUTPUT)
]
File = Annotated[
    str | None,
    opt(
        "-f",
        "--file",
        panel=BATCH,
        help="Prompt file: one prompt a line, '#' comments, JSON lines; '-' for standard input. "
        "Default: the PROMPT argument, or piped standard input.",
        metavar="FILE",
    ),
]
Jobs = Annotated[
    int | None,
    opt(
        "-j",
        "--jobs",
        panel=BATCH,
        help="Requests at once, 1-32. Default: 4, or config jobs.",
        metavar="N",
    ),
]
FailFast = Annotated[
    bool,
    typer.Option("--fail-fast", help="Stop at the first failed prompt.", rich_help_panel=BATCH),
]
Retries = Annotated[
    int | None,
    opt(
        "--retries",
        panel=CONNECTION,
        help="Retries of 408/409/429/5xx and network errors, 0-20. Default: 3, or config retries.",
        metavar="N",
    ),
]
Timeout = Annotated[
    float | None,
    opt(
        "--timeout",
        panel=CONNECTION,
        help="Seconds to wait for an answer. Default: 300, or config timeout.",
        metavar="SECONDS",
    ),
]
DryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print each request as JSON instead of sending it (no key needed).",
        rich_help_panel=CONNECTION,
    ),
]


Style = Annotated[
    str | None,
    opt("--style", help=f"One of: {_values('style')} (dall-e-3). Default: not sent (the API's)."),
]
Mask = Annotated[
    Path | None,
    opt(
        "--mask",
        help="PNG with an alpha channel, the first image's size: transparent "
        "pixels mark where to edit. Default: none.",
        metavar="MASK.png",
    ),
]
InputFidelity = Annotated[
    str | None,
    opt(
        "--input-fidelity",
        help=f"One of: {_values('input_fidelity')}: how closely to keep the inputs' details. "
        "Default: not sent (the API's: low).",
    ),
]


class ImageFlags:
    """The flags `generate` and `edit` share, and the few only one of them has, typed.

    Built from a command's locals() by ImageFlags.of, which takes its own fields and fails on a
    missing one: a flag is never looked up by a string key again. A plain class, not a
    dataclass: making a dataclass of 28 fields costs every start 1.5 ms (`deerimg --help`).
    """

    model: str | None
    size: str | None
    quality: str | None
    count: int | None
    fmt: str | None
    compression: int | None
    background: str | None
    moderation: str | None
    response_format: str | None
    user: str | None
    param: list[str] | None
    output: str | None
    output_dir: Path | None
    force: bool
    skip_existing: bool
    json_lines: bool
    quiet: bool
    no_metadata: bool
    sidecar: bool
    no_history: bool
    file: str | None
    jobs: int | None
    fail_fast: bool
    retries: int | None
    timeout: float | None
    dry_run: bool
    style: str | None  # generate only
    input_fidelity: str | None  # edit only

    ONLY_ONE = ("style", "input_fidelity")  # the flags only one command has: None in the other

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(cls.__annotations__)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ImageFlags:
        """The record of a command's flags: VALUES is its locals(); a missing flag is a KeyError."""
        flags = cls()
        for name in cls.names():
            setattr(flags, name, values.get(name) if name in cls.ONLY_ONE else values[name])
        return flags
