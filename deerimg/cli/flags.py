"""The flags of `generate` and `edit` as one record, and the settings and policy they make."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where they run: `deerimg generate --help` needs none of them
    from deerimg.jobs.request import RequestSpec
    from deerimg.run.tasks import Endpoint, RunPolicy
    from deerimg.settings.resolve import Settings


class ImageFlags:
    """The flags `generate` and `edit` share, and the few only one of them has, typed.

    Built from a command's locals() by ImageFlags.of, which takes its own fields and fails on a
    missing one: a flag is never looked up by a string key again. A plain class, not a
    dataclass: making a dataclass of 28 fields costs every start 1.5 ms (`deerimg --help`).
    """

    model: list[str] | None  # -m, repeatable (issue 17)
    size: str | None
    quality: str | None
    count: int | None
    fmt: str | None
    compression: int | None
    background: str | None
    moderation: str | None
    complexity: str | None
    frames: int | None
    frame_duration: int | None
    watermark: bool
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
    jobs: str | None
    max_jobs: int | None
    fail_fast: bool
    max_cost: float | None
    preview: bool  # --preview; off: the environment's or config's
    partial_images: int | None  # --partial-images N: streamed
    open_images: bool  # --open: the saved images shown by the system's viewer at the end
    retries: int | None
    retry_timeouts: bool
    timeout: float | None
    dry_run: bool
    aspect: str | None
    resolution: str | None
    image: list[str] | None  # generate only: -i
    upscale: str | None  # generate only: Midjourney's U1…U4
    style: str | None  # generate only
    input_fidelity: str | None  # edit only

    ONLY_ONE = (
        "style",
        "input_fidelity",
        "image",
        "upscale",
    )  # the flags only one command has: None in the other

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


def request_of(flags: ImageFlags, endpoint: Endpoint) -> tuple[Settings, RequestSpec, RunPolicy]:
    """Flags → settings (flag > env > config > default), the request spec and the run policy."""
    from deerimg.cli.app import state
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
            "preview": flags.preview or None,  # the flag only turns it on
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
        partial_images=flags.partial_images,
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
