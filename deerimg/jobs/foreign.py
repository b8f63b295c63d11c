"""Bodies that are not OpenAI's (Gemini, the task APIs): flags they have no field for, -p paths.

A flag of the images endpoints that such a route has no field for is not sent, and said once
(not refused: the config's quality or format should not stop a run on another family). -p KEY=VALUE
keys are dotted paths into the body (-p imageConfig.aspectRatio=2:3), under the route's own
default object where the key is not one of the body's own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from deerimg.families import Family
from deerimg.jobs.request import RequestSpec
from deerimg.sizes import parse_aspect

# The flags of the images endpoints, by RequestSpec field.
FLAGS = {
    "quality": "-q/--quality",
    "output_compression": "--compression",
    "background": "--background",
    "moderation": "--moderation",
    "style": "--style",
    "response_format": "--response-format",
    "user": "--user",
    "input_fidelity": "--input-fidelity",
}


def unsent(spec: RequestSpec, family: Family, taken: Collection[str] = ()) -> list[str]:
    """A note for each flag given that FAMILY's route has no field for (TAKEN: those it has)."""
    notes = [
        f"{family.title} has no field for {flag}: not sent"
        for name, flag in FLAGS.items()
        if name not in taken and getattr(spec, name) is not None and name not in spec.params
    ]
    if "output_format" not in taken and spec.output_format is not None and spec.format_from_flag:
        notes.append(f"{family.title} picks its own image type: --format not sent")
    return notes


def merge_params(
    body: dict[str, Any],
    pairs: Mapping[str, Any],
    root_keys: Collection[str],
    under: str | None,
    skip: Collection[str] = ("model", "n"),
) -> None:
    """Each -p (or prompt-file line) KEY=VALUE into BODY: by dotted path from the body's root
    when its first part is one of ROOT_KEYS (or UNDER is None), else under UNDER."""
    for key, value in pairs.items():
        if key in skip:
            continue  # the model and the number of requests are no body fields here
        root = under is None or key.split(".")[0] in root_keys
        merge(body, key if root else f"{under}.{key}", value)


def merge(body: dict[str, Any], path: str, value: Any) -> None:
    """Set VALUE at the dotted PATH of BODY, making (or merging into) the objects on the way."""
    *parents, last = path.split(".")
    node = body
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    if isinstance(value, dict) and isinstance(node.get(last), dict):
        node[last] = {**node[last], **value}
    else:
        node[last] = value


def nearest_ratio(width: int, height: int, ratios: Collection[str]) -> str | None:
    """The ratio of RATIOS nearest to WIDTH:HEIGHT (None when there are none)."""
    return min(ratios, key=lambda r: abs(ratio_value(r) - width / height), default=None)


def ratio_value(ratio: str) -> float:
    shape = parse_aspect(ratio)
    return shape[0] / shape[1] if shape else 1.0
