"""The body of a Gemini image request (generateContent) from deerimg's flags; pure.

Built from DeerAPI's Gemini page (https://apidoc.deerapi.com/api/image/gemini/generate-image) as
research/model-families.md §2.2 quotes it: `contents` with the prompt's text part (reference
images join it as inline_data parts when the request is made: wire/gemini.py),
`generationConfig.responseModalities: ["IMAGE"]` (so the model does not answer with text alone),
and `generationConfig.imageConfig` with `aspectRatio` from --aspect (or the ratio nearest -s WxH)
and `imageSize` from --resolution or -s 1K (upper-case K; none on gemini-2.5-flash-image).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deerimg.errors import usage_error
from deerimg.families import Family
from deerimg.jobs import foreign
from deerimg.jobs.request import RequestSpec
from deerimg.sizes import WXH

# Keys of the body itself; any other -p key (or prompt-file field) goes under generationConfig,
# so -p imageConfig.aspectRatio=2:3 and -p temperature=0.4 land where Google reads them.
ROOT_KEYS = frozenset({
    "contents", "generationConfig", "tools", "toolConfig", "safetySettings",
    "systemInstruction", "cachedContent", "labels",
})  # fmt: skip


def gemini_body(
    spec: RequestSpec, family: Family, prompt: str, overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The request body (with "model", which the URL carries), and notes on what was mapped or
    left out. OVERRIDES are a prompt-file line's fields, merged after -p like -p."""
    notes = foreign.unsent(spec, family)
    image_config: dict[str, Any] = {}
    ratio, size = _from_size(spec, family, notes)
    if spec.aspect is not None and spec.size is None:
        ratio = spec.aspect.strip()
        _check(family, "aspectRatio", ratio, "--aspect")
    if spec.resolution is not None and spec.size is None:
        size = spec.resolution
        _check(family, "imageSize", size, "--resolution")
    if ratio is not None:
        image_config["aspectRatio"] = ratio
    if size is not None:
        image_config["imageSize"] = size
    config: dict[str, Any] = {"responseModalities": ["IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    body: dict[str, Any] = {
        "model": spec.model,
        "contents": [{"role": "user", "parts": [{"text": prompt}]}],
        "generationConfig": config,
    }
    foreign.merge_params(body, {**spec.params, **overrides}, ROOT_KEYS, "generationConfig")
    return body, notes


def _from_size(
    spec: RequestSpec, family: Family, notes: list[str]
) -> tuple[str | None, str | None]:
    """-s: a tier is the image size; WxH is sent as the listed ratio nearest to it, said."""
    if spec.size is None or spec.size == "auto" or "size" in spec.params:
        return None, None
    if any(key.endswith("aspectRatio") for key in spec.params):
        return None, None  # -p imageConfig.aspectRatio=… says the shape
    match = WXH.match(spec.size)
    if match is None:
        _check(family, "imageSize", spec.size, "-s")
        return None, spec.size
    width, height = int(match.group(1)), int(match.group(2))
    nearest = foreign.nearest_ratio(width, height, family.values.get("aspectRatio", ()))
    if nearest is not None:
        notes.append(f"{family.title} takes aspect ratios, not sizes: -s {spec.size} sent as "
                     f"aspectRatio {nearest}")  # fmt: skip
    return nearest, None


def _check(family: Family, field: str, value: str, flag: str) -> None:
    allowed = family.values.get(field)
    if allowed is None or value in allowed:
        return
    if not allowed:
        raise usage_error(
            f"{family.title} makes images of about 1024 px and takes no {flag} {value}",
            hint="leave it out, or choose gemini-3.1-flash-image-preview for 512px to 4K",
        )
    key = "aspectRatio" if field == "aspectRatio" else "imageSize"
    raise usage_error(
        f"invalid value for {flag}: {value!r} ({family.title} takes {', '.join(allowed)})",
        hint=f"to send it anyway, use -p imageConfig.{key}={value}",
    )
