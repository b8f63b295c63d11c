"""The flags of `generate` and `edit` gathered into one typed record, from a command's locals()."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


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
