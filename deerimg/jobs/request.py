"""Flags + a job → the JSON body: value checks, -p KEY=VALUE, format from the extension; pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deerimg.errors import usage_error
from deerimg.families import family_of
from deerimg.imaging.formats import format_of_name
from deerimg.values import FLAG_OF, SIZE_RE, VALUE_SETS, check_finite, is_gpt_image


def parse_param(text: str) -> tuple[str, Any]:
    """-p KEY=VALUE: VALUE is JSON when it parses, else the string itself."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise usage_error(
            f"invalid --param {text!r}: expected KEY=VALUE", hint="for example -p seed=42"
        )
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    except RecursionError:  # [[[[… thousands deep: JSON, but no API field is
        raise usage_error(f"invalid --param {text[:40]!r}…: nested too deeply") from None
    check_finite(value, key, f"invalid --param {text!r}")
    if value is None:
        raise usage_error(f"invalid --param {text!r}: null is never sent (omit the field instead)")
    return key, value


@dataclass(slots=True)
class RequestSpec:
    """The request flags of `generate`, as given (None: not given, not sent)."""

    model: str
    n: int | None = None
    size: str | None = None
    quality: str | None = None
    output_format: str | None = None  # from --format or the config's format
    format_from_flag: bool = False
    output_compression: int | None = None
    background: str | None = None
    moderation: str | None = None
    style: str | None = None
    response_format: str | None = None
    user: str | None = None
    input_fidelity: str | None = None  # edit only
    params: Mapping[str, Any] = field(default_factory=dict)


def check_value(name: str, value: Any) -> None:
    allowed = VALUE_SETS.get(name)
    if allowed is not None and value not in allowed:
        raise usage_error(
            f"invalid value for {FLAG_OF[name]}: {value!r} (allowed: {', '.join(allowed)})",
            hint=f"to send it anyway, use -p {name}={value}",
        )


def check_spec(spec: RequestSpec) -> None:
    """Refuse bad flag values before any request: first their shape, then what the model's family
    takes (families.py); combinations are checked per job (check_job)."""
    if not spec.model.strip():
        raise usage_error(
            f"invalid value for --model: {spec.model!r}: every request names a model",
            hint="for example -m gpt-image-2; deerimg models lists them",
        )
    for name in ("quality", "output_format", "background", "moderation", "style", "input_fidelity"):
        value = getattr(spec, name)
        if value is not None:
            check_value(name, value)
    if spec.response_format is not None:
        check_value("response_format", spec.response_format)
    if spec.size is not None and not SIZE_RE.match(spec.size):
        raise usage_error(
            f"invalid value for --size: {spec.size!r} (expected WxH, such as 1024x1536, a tier "
            "such as 2K, or auto)",
            hint=f"to send it anyway, use -p size={spec.size}",
        )
    family = family_of(spec.model)
    for name in ("size", "quality", "output_format", "style"):
        value = getattr(spec, name)
        why = None if value is None or name in spec.params else family.refusal(name, value)
        if why is not None:
            raise usage_error(
                f"invalid value for {FLAG_OF[name]}: {value!r} ({family.title} {why})",
                hint=f"to send it anyway, use -p {name}={value}",
            )
    if spec.n is not None and not 1 <= spec.n <= 10:
        raise usage_error(f"invalid value for --count: {spec.n} (allowed: 1 to 10)")
    if spec.output_compression is not None and not 0 <= spec.output_compression <= 100:
        raise usage_error(
            f"invalid value for --compression: {spec.output_compression} (allowed: 0 to 100)"
        )


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


def effective_format(spec: RequestSpec, output_name: str | None) -> str | None:
    """--format, else the -o extension (for models that take output_format), else the config's."""
    if spec.format_from_flag:
        return spec.output_format
    from_name = format_of_name(output_name) if output_name and output_name != "-" else None
    if from_name and is_gpt_image(spec.model):
        return from_name
    return spec.output_format


def build_body(
    spec: RequestSpec,
    prompt: str,
    output_format: str | None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body: only fields the user asked for, numbers as numbers, no nulls; -n as the
    model's family takes it, and the family's defaults where the user set nothing."""
    family = family_of(spec.model)
    body: dict[str, Any] = {"model": spec.model, "prompt": prompt}
    fields = {
        "n": spec.n,
        "size": spec.size,
        "quality": spec.quality,
        "output_format": output_format,
        "output_compression": spec.output_compression,
        "background": spec.background,
        "moderation": spec.moderation,
        "style": spec.style,
        "response_format": spec.response_format,
        "user": spec.user,
        "input_fidelity": spec.input_fidelity,
    }
    body.update({key: value for key, value in fields.items() if value is not None})
    if family.count == "max_images" and "n" in body:
        body = with_count(body, body.pop("n"), family.count)
    body.update(family.defaults)
    body.update(spec.params)
    if overrides:
        body.update({key: value for key, value in overrides.items() if value is not None})
    return body


GROUP = "sequential_image_generation"  # Seedream's group mode: up to max_images images


def count_of(body: Mapping[str, Any]) -> Any:
    """How many images BODY asks for: n, or Seedream's max_images in group mode; 1 by default."""
    if body.get(GROUP) == "auto":
        options = body.get(f"{GROUP}_options")
        return options.get("max_images", 1) if isinstance(options, dict) else 1
    return body.get("n", 1)


def with_count(body: Mapping[str, Any], count: int, how: str | None = None) -> dict[str, Any]:
    """BODY asking for COUNT images, the way it asks already (n, or group mode), or HOW."""
    how = how or ("max_images" if body.get(GROUP) == "auto" else "n")
    if how != "max_images":
        return {**body, "n": count}
    if count == 1:  # one image: no group mode, as Seedream's own default
        return {key: value for key, value in body.items() if key not in (GROUP, f"{GROUP}_options")}
    options = body.get(f"{GROUP}_options")
    options = {**options} if isinstance(options, dict) else {}
    return {**body, GROUP: "auto", f"{GROUP}_options": {**options, "max_images": count}}
