"""`generate` and `edit`: their flags gathered into one record, then the run of images."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command, 5 ms of `deerimg --help` (issue 10's bar; STYLE §2.9 aside).

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from deerimg.cli.family_options import Complexity, FrameDuration, Frames, Markup, Upscale, Watermark
from deerimg.cli.flags import ImageFlags, request_of
from deerimg.cli.money import MaxCost, Open, PartialImages, Preview
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
    from deerimg.events import Event
    from deerimg.jobs.prepare import Uploads
    from deerimg.jobs.prompts import Job
    from deerimg.jobs.request import RequestSpec
    from deerimg.run.tasks import RunPolicy
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
    preview: Preview = False,
    partial_images: PartialImages = None,
    open_images: Open = False,
    retries: Retries = None,
    retry_timeouts: RetryTimeouts = False,
    timeout: Timeout = None,
    dry_run: DryRun = False,
) -> None:
    """Generate images from a prompt or a prompt file.

    Example: deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg
    """
    flags = ImageFlags.of(locals())
    settings, spec, policy = request_of(flags, "generations")
    uploads = None
    if image:
        from deerimg.jobs.prepare import references_of

        uploads = references_of(image)
    raise typer.Exit(_run(settings, spec, _jobs(prompt, flags), policy, uploads, flags.open_images))


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
    preview: Preview = False,
    partial_images: PartialImages = None,
    open_images: Open = False,
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
    settings, spec, policy = request_of(flags, "edits")
    args = args or []
    if file is None and len(args) < 2:
        raise typer.BadParameter("give the image(s) to edit, then the prompt", param_hint="ARGS")
    images, prompt = (args, None) if file is not None else (args[:-1], args[-1])
    if prompt is not None:
        check_edit_prompt(prompt)
    uploads = uploads_of(images, mask, markup)
    raise typer.Exit(_run(settings, spec, _jobs(prompt, flags), policy, uploads, flags.open_images))


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
    open_images: bool = False,
) -> int:
    """Run the images, drawn by one Report for people and scripts; the exit code. --open: each
    saved image handed to the system's viewer when the run ends."""
    from deerimg.events import Saved
    from deerimg.report import terminal
    from deerimg.report.run import Report
    from deerimg.run.images import run_images

    report = Report(
        json_lines=policy.json_lines,
        quiet=policy.quiet,
        paths_on_stdout=policy.output != "-",
        debug=policy.debug,
        preview=settings.sources.get("preview") if settings.preview else None,
    )
    if report.previewing:  # partial images go to the screen, not to files beside the image
        from dataclasses import replace

        policy = replace(policy, partial_files=False)
    saved: list[str] = []

    def told(event: "Event") -> None:
        if isinstance(event, Saved) and event.record.path is not None:
            saved.append(event.record.path)
        report(event)

    with report:
        code = run_images(
            settings,
            spec,
            jobs,
            policy,
            told if open_images else report,
            uploads=uploads,
            stdout_is_terminal=terminal.stdout_is_terminal(),
        )
    if saved:
        from pathlib import Path

        from deerimg.run import viewer

        opened = [viewer.view(Path(path)) for path in saved]  # each one, whatever the others do
        if not all(opened):
            terminal.warn("no viewer could be started: open the saved images yourself")
    return code
