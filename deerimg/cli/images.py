"""`generate` and `edit`: their flags gathered into one record, then the run of images."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command, 5 ms of `deerimg --help` (issue 10's bar; STYLE §2.9 aside).

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from deerimg.cli.app import state
from deerimg.cli.family_options import Complexity, FrameDuration, Frames, Markup, Upscale, Watermark
from deerimg.cli.flags import ImageFlags
from deerimg.cli.money import MaxCost
from deerimg.cli.options import (
    Aspect,
    Background,
    Compression,
    Count,
    DryRun,
    FailFast,
    File,
    Force,
    Format,
    Image,
    InputFidelity,
    Json,
    Mask,
    Model,
    Moderation,
    NoHistory,
    NoMetadata,
    Output,
    OutputDir,
    Param,
    Quality,
    Quiet,
    Resolution,
    ResponseFormat,
    Retries,
    RetryTimeouts,
    Sidecar,
    Size,
    SkipExisting,
    Style,
    Timeout,
    User,
)
from deerimg.cli.pacing_options import Jobs, MaxJobs

if TYPE_CHECKING:  # imported where they run: `deerimg generate --help` needs none of them
    from deerimg.jobs.prepare import Uploads
    from deerimg.jobs.prompts import Job
    from deerimg.jobs.request import RequestSpec
    from deerimg.run.tasks import Endpoint, RunPolicy
    from deerimg.settings.resolve import Settings


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
    aspect: Aspect = None,
    resolution: Resolution = None,
    image: Image = None,
    upscale: Upscale = None,
    quality: Quality = None,
    count: Count = None,
    fmt: Format = None,
    compression: Compression = None,
    background: Background = None,
    moderation: Moderation = None,
    complexity: Complexity = None,
    frames: Frames = None,
    frame_duration: FrameDuration = None,
    watermark: Watermark = False,
    style: Style = None,
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
    max_jobs: MaxJobs = None,
    fail_fast: FailFast = False,
    max_cost: MaxCost = None,
    retries: Retries = None,
    retry_timeouts: RetryTimeouts = False,
    timeout: Timeout = None,
    dry_run: DryRun = False,
) -> None:
    """Generate images from a prompt or a prompt file.

    Example: deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg
    """
    flags = ImageFlags.of(locals())
    settings, spec, policy = _request(flags, "generations")
    uploads = None
    if image:
        from deerimg.jobs.prepare import references_of

        uploads = references_of(image)
    raise typer.Exit(_run(settings, spec, _jobs(prompt, flags), policy, uploads))


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
    mask: Mask = None,
    markup: Markup = None,
    input_fidelity: InputFidelity = None,
    model: Model = None,
    size: Size = None,
    aspect: Aspect = None,
    resolution: Resolution = None,
    quality: Quality = None,
    count: Count = None,
    fmt: Format = None,
    compression: Compression = None,
    background: Background = None,
    moderation: Moderation = None,
    complexity: Complexity = None,
    frames: Frames = None,
    frame_duration: FrameDuration = None,
    watermark: Watermark = False,
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
    max_jobs: MaxJobs = None,
    fail_fast: FailFast = False,
    max_cost: MaxCost = None,
    retries: Retries = None,
    retry_timeouts: RetryTimeouts = False,
    timeout: Timeout = None,
    dry_run: DryRun = False,
) -> None:
    """Edit images with a prompt (POST /v1/images/edits); default output: PHOTO-edit.EXT.

    Example: deerimg edit photo.png "make it night" --mask mask.png -o night.png
    """
    from deerimg.jobs.prepare import check_edit_prompt, uploads_of

    flags = ImageFlags.of(locals())
    settings, spec, policy = _request(flags, "edits")
    args = args or []
    if file is None and len(args) < 2:
        raise typer.BadParameter("give the image(s) to edit, then the prompt", param_hint="ARGS")
    images, prompt = (args, None) if file is not None else (args[:-1], args[-1])
    if prompt is not None:
        check_edit_prompt(prompt)
    uploads = uploads_of(images, mask, markup)
    raise typer.Exit(_run(settings, spec, _jobs(prompt, flags), policy, uploads))


def _request(flags: ImageFlags, endpoint: "Endpoint") -> "tuple[Settings, RequestSpec, RunPolicy]":
    """Flags → settings (flag > env > config > default), the request spec and the run policy."""
    from deerimg.jobs.models import repeated
    from deerimg.jobs.request import RequestSpec, parse_param
    from deerimg.report.terminal import warn
    from deerimg.run.tasks import RunPolicy
    from deerimg.settings.resolve import resolve_settings

    models = flags.model or []  # several -m replace the config's one model
    settings = resolve_settings(
        {
            "model": models[0] if models else None,
            "size": flags.size,
            "quality": flags.quality,
            "format": flags.fmt,
            "output_dir": flags.output_dir,
            "jobs": flags.jobs,
            "max_jobs": flags.max_jobs,
            "retries": flags.retries,
            "max_cost": flags.max_cost,
            "retry_timeouts": flags.retry_timeouts or None,  # the flag only turns it on
            "timeout": flags.timeout,
        }
    )
    if not flags.quiet:  # --quiet: errors only, the config's warnings included
        for warning in settings.warnings:
            warn(warning)
        for model in repeated(models):
            warn(f"-m {model} is given more than once; it runs once")
    spec = RequestSpec(
        model=settings.model,
        n=flags.count,
        size=settings.size,
        quality=settings.quality,
        output_format=settings.format,
        format_from_flag=flags.fmt is not None,
        output_compression=flags.compression,
        background=flags.background,
        moderation=flags.moderation,
        complexity=flags.complexity,
        frame_count=flags.frames,
        frame_duration_ms=flags.frame_duration,
        watermark=flags.watermark or None,
        upscale=flags.upscale,
        style=flags.style,
        response_format=flags.response_format,
        user=flags.user,
        input_fidelity=flags.input_fidelity,
        params=dict(parse_param(p) for p in flags.param or ()),
        aspect=flags.aspect,
        resolution=flags.resolution,
    )
    if flags.size is not None and (flags.aspect or flags.resolution) and not flags.quiet:
        warn("-s is sent as given; --aspect and --resolution make a size only without it")
    policy = RunPolicy(
        endpoint=endpoint,
        output=flags.output,
        force=flags.force,
        skip_existing=flags.skip_existing,
        fail_fast=flags.fail_fast,
        dry_run=flags.dry_run,
        json_lines=flags.json_lines,
        quiet=flags.quiet,
        debug=state.debug,
        metadata=not flags.no_metadata,
        sidecar=flags.sidecar,
        history=not flags.no_history and settings.history,
        max_cost=settings.max_cost,
    )
    return settings, spec, policy


def _jobs(prompt: str | None, flags: ImageFlags) -> "list[Job]":
    """The run's prompts: the argument, a file, or standard input; each on each -m model."""
    from deerimg.jobs.models import on_models
    from deerimg.jobs.prompts import read_jobs
    from deerimg.report import terminal

    jobs = read_jobs(prompt, flags.file, sys.stdin, terminal.stdin_is_terminal(), terminal.note)
    return on_models(jobs, flags.model or [])


def _run(
    settings: "Settings",
    spec: "RequestSpec",
    jobs: "list[Job]",
    policy: "RunPolicy",
    uploads: "Uploads | None" = None,
) -> int:
    """Run the images, drawn by one Report for people and scripts; the exit code."""
    from deerimg.report import terminal
    from deerimg.report.run import Report
    from deerimg.run.images import run_images

    report = Report(
        json_lines=policy.json_lines,
        quiet=policy.quiet,
        paths_on_stdout=policy.output != "-",
        debug=policy.debug,
    )
    with report:
        return run_images(
            settings,
            spec,
            jobs,
            policy,
            report,
            uploads=uploads,
            stdout_is_terminal=terminal.stdout_is_terminal(),
        )
