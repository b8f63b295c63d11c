"""The combinations of fields the API is known to refuse, checked on what each job sends."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deerimg.errors import usage_error
from deerimg.families import family_of
from deerimg.jobs.request import RequestSpec
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
        text = self.value if isinstance(self.value, str) else json.dumps(self.value)
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
        hint = fmt.escape()
        if not fmt.from_line:
            hint = f"choose another --format or -o extension, or {hint}"
        raise usage_error(
            f"{fmt.label()} {fmt.value} is not made by {family.title}, which {why_not}",
            hint=hint,
        )
    count = sent("n", spec.n)
    if fmt is not None and fmt.value == "svg" and count is not None and (count.value or 1) > 1:
        raise usage_error(
            f"{prefix(fmt, count)}an SVG is made one at a time: {count.label()} must be 1",
            hint=count.escape(),
        )
    compression = sent("output_compression", spec.output_compression)
    if (
        fmt is not None
        and compression is not None
        and compression.value is not None
        and fmt.value in (None, "png", "gif", "svg")
    ):
        why = "png is the default format" if fmt.value is None else f"this asks for {fmt.value}"
        hint = compression.escape()
        if not fmt.from_line:
            hint = f"add --format jpeg or --format webp, or {hint}"
        raise usage_error(
            f"{prefix(fmt, compression)}{compression.label()} applies to jpeg and webp only "
            f"({why})",
            hint=hint,
        )
    background = sent("background", spec.background)
    if (
        fmt is not None
        and background is not None
        and background.value == "transparent"
        and fmt.value == "jpeg"
    ):
        hint = background.escape()
        if not fmt.from_line:
            hint = f"use --format png or webp, or {hint}"
        raise usage_error(
            f"{prefix(fmt, background)}{background.label()} transparent needs png or webp: "
            "jpeg has no transparency",
            hint=hint,
        )
