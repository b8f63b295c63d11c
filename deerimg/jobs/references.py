"""Reference images (-i, or edit's images) placed the way each model's family takes them; pure.

Two ways, from the family table (families.Family.references_as):
- "edits": files on POST /v1/images/edits, multipart (GPT image, SeedEdit, any model deerimg
  does not know: OpenAI's own shape);
- "inline": the JSON `image` of POST /v1/images/generations, each file as a data URL made when
  the request is sent (wire/payload.py), each URL given as it is (Seedream 4.0 and later:
  research/model-families.md §2.1, DeerAPI's Seedream page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deerimg.errors import usage_error
from deerimg.families import Family
from deerimg.imaging.inputs import InputImage, check_image
from deerimg.jobs import foreign
from deerimg.routes import TASK_ROUTES, Endpoint

URL_RE = re.compile(r"(?i)(https?://\S|data:image/)")
Files = tuple[tuple[str, InputImage], ...]  # multipart field name (or inline key), file


def is_url(text: str) -> bool:
    """An http(s) address or a data URL: passed on as it is, never opened as a file."""
    return URL_RE.match(text) is not None


@dataclass(slots=True)
class References:
    """The reference images of one request: local files, and URLs passed on as given."""

    files: tuple[InputImage, ...] = ()
    urls: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.files) + len(self.urls)


def check_references(given: Sequence[str], role: str = "reference image") -> References:
    """Each -i value: a URL as it is, else a file that must be a PNG, JPEG or WebP image."""
    urls = tuple(text for text in given if is_url(text))
    files = tuple(check_image(text, role) for text in given if not is_url(text))
    return References(files, urls)


@dataclass(slots=True)
class Placed:
    """Where a request with references goes, what it uploads, and its body."""

    endpoint: Endpoint
    files: Files
    body: dict[str, Any]
    notes: tuple[str, ...] = ()


def place(
    family: Family,
    refs: References,
    overlays: Mapping[str, InputImage],
    body: Mapping[str, Any],
    count: int,
) -> Placed:
    """BODY with REFS (and OVERLAYS: an edit's mask and markup, by role) as FAMILY takes them;
    refused before anything is paid for."""
    route = family.route if family.route != "images" else "generations"
    if not refs:
        return Placed(route, (), dict(body))  # type: ignore[arg-type]
    taken = family.references
    if family.route == "replicate" and "kontext" not in str(body.get("model")):
        taken = 1  # `image`: one; Kontext takes input_image and input_image_2..4
    if taken == 0:
        raise usage_error(
            f"{family.title} takes no reference images ({body.get('model')})",
            hint="choose a model that does, such as gpt-image-2 or doubao-seedream-4-5-251128",
        )
    if len(refs) > taken:
        raise usage_error(
            f"{family.title} takes at most {taken} reference image{'s' * (taken > 1)}, "
            f"not {len(refs)}"
        )
    if family.references_as != "edits" and overlays:
        role = next(iter(overlays))
        raise usage_error(
            f"{family.title} takes no {role}: it changes what the prompt says, not a region",
            hint=f"leave out --{role}, and say in the prompt what to change",
        )
    if family.route == "gemini":
        return _gemini(family, refs, body)
    if family.route in TASK_ROUTES:
        return _task(family, refs, body)
    if family.references_as == "inline":
        return _inline(family, refs, body, count)
    if refs.urls:
        raise usage_error(
            f"{family.title} takes reference images as files (an edit), not as URLs: "
            f"{_short(refs.urls[0])}",
            hint="download it and give the file instead",
        )
    field = "image[]" if len(refs.files) > 1 else "image"
    files: Files = tuple((field, image) for image in refs.files)
    files += tuple(overlays.items())
    return Placed("edits", files, dict(body))


def _inline(family: Family, refs: References, body: Mapping[str, Any], count: int) -> Placed:
    """Seedream's way: URLs in `image` now, files as data URLs when the request is made."""
    most = family.max_with_outputs
    if most is not None and len(refs) + count > most:
        raise usage_error(
            f"{family.title} makes at most {most} images with its references together: "
            f"{len(refs)} reference image(s) + {count} asked for",
            hint=f"ask for at most {most - len(refs)} (-n), or give fewer references",
        )
    placed = dict(body)
    if refs.urls:  # the files join them as data URLs when the request is made
        placed["image"] = refs.urls[0] if len(refs.urls) == 1 and not refs.files else [*refs.urls]
    return Placed("generations", tuple(("image", image) for image in refs.files), placed)


def _gemini(family: Family, refs: References, body: Mapping[str, Any]) -> Placed:
    """Gemini's way: each file an inline_data part beside the prompt (added when sent)."""
    if refs.urls:
        raise usage_error(
            f"{family.title} takes reference images as files, not URLs: {_short(refs.urls[0])}",
            hint="download it and give the file instead",
        )
    advised = family.references_advised
    notes: tuple[str, ...] = ()
    if advised is not None and len(refs) > advised:
        notes = (f"{family.title} works best with at most {advised} reference images; "
                 f"{len(refs)} are sent",)  # fmt: skip
    files = tuple(("inline_data", image) for image in refs.files)
    return Placed("gemini", files, dict(body), notes)


def _task(family: Family, refs: References, body: Mapping[str, Any]) -> Placed:
    """A task API's way: each reference in its slot (a dotted path; "[]" adds to a list), a URL
    now, a file when the request is made (base64, or a data URL: wire/tasks.py)."""
    model = str(body.get("model"))
    slots = {
        "flux": ["input_image", *(f"input_image_{k}" for k in range(2, 5))],
        "replicate": ["input.input_image", *(f"input.input_image_{k}" for k in range(2, 5))]
        if "kontext" in model
        else ["input.image"],
        "midjourney": ["base64Array[]"] * family.references,
        "kling": ["image"],
    }[family.route]
    placed = dict(body)
    urls = list(refs.urls)
    if family.route == "midjourney" and urls:  # image prompts: links at the prompt's start
        placed["prompt"] = " ".join([*urls, str(placed.get("prompt", ""))])
        urls = []
    for slot, url in zip(slots, urls, strict=False):
        foreign.merge(placed, slot, url)
    files = tuple(zip(slots[len(urls) :], refs.files, strict=False))
    return Placed(family.route, files, placed)  # type: ignore[arg-type]


def _short(url: str) -> str:
    """A URL for a message: a data URL's bytes or a long signature would fill the screen."""
    return url if len(url) <= 80 else f"{url[:60]}…"
