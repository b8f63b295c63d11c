"""The Typer app: commands, options and panels; flags in, plain calls out."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from deerimg import __version__
from deerimg.errors import DeerimgError, ExitCode

_debug = False


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
    help="Turn text prompts into image files through DeerAPI.",
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


@app.command(rich_help_panel="Images")
def generate(
    prompt: Annotated[
        str | None,
        typer.Argument(
            help="The prompt. '-' reads one prompt from all of standard input. "
            "Omitted with piped input: one prompt per line, as --file -.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "-m",
            "--model",
            help="Model id. Default: gpt-image-2, or config model.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            "-s",
            "--size",
            help="WxH (such as 1024x1536) or auto. Default: the API's.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    quality: Annotated[
        str | None,
        typer.Option(
            "-q",
            "--quality",
            help=f"One of: {_values('quality')}. Default: the API's.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "-n",
            "--count",
            help="Images per prompt, 1-10. Default: 1.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="png, jpeg or webp (output_format). Default: from the -o extension, else png.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    compression: Annotated[
        int | None,
        typer.Option(
            "--compression",
            help="0-100, jpeg and webp only (output_compression).",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    background: Annotated[
        str | None,
        typer.Option(
            "--background",
            help=f"One of: {_values('background')}.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    moderation: Annotated[
        str | None,
        typer.Option(
            "--moderation",
            help=f"One of: {_values('moderation')}.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    style: Annotated[
        str | None,
        typer.Option(
            "--style",
            help=f"One of: {_values('style')} (dall-e-3).",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    response_format: Annotated[
        str | None,
        typer.Option(
            "--response-format",
            help=f"One of: {_values('response_format')} "
            "(dall-e models; GPT image models always answer in base64).",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="An end-user id for abuse monitoring.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "-p",
            "--param",
            help="KEY=VALUE, any request field (VALUE parsed as JSON "
            "when it parses); repeatable; sent as is.",
            rich_help_panel=REQUEST,
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "-o",
            "--output",
            help="Image path; '-' for standard output. Placeholders "
            "{index} {n} {slug} {model} {ext} {date} {time}. Default: {slug}.{ext}.",
            rich_help_panel=OUTPUT,
            show_default=False,
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "-d",
            "--output-dir",
            help="Folder for the images, created when missing. "
            "Default: the current folder, or config output_dir.",
            rich_help_panel=OUTPUT,
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite an existing -o target.", rich_help_panel=OUTPUT),
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing",
            help="Skip prompts whose images all exist, so a re-run pays only for what is missing.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    json_lines: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object per image (and per failed prompt) on standard output.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Errors only on standard error.", rich_help_panel=OUTPUT)
    ] = False,
    file: Annotated[
        str | None,
        typer.Option(
            "-f",
            "--file",
            help="Prompt file, one per line ('#' comments, JSON lines); '-' for standard input.",
            rich_help_panel=BATCH,
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "-j",
            "--jobs",
            help="Requests at once, 1-32. Default: 4, or config jobs.",
            rich_help_panel=BATCH,
            show_default=False,
        ),
    ] = None,
    fail_fast: Annotated[
        bool,
        typer.Option("--fail-fast", help="Stop at the first failed prompt.", rich_help_panel=BATCH),
    ] = False,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help="Retries of 408/409/429/5xx and network errors. Default: 3.",
            rich_help_panel=CONNECTION,
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds to wait for an answer. Default: 300.",
            rich_help_panel=CONNECTION,
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print each request as JSON instead of sending it (no key needed).",
            rich_help_panel=CONNECTION,
        ),
    ] = False,
) -> None:
    """Generate images from a prompt or a prompt file.

    Example: deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg
    """
    from deerimg.generate import RunOptions
    from deerimg.generate import generate as run_generate
    from deerimg.prompts import read_jobs
    from deerimg.request import RequestSpec, parse_param
    from deerimg.settings import resolve_settings

    settings = resolve_settings(
        _checked_flags(
            model=model,
            size=size,
            quality=quality,
            format=fmt,
            output_dir=output_dir,
            jobs=jobs,
            retries=retries,
            timeout=timeout,
        )
    )
    spec = RequestSpec(
        model=settings.model,
        n=count,
        size=size or settings.size,
        quality=quality or settings.quality,
        output_format=settings.format,
        format_from_flag=fmt is not None,
        output_compression=compression,
        background=background,
        moderation=moderation,
        style=style,
        response_format=response_format,
        user=user,
        params=dict(parse_param(p) for p in param or ()),
    )
    jobs_list = read_jobs(prompt, file, sys.stdin, _isatty(sys.stdin))
    options = RunOptions(
        output, force, skip_existing, fail_fast, dry_run, json_lines, quiet, debug=_debug
    )
    raise typer.Exit(run_generate(settings, spec, jobs_list, options))


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


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:
        return False


def run() -> None:
    """Run the app as the console script does."""
    global _debug
    _debug = _debug or os.environ.get("DEERIMG_DEBUG", "") not in ("", "0")
    try:
        app()
    except BrokenPipeError:
        # The reader of standard output went away (`| head`): leave quietly, like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.FAILURE)
