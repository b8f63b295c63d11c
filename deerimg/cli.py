"""The Typer app: commands, options and panels; flags in, plain calls out."""

import copy
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from deerimg import __version__, _deferred
from deerimg.errors import DeerimgError, ExitCode

if TYPE_CHECKING:
    from deerimg.generate import RunOptions
    from deerimg.request import RequestSpec
    from deerimg.settings import Settings

_debug = False
_deferred.install()  # --help without markdown-it and pygments


class _Group(TyperGroup):
    """The one place where errors become a message and an exit code (httpie's raw_main)."""

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except DeerimgError as error:
            if _debug:
                raise
            from deerimg.report import print_error

            print_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            if _debug:
                raise
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(ExitCode.INTERRUPTED) from None


app = typer.Typer(
    cls=_Group,
    name="deerimg",
    help="Turn text prompts into image files through DeerAPI.\n\nStart with `deerimg config "
    'set api-key`, then `deerimg generate "a paper boat" -o boat.jpg`.',
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals hold the key
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
)

REQUEST = "Request"
OUTPUT = "Output"
BATCH = "Batch"
CONNECTION = "Connection"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deerimg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show Python tracebacks (also DEERIMG_DEBUG=1).")
    ] = False,
) -> None:
    """Turn text prompts into image files through DeerAPI's images API.

    Start with `deerimg config set api-key`, then `deerimg generate "a paper boat" -o boat.jpg`.
    """
    global _debug
    _debug = _debug or debug


def _values(name: str) -> str:
    from deerimg.request import VALUE_SETS

    return ", ".join(VALUE_SETS[name])


def _opt(
    *names: str, help: str, panel: str = REQUEST, metavar: str | None = None
) -> typer.models.OptionInfo:
    return typer.Option(
        *names, help=help, rich_help_panel=panel, show_default=False, metavar=metavar
    )


# The options `generate` and `edit` share, defined once.
Model = Annotated[
    str | None, _opt("-m", "--model", help="Model id. Default: gpt-image-2, or config model.")
]
Size = Annotated[
    str | None,
    _opt(
        "-s",
        "--size",
        help="WxH (such as 1024x1536) or auto. Default: config size, else the API's.",
        metavar="WxH",
    ),
]
Quality = Annotated[
    str | None,
    _opt(
        "-q",
        "--quality",
        help=f"One of: {_values('quality')}. Default: config quality, else the API's.",
    ),
]
Count = Annotated[
    int | None, _opt("-n", "--count", help="Images per prompt, 1-10. Default: 1.", metavar="N")
]
Format = Annotated[
    str | None,
    _opt(
        "--format",
        help="png, jpeg or webp (output_format). Default: from the -o extension, "
        "else config format, else png.",
    ),
]
Compression = Annotated[
    int | None,
    _opt(
        "--compression",
        metavar="0-100",
        help="0-100, jpeg and webp only (output_compression). Default: not sent (the API's).",
    ),
]
Background = Annotated[
    str | None,
    _opt("--background", help=f"One of: {_values('background')}. Default: not sent (the API's)."),
]
Moderation = Annotated[
    str | None,
    _opt("--moderation", help=f"One of: {_values('moderation')}. Default: not sent (the API's)."),
]
ResponseFormat = Annotated[
    str | None,
    _opt(
        "--response-format",
        help=f"One of: {_values('response_format')} (dall-e models; GPT "
        "image models always answer in base64). Default: not sent (the API's).",
    ),
]
User = Annotated[
    str | None,
    _opt("--user", help="An end-user id for abuse monitoring. Default: none.", metavar="ID"),
]
Param = Annotated[
    list[str] | None,
    _opt(
        "-p",
        "--param",
        help="KEY=VALUE, any request field, sent as is (VALUE is parsed as "
        "JSON when it parses); repeatable. Default: none.",
        metavar="KEY=VALUE",
    ),
]
Output = Annotated[
    str | None,
    _opt(
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
    _opt(
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
    _opt(
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
    _opt(
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
    _opt(
        "--retries",
        panel=CONNECTION,
        help="Retries of 408/409/429/5xx and network errors. Default: 3, or config retries.",
        metavar="N",
    ),
]
Timeout = Annotated[
    float | None,
    _opt(
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


@app.command(rich_help_panel="Images")
def generate(
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="The prompt. '-' reads one prompt from all of standard input. Omitted with "
            "piped input: one prompt per line, as --file -.",
            show_default=False,
        ),
    ] = None,
    model: Model = None,
    size: Size = None,
    quality: Quality = None,
    count: Count = None,
    fmt: Format = None,
    compression: Compression = None,
    background: Background = None,
    moderation: Moderation = None,
    style: Annotated[
        str | None,
        _opt(
            "--style", help=f"One of: {_values('style')} (dall-e-3). Default: not sent (the API's)."
        ),
    ] = None,
    response_format: ResponseFormat = None,
    user: User = None,
    param: Param = None,
    output: Output = None,
    output_dir: OutputDir = None,
    force: Force = False,
    skip_existing: SkipExisting = False,
    json_lines: Json = False,
    quiet: Quiet = False,
    no_metadata: NoMetadata = False,
    sidecar: Sidecar = False,
    no_history: NoHistory = False,
    file: File = None,
    jobs: Jobs = None,
    fail_fast: FailFast = False,
    retries: Retries = None,
    timeout: Timeout = None,
    dry_run: DryRun = False,
) -> None:
    """Generate images from a prompt or a prompt file.

    Example: deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg
    """
    from deerimg.generate import run_images
    from deerimg.prompts import read_jobs
    from deerimg.report import is_terminal

    flags = locals()
    settings, spec, options = _request(flags)
    jobs_list = read_jobs(prompt, file, sys.stdin, is_terminal(sys.stdin))
    raise typer.Exit(run_images(settings, spec, jobs_list, options))


@app.command(rich_help_panel="Images")
def edit(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="IMAGE... PROMPT: up to 16 PNG, JPEG or WebP files, then the prompt ('-' reads "
            "it from standard input). With --file, every argument is an image, and none is "
            'needed when each line names its own ("image").',
            show_default=False,
            metavar="IMAGE... PROMPT",
        ),
    ] = None,
    mask: Annotated[
        Path | None,
        _opt(
            "--mask",
            help="PNG with an alpha channel, the first image's size: transparent "
            "pixels mark where to edit. Default: none.",
            metavar="MASK.png",
        ),
    ] = None,
    input_fidelity: Annotated[
        str | None,
        _opt(
            "--input-fidelity",
            help=f"One of: {_values('input_fidelity')}: how closely to keep the inputs' details. "
            "Default: not sent (the API's: low).",
        ),
    ] = None,
    model: Model = None,
    size: Size = None,
    quality: Quality = None,
    count: Count = None,
    fmt: Format = None,
    compression: Compression = None,
    background: Background = None,
    moderation: Moderation = None,
    response_format: ResponseFormat = None,
    user: User = None,
    param: Param = None,
    output: Output = None,
    output_dir: OutputDir = None,
    force: Force = False,
    skip_existing: SkipExisting = False,
    json_lines: Json = False,
    quiet: Quiet = False,
    no_metadata: NoMetadata = False,
    sidecar: Sidecar = False,
    no_history: NoHistory = False,
    file: File = None,
    jobs: Jobs = None,
    fail_fast: FailFast = False,
    retries: Retries = None,
    timeout: Timeout = None,
    dry_run: DryRun = False,
) -> None:
    """Edit images with a prompt (POST /v1/images/edits); default output: PHOTO-edit.EXT.

    Example: deerimg edit photo.png "make it night" --mask mask.png -o night.png
    """
    from deerimg import inputs
    from deerimg.generate import Uploads, run_images
    from deerimg.prompts import read_jobs
    from deerimg.report import is_terminal

    flags = locals()
    settings, spec, options = _request(flags)
    args = args or []
    if file is None and len(args) < 2:
        raise typer.BadParameter("give the image(s) to edit, then the prompt", param_hint="ARGS")
    images, prompt = (args, None) if file is not None else (args[:-1], args[-1])
    checked = inputs.check_images(images) if images else ()
    mask_image = None
    if mask and checked:
        mask_image = inputs.check_mask(mask, checked[0])
    elif mask:  # each line's own first image is compared with it (generate._job_files)
        mask_image = inputs.check_image(mask, "mask")
    jobs_list = read_jobs(prompt, file, sys.stdin, is_terminal(sys.stdin))
    uploads = Uploads(checked, mask_image)
    raise typer.Exit(
        run_images(settings, spec, jobs_list, options, endpoint="edits", uploads=uploads)
    )


@app.command(rich_help_panel="Images")
def info(
    images: Annotated[
        list[Path], typer.Argument(help="PNG, JPEG or WebP files.", show_default=False)
    ],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
) -> None:
    """Show what images carry: deerimg's record, C2PA credentials, other tools' parameters.

    Example: deerimg info night.png
    """
    from deerimg.records import show_info

    raise typer.Exit(show_info(images, json_out))


@app.command(rich_help_panel="Images")
def history(
    limit: Annotated[
        int, typer.Option("-n", "--limit", help="How many of the latest entries.")
    ] = 20,
    search: Annotated[
        str | None,
        _opt(
            "--search",
            help="Only entries whose prompt, model or files contain TEXT. Default: all entries.",
            metavar="TEXT",
            panel="Options",
        ),
    ] = None,
    since: Annotated[
        str | None,
        _opt(
            "--since",
            help="Only entries since a date (YYYY-MM-DD), a time "
            "(ISO 8601) or a span ago (3d, 12h, 2w). Default: all entries.",
            metavar="WHEN",
            panel="Options",
        ),
    ] = None,
    usage: Annotated[
        bool, typer.Option("--usage", help="Images and tokens per day and model.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Show the history ledger: every generation and edit, newest last.

    Example: deerimg history --usage --since 7d
    """
    from deerimg.records import show_history

    raise typer.Exit(show_history(limit, search, since, json_out, usage))


def _request(flags: dict[str, Any]) -> "tuple[Settings, RequestSpec, RunOptions]":
    """Flags → settings (flag > env > config > default), the request spec and run options."""
    from deerimg.generate import RunOptions
    from deerimg.request import RequestSpec, parse_param
    from deerimg.settings import resolve_settings

    if flags["quiet"]:
        from deerimg.report import be_quiet

        be_quiet()  # before settings: the config's warnings are not errors either
    fmt = flags["fmt"]
    settings = resolve_settings(
        _checked_flags(
            model=flags["model"],
            size=flags["size"],
            quality=flags["quality"],
            format=fmt,
            output_dir=flags["output_dir"],
            jobs=flags["jobs"],
            retries=flags["retries"],
            timeout=flags["timeout"],
        )
    )
    spec = RequestSpec(
        model=settings.model,
        n=flags["count"],
        size=settings.size,
        quality=settings.quality,
        output_format=settings.format,
        format_from_flag=fmt is not None,
        output_compression=flags["compression"],
        background=flags["background"],
        moderation=flags["moderation"],
        style=flags.get("style"),
        response_format=flags["response_format"],
        user=flags["user"],
        input_fidelity=flags.get("input_fidelity"),
        params=dict(parse_param(p) for p in flags["param"] or ()),
    )
    options = RunOptions(
        output=flags["output"],
        force=flags["force"],
        skip_existing=flags["skip_existing"],
        fail_fast=flags["fail_fast"],
        dry_run=flags["dry_run"],
        json_lines=flags["json_lines"],
        quiet=flags["quiet"],
        debug=_debug,
        metadata=not flags["no_metadata"],
        sidecar=flags["sidecar"],
        history=not flags["no_history"] and settings.history,
    )
    return settings, spec, options


from deerimg.cli_config import config_app, models_command  # noqa: E402 - after app exists

app.add_typer(config_app, name="config", rich_help_panel="Settings")
app.command("models", rich_help_panel="Settings")(models_command)


def _checked_flags(**flags: object) -> dict[str, object]:
    """Flags that share a config key are checked by the same rule as the config value."""
    from deerimg import config
    from deerimg.errors import usage_error

    checked: dict[str, object] = {}
    for key, value in flags.items():
        if value is None:
            continue
        if key in ("model", "size", "quality", "format"):
            # checked with the request, whose message names the -p escape
            checked[key] = "jpeg" if value == "jpg" else value
            continue
        try:
            checked[key] = config.check_value(key, str(value) if key == "output_dir" else value)
        except ValueError as exc:
            raise usage_error(f"invalid value for --{key.replace('_', '-')}: {exc}") from None
    return checked


def run() -> None:
    """Run the app as the console script does."""
    global _debug
    _debug = _debug or os.environ.get("DEERIMG_DEBUG", "") not in ("", "0")
    try:
        only(sys.argv[1] if len(sys.argv) > 1 else None)()
    except BrokenPipeError:
        # The reader of standard output went away (`| head`): leave quietly, like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.FAILURE)


def only(name: str | None) -> typer.Typer:
    """The app with NAME as its one command, when NAME is one; else the whole app.

    typer builds the options of every command at each start, though a run uses one command:
    4 of the 6 ms (issue 10). Everything a run of NAME shows is the same either way (its help,
    its errors); shell completion, which walks the whole tree, always gets the whole app.
    """
    if "_DEERIMG_COMPLETE" in os.environ:
        return app
    chosen = [c for c in app.registered_commands if _command_name(c) == name]
    if not chosen:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = chosen
    narrowed.registered_groups = []
    return narrowed


def _command_name(command: Any) -> str:
    """The name typer gives a registered command (typer.main.get_command_from_info's rule)."""
    from typer.main import get_command_name

    return command.name or (get_command_name(command.callback.__name__) if command.callback else "")
