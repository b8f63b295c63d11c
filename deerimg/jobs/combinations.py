"""The combinations of fields the API is known to refuse, checked on what each job sends."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deerimg.errors import DeerimgError, usage_error
from deerimg.families import family_of
from deerimg.jobs import request
from deerimg.jobs.request import RequestSpec, as_param
from deerimg.values import FLAG_OF, is_gpt_image


@dataclass(slots=True)  # not frozen: 0.2 ms a class at every start (issue 10)
class Sent:
    """One field a job sends, and whether its prompt file line (not a flag) set it."""

    key: str
    value: Any
    from_line: bool

    def label(self) -> str:
        return f'"{self.key}"' if self.from_line else FLAG_OF[self.key]

    def escape(self) -> str:
        """The -p way to send it anyway: a line's own value beats -p, so it must leave the line."""
        text = as_param(self.value)
        if self.from_line:
            return f'send it anyway: take "{self.key}" off the line and use -p {self.key}={text}'
        return f"send it anyway with -p {self.key}={text}"


def check_job(
    spec: RequestSpec,
    overrides: Mapping[str, Any],
    output_format: str | None,
    *,
    where: str = "",
    format_from_line: bool = False,
) -> None:
    """Refuse the combinations the API is known to reject, on what one job really sends: the flags
    merged with its JSON line's overrides, the format finally asked for (flag, extension, config).

    A field set with -p (and not by the line) is not checked: -p is the way to send it anyway.
    WHERE ("prompts.txt line 3: ") leads the message when the line set one of the fields.
    """

    def sent(key: str, flag_value: Any, flag_from_line: bool = False) -> Sent | None:
        if key in overrides:
            return Sent(key, overrides[key], True)
        if key in spec.params:
            return None
        return Sent(key, flag_value, flag_from_line)

    def prefix(*fields: Sent) -> str:
        return where if any(f.from_line for f in fields) else ""

    model = sent("model", spec.model)
    response_format = sent("response_format", spec.response_format)
    if (
        model is not None
        and response_format is not None
        and response_format.value is not None
        and isinstance(model.value, str)
        and is_gpt_image(model.value)
    ):
        raise usage_error(
            f"{prefix(model, response_format)}{response_format.label()} is not accepted by "
            f"{model.value}: GPT image models always answer in base64",
            hint=response_format.escape(),
        )
    fmt = sent("output_format", output_format, format_from_line)
    family = family_of(model.value) if model is not None and isinstance(model.value, str) else None
    # A line's own fields are sent as written, like -p: only the flags' format is the family's.
    flagged = fmt is not None and not fmt.from_line and fmt.value is not None
    why_not = family.refusal("output_format", fmt.value) if family and fmt and flagged else None
    if fmt is not None and family is not None and why_not is not None:
        raise _refused(
            fmt,
            fmt,
            f"{fmt.label()} {fmt.value} is not made by {family.title}, which {why_not}",
            "choose another --format or -o extension",
        )
    count = sent("n", spec.n)
    if fmt is not None and fmt.value == "svg" and count is not None and (count.value or 1) > 1:
        raise usage_error(
            f"{prefix(fmt, count)}an SVG is made one at a time: {count.label()} must be 1",
            hint=count.escape(),
        )
    streamed = spec.partial_images and family is not None and family.streams
    if streamed and fmt is not None and fmt.value in ("gif", "svg"):
        # "SVG and GIF output cannot be streamed" (peers-2026-12.md §0.8)
        raise usage_error(
            f"{prefix(fmt)}--partial-images: {str(fmt.value).upper()} output cannot be streamed "
            "(partial images come as PNG, JPEG or WebP)",
            hint="leave out --partial-images, or choose --format png, jpeg or webp",
        )
    compression = sent("output_compression", spec.output_compression)
    if (
        fmt is not None
        and compression is not None
        and compression.value is not None
        and fmt.value in (None, "png", "gif", "svg")
    ):
        raise _refused(
            fmt,
            compression,
            f"{prefix(fmt, compression)}{compression.label()} applies to jpeg and webp only "
            f"({_asks(fmt)})",
            "add --format jpeg or --format webp",
        )
    for key in ("frame_count", "frame_duration_ms"):  # "GIF output" only (peers-2026-12.md §5)
        frames = sent(key, getattr(spec, key))
        if (
            fmt is not None
            and frames is not None
            and frames.value is not None
            and fmt.value != "gif"
        ):
            raise _refused(
                fmt,
                frames,
                f"{prefix(fmt, frames)}{frames.label()} applies to GIF output only ({_asks(fmt)})",
                "add --format gif or give -o a .gif name",
            )
    background = sent("background", spec.background)
    if (
        fmt is not None
        and background is not None
        and background.value == "transparent"
        and fmt.value == "jpeg"
    ):
        raise _refused(
            fmt,
            background,
            f"{prefix(fmt, background)}{background.label()} transparent needs png or webp: "
            "jpeg has no transparency",
            "use --format png or webp",
        )


def _refused(fmt: Sent, field: Sent, message: str, fix: str) -> DeerimgError:
    """MESSAGE, hinting FIELD's -p escape, after FIX (a flag to change) when flags chose FMT."""
    escape = field.escape()
    return usage_error(message, hint=escape if fmt.from_line else f"{fix}, or {escape}")


def _asks(fmt: Sent) -> str:
    """What format FMT asks for, as a refusal says it."""
    return "png is the default format" if fmt.value is None else f"this asks for {fmt.value}"


def check_files(fields: Sequence[str], model: str, fmt: str | None, where: str = "") -> None:
    """Refuse an edit's files the API is known to reject (peers-2026-12.md §5): a markup with a
    mask, a markup for a family that takes none, a mask with GIF output. FIELDS are the multipart
    file fields one job sends, FMT the format it finally asks for; WHERE leads the message."""
    if "markup" in fields and "mask" in fields:
        raise usage_error(
            f"{where}a markup cannot be combined with a mask: the API takes one or the other",
            hint="give --markup or --mask, not both",
        )
    if "markup" in fields and not family_of(model).takes_field("markup"):
        raise request.not_taken("markup", f"{where}--markup", model, hint="edit without it")
    if "mask" in fields and fmt == "gif":
        raise usage_error(
            f"{where}GIF output takes no mask",
            hint="edit without --mask, or ask for another format (--format png)",
        )
