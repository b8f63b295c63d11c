"""Flags + a job → the JSON body: value checks, -p KEY=VALUE, format from the extension; pure."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deerimg.errors import DeerimgError, usage_error
from deerimg.families import GENERIC, family_of
from deerimg.imaging.formats import format_of_name
from deerimg.sizes import parse_aspect, size_for
from deerimg.values import (
    FLAG_OF,
    FRAME_COUNT,
    SIZE_RE,
    VALUE_SETS,
    check_finite,
    is_gpt_image,
)


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
    complexity: str | None = None
    frame_count: int | None = None  # GIF output only
    frame_duration_ms: int | None = None  # GIF output only
    watermark: bool | None = None  # --watermark: True; not given: the family's default
    upscale: str | None = None  # --upscale 1|2|3|4|all: Midjourney's U buttons on its grid
    style: str | None = None
    response_format: str | None = None
    user: str | None = None
    input_fidelity: str | None = None  # edit only
    params: Mapping[str, Any] = field(default_factory=dict)
    aspect: str | None = None  # --aspect W:H, made a size the model's family takes
    resolution: str | None = None  # --resolution 1K..4K, likewise
    partial_images: int | None = None  # --partial-images 1-3: streamed, where the family can


def shaped_size(spec: RequestSpec, model: str | None = None) -> str | None:
    """The size MODEL (the spec's by default) is sent: -s as given, else what --aspect and
    --resolution make of it in the model's family (families.size_for)."""
    if spec.size is not None or (spec.aspect is None and spec.resolution is None):
        return spec.size
    family = family_of(model or spec.model)
    aspect = parse_aspect(spec.aspect) if spec.aspect is not None else None
    size = size_for(family.sizes, aspect, spec.resolution, generic=family is GENERIC)
    if size is None:
        flags = (("--aspect", spec.aspect), ("--resolution", spec.resolution))
        asked = " ".join(f"{flag} {value}" for flag, value in flags if value)
        raise usage_error(
            f"{family.title} takes no size for {asked}: it {family.sizes.refusal('?')}",
            hint="choose another --aspect, or give -s WxH (or -p size=… to send it anyway)",
        )
    return size


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
    for name in (
        "quality", "output_format", "background", "moderation", "style", "input_fidelity",
        "complexity",
    ):  # fmt: skip
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
    if spec.aspect is not None and parse_aspect(spec.aspect) is None:
        raise usage_error(
            f"invalid value for --aspect: {spec.aspect!r} (expected W:H, such as 16:9)"
        )
    if spec.resolution is not None:
        check_value("resolution", spec.resolution)
    family = family_of(spec.model)
    for name in (
        "size", "quality", "output_format", "style", "complexity", "watermark", "frame_count",
        "frame_duration_ms",
    ):  # fmt: skip
        value = getattr(spec, name)
        why = None if value is None or name in spec.params else family.refusal(name, value)
        hint = f"to send it anyway, use -p {name}={as_param(value)}"
        if why is not None and not family.takes_field(name):
            raise not_taken(name, FLAG_OF[name], spec.model, hint)
        if why is not None:
            raise usage_error(
                f"invalid value for {FLAG_OF[name]}: {value!r} ({family.title} {why})", hint=hint
            )
    low, high = FRAME_COUNT
    if spec.frame_count is not None and not low <= spec.frame_count <= high:
        raise usage_error(
            f"invalid value for --frames: {spec.frame_count} (allowed: {low} to {high})"
        )
    if spec.frame_duration_ms is not None and spec.frame_duration_ms < 1:
        raise usage_error(
            f"invalid value for --frame-duration: {spec.frame_duration_ms} (allowed: 1 ms or more)"
        )
    if spec.partial_images is not None and not 0 <= spec.partial_images <= MAX_PARTIALS:
        raise usage_error(
            f"invalid value for --partial-images: {spec.partial_images} (allowed: 1 to "
            f"{MAX_PARTIALS}, or 0 for none)"
        )
    if spec.n is not None and not 1 <= spec.n <= 10:
        raise usage_error(f"invalid value for --count: {spec.n} (allowed: 1 to 10)")
    if spec.output_compression is not None and not 0 <= spec.output_compression <= 100:
        raise usage_error(
            f"invalid value for --compression: {spec.output_compression} (allowed: 0 to 100)"
        )


def not_taken(name: str, label: str, model: str, hint: str | None = None) -> DeerimgError:
    """Field NAME, given as LABEL (a flag, a line's "name"), is one MODEL's family never takes."""
    family = family_of(model)
    return usage_error(
        f"{label} is not for {model}: {family.title} {family.refusal(name, None)}", hint=hint
    )


def as_param(value: Any) -> str:
    """VALUE as -p reads it back: a string as it is, anything else as JSON (true, 4)."""
    return value if isinstance(value, str) else json.dumps(value)


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
        "size": shaped_size(spec),
        "quality": spec.quality,
        "output_format": output_format,
        "output_compression": spec.output_compression,
        "background": spec.background,
        "moderation": spec.moderation,
        "complexity": spec.complexity,
        "frame_count": spec.frame_count,
        "frame_duration_ms": spec.frame_duration_ms,
        "watermark": spec.watermark,
        "style": spec.style,
        "response_format": spec.response_format,
        "user": spec.user,
        "input_fidelity": spec.input_fidelity,
    }
    # A flag's field under the family's own name: --user is GPT image's safety_identifier.
    body.update({family.renames.get(k, k): v for k, v in fields.items() if v is not None})
    if streams(spec, spec.model):  # each partial an event, then the final image (streaming.py)
        body.update(stream=True, partial_images=spec.partial_images)
    if family.count == "max_images" and "n" in body:
        body = with_count(body, body.pop("n"), family.count)
    for key, value in family.defaults.items():  # --watermark beats Seedream's watermark false
        body.setdefault(key, value)
    body.update(spec.params)
    if overrides:
        body.update({key: value for key, value in overrides.items() if value is not None})
    return body


MAX_PARTIALS = 3  # OpenAI's partial_images: 0 to 3


def streams(spec: RequestSpec, model: str) -> bool:
    """Whether MODEL's requests are streamed: --partial-images asked, and its family streams."""
    return bool(spec.partial_images) and family_of(model).streams


GROUP = "sequential_image_generation"  # Seedream's group mode: up to max_images images


def count_of(body: Mapping[str, Any]) -> Any:
    """How many images BODY asks for: n, or Seedream's max_images in group mode; 1 by default."""
    if body.get(GROUP) == "auto":
        options = body.get(f"{GROUP}_options")
        return options.get("max_images", 1) if isinstance(options, dict) else 1
    return body.get("n", 1)


def asks_up_to(body: Mapping[str, Any]) -> bool:
    """BODY asks for up to a count (group mode), so fewer images are an answer, not a failure."""
    return body.get(GROUP) == "auto"


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
