"""The options of the image commands, defined once: panels, Annotated types, one typed record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    list[str] | None,
    opt(
        "-m",
        "--model",
        help="Model id; repeatable: each prompt runs on each model, in the order given. "
        "Default: gpt-image-2, or config model.",
    ),
]
Size = Annotated[
    str | None,
    opt(
        "-s",
        "--size",
        help="WxH (such as 1024x1536), a tier (2K: Seedream) or auto, as the model's family "
        "takes it. Default: config size, else the API's.",
        metavar="WxH",
    ),
]
Aspect = Annotated[
    str | None,
    opt(
        "--aspect",
        help="W:H, such as 16:9: sent as a size of that shape the model's family takes "
        "(-s wins). Default: none.",
        metavar="W:H",
    ),
]
Image = Annotated[
    list[str] | None,
    opt(
        "-i",
        "--image",
        help="A reference image (PNG, JPEG or WebP file, or a URL), repeatable: sent as the "
        "model's family takes them (GPT image: an edit; Seedream: data URLs). Default: none.",
        metavar="PATH|URL",
    ),
]
Resolution = Annotated[
    str | None,
    opt(
        "--resolution",
        help=f"One of: {_values('resolution')}: a size tier, sent as the model's family takes "
        "it (-s wins). Default: none.",
        metavar="TIER",
    ),
]
Quality = Annotated[
    str | None,
    opt(
        "-q",
        "--quality",
        help=f"One of: {_values('quality')} (standard, hd: DALL·E only), as the model's family "
        "takes it. Default: config quality, else the API's.",
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
    opt(
        "--user",
        help="An end-user id for abuse monitoring: sent as safety_identifier to GPT image "
        "models (OpenAI deprecated user), as user to others. Default: none.",
        metavar="ID",
    ),
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
RetryTimeouts = Annotated[
    bool,
    typer.Option(
        "--retry-timeouts",
        help="Retry a generation that timed out once sent, or whose stream ended before its "
        "image: it may have been billed, so each retry may pay twice. Default: off, or config "
        "retry-timeouts.",
        rich_help_panel=CONNECTION,
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
    opt(
        "--style",
        help=f"One of: {_values('style')} (a legacy field: dall-e-3 only). Default: not sent "
        "(the API's).",
    ),
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
