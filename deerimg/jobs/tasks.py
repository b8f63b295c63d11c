"""The submit body of a task API (FLUX, Replicate, Midjourney, Kling) from deerimg's flags; pure.

Built from DeerAPI's pages as research/model-families.md quotes them:
- FLUX (§2.4, `POST /flux/v1/{model}`): `prompt`, `width`/`height` (multiples of 32) or, on
  Kontext and Ultra, `aspect_ratio` from 21:9 to 9:21; `output_format` jpeg|png; `seed`,
  `safety_tolerance`, `prompt_upsampling` through -p.
- Replicate (§2.4, §2.13, `POST /replicate/v1/models/{owner}/{name}/predictions`): everything in
  `input{…}`: `prompt`, `aspect_ratio`, `width`/`height`, `output_format`, and -p keys.
- Midjourney (§2.8, `POST /mj/submit/imagine`): `prompt` with ` --ar W:H` appended for --aspect,
  `botType` MID_JOURNEY or NIJI_JOURNEY; -p keys (accountFilter, …) as they are.
- Kling (§2.9, `POST /kling/v1/images/generations`): `model_name`, `prompt`, `aspect_ratio` (16:9,
  9:16, 1:1, 4:3, 3:4, 3:2, 2:3, 21:9), `resolution` 1k|2k, `n` 1-9.
Reference images join these bodies where jobs/references.py places them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from deerimg.errors import usage_error
from deerimg.families import Family
from deerimg.jobs import foreign
from deerimg.jobs.request import RequestSpec
from deerimg.sizes import WXH, parse_aspect, size_for

FLUX_RATIOS = (21 / 9, 9 / 21)  # Kontext's aspect_ratio: from 21:9 to 9:21


def task_body(
    spec: RequestSpec, family: Family, prompt: str, overrides: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The submit body (with "model": deerimg's records keep it), and notes on what was mapped
    or left out. OVERRIDES are a prompt-file line's fields, merged after -p like -p."""
    taken = ("output_format",) if family.route in ("flux", "replicate") else ()
    notes = foreign.unsent(spec, family, taken)
    pairs = {**spec.params, **overrides}
    if family.route == "midjourney":
        return _midjourney(spec, family, prompt, pairs, notes), notes
    if family.route == "kling":
        return _kling(spec, family, prompt, pairs, notes), notes
    fields: dict[str, Any] = {"prompt": prompt}
    fields.update(_shape(spec, family, notes))
    if spec.output_format is not None:
        fields["output_format"] = {"jpg": "jpeg"}.get(spec.output_format, spec.output_format)
    if family.route == "replicate":
        body: dict[str, Any] = {"model": spec.model, "input": fields}
        foreign.merge_params(body, pairs, ("input", "webhook", "webhook_events_filter"), "input")
        return body, notes
    body = {"model": spec.model, **fields}
    foreign.merge_params(body, pairs, (), None)
    return body, notes


def actions_of(upscale: str | None, family: Family) -> tuple[str, ...]:
    """--upscale 1|2|3|4|all (or a list: 1,3) as Midjourney's button labels, U1…U4."""
    if upscale is None:
        return ()
    if family.route != "midjourney":
        raise usage_error(
            f"--upscale is Midjourney's: {family.title} makes its images without a grid"
        )
    words = ["1", "2", "3", "4"] if upscale.strip().lower() == "all" else upscale.split(",")
    if not words or any(word.strip() not in ("1", "2", "3", "4") for word in words):
        raise usage_error(
            f"invalid value for --upscale: {upscale!r} (1, 2, 3, 4, a list such as 1,3, or all)"
        )
    return tuple(dict.fromkeys(f"U{word.strip()}" for word in words))


def _shape(spec: RequestSpec, family: Family, notes: list[str]) -> dict[str, Any]:
    """FLUX's and Replicate's shape fields: aspect_ratio where the model takes one, else width
    and height (on FLUX's grid of 32 for --aspect and --resolution)."""
    if "size" in spec.params:
        return {}
    if spec.size is not None and spec.size != "auto":
        match = WXH.match(spec.size)
        if match is None:
            return {}
        return {"width": int(match.group(1)), "height": int(match.group(2))}
    takes_ratio = family.route == "replicate" or "kontext" in spec.model or "ultra" in spec.model
    if spec.aspect is not None and takes_ratio:
        ratio = parse_aspect(spec.aspect)
        if (
            ratio
            and family.route == "flux"
            and not FLUX_RATIOS[1] <= _value(ratio) <= FLUX_RATIOS[0]
        ):
            raise usage_error(
                f"invalid value for --aspect: {spec.aspect!r} ({family.title} takes 21:9 to 9:21)",
                hint=f"to send it anyway, use -p aspect_ratio={spec.aspect}",
            )
        if spec.resolution is not None:
            notes.append(f"{family.title} sizes its own images: --resolution not sent")
        return {"aspect_ratio": spec.aspect.strip()}
    if spec.aspect is None and spec.resolution is None:
        return {}
    if takes_ratio:  # --resolution alone
        notes.append(f"{family.title} sizes its own images: --resolution not sent")
        return {}
    size = size_for(family.sizes, parse_aspect(spec.aspect or "1:1"), spec.resolution)
    if size is None:
        return {}
    width, _, height = size.partition("x")
    return {"width": int(width), "height": int(height)}


def _midjourney(
    spec: RequestSpec, family: Family, prompt: str, pairs: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    ratio = None
    if spec.size is not None and (match := WXH.match(spec.size)):
        width, height = int(match.group(1)), int(match.group(2))
        divisor = math.gcd(width, height)
        ratio = f"{width // divisor}:{height // divisor}"
        notes.append(f"{family.title} takes an aspect ratio: -s {spec.size} sent as --ar {ratio}")
    elif spec.aspect is not None:
        ratio = spec.aspect.strip()
    if spec.resolution is not None:
        notes.append(f"{family.title} sizes its own images: --resolution not sent")
    if ratio is not None and "--ar " not in prompt and "--aspect " not in prompt:
        prompt = f"{prompt} --ar {ratio}"
    bot = "NIJI_JOURNEY" if "niji" in spec.model.lower() else "MID_JOURNEY"
    body: dict[str, Any] = {"model": spec.model, "prompt": prompt, "botType": bot}
    foreign.merge_params(body, pairs, (), None)
    return body


def _kling(
    spec: RequestSpec, family: Family, prompt: str, pairs: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": spec.model, "model_name": spec.model, "prompt": prompt}
    ratios = family.values.get("aspect_ratio", ())
    if spec.size is not None and (match := WXH.match(spec.size)):
        nearest = foreign.nearest_ratio(int(match.group(1)), int(match.group(2)), ratios)
        notes.append(f"{family.title} takes aspect ratios: -s {spec.size} sent as {nearest}")
        body["aspect_ratio"] = nearest
    elif spec.aspect is not None:
        if spec.aspect.strip() not in ratios:
            raise usage_error(
                f"invalid value for --aspect: {spec.aspect!r} ({family.title} takes "
                f"{', '.join(ratios)})",
                hint=f"to send it anyway, use -p aspect_ratio={spec.aspect}",
            )
        body["aspect_ratio"] = spec.aspect.strip()
    if spec.resolution is not None:
        if spec.resolution not in ("1K", "2K"):
            raise usage_error(
                f"invalid value for --resolution: {spec.resolution!r} ({family.title} takes 1K, 2K)"
            )
        body["resolution"] = spec.resolution.lower()
    if spec.n is not None:
        body["n"] = spec.n
    foreign.merge_params(body, pairs, (), None, skip=("model",))
    return body


def _value(ratio: tuple[int, int]) -> float:
    return ratio[0] / ratio[1]
