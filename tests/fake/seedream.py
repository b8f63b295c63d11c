"""Seedream as DeerAPI serves it on ``POST /v1/images/generations``: its sizes, group mode, answers.

Built from DeerAPI's Seedream page (https://apidoc.deerapi.com/api/image/doubao/seedream) and the
Volcengine Ark field table relayed in research/model-families.md §2.1:
- ``size`` is a tier or ``WxH``, never both: 3.0 takes WxH of 512-2048 a side; 4.0 the tiers 1K, 2K,
  4K; 4.5 2K and 4K; 5.0 2K and 3K (4K per some relays: accepted); WxH from 4.0 on inside a pixel
  range (4.0: 1280x720 to 4096x4096; 4.5 and 5.0: 2560x1440 to 4096x4096), ratio 1:16 to 16:1.
- No ``n``: ``sequential_image_generation: "auto"`` with ``sequential_image_generation_options.
  max_images`` 1-15 makes up to that many images (3.0: one).
- ``response_format`` ``url`` (a link that lives 24 h; upstream's default) or ``b64_json``;
  ``output_format`` jpeg, or png on 5.0 only; ``watermark`` a boolean.
- ``image``: a string or a list of strings, each an http(s) URL or ``data:image/<fmt>;base64,…``
  (lower-case format), up to 14 (4.0 and later; 3.0 text-to-image takes none), with references +
  images asked for at most 15 (the DeerAPI Seedream page, quoted in §2.1: "参考图 + 生成图 ≤ 15").
- The answer: ``data[].url``/``b64_json`` with ``data[].size``, and ``usage`` of
  ``generated_images``, ``output_tokens``, ``total_tokens`` (no input tokens).
Errors are Ark's 400 ``InvalidParameter`` objects, relayed as OpenAI-style error bodies.
"""

from __future__ import annotations

import re
from typing import Any

PATTERN = re.compile(r"(doubao-)?seedream-(\d)-(\d)")
TIERS = {
    "3.0": (),
    "4.0": ("1K", "2K", "4K"),
    "4.5": ("2K", "4K"),
    "5.0": ("2K", "3K", "4K"),
}
MIN_PIXELS = {"4.0": 1280 * 720, "4.5": 2560 * 1440, "5.0": 2560 * 1440}
TIER_SIDE = {"1K": 1024, "2K": 2048, "3K": 3072, "4K": 4096}
WXH = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")


class Invalid(Exception):
    """A value Seedream refuses: its message and the parameter."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def version(model: str) -> str | None:
    """4.5 for doubao-seedream-4-5-251128; None for a model that is no Seedream."""
    match = PATTERN.match(model.lower())
    return f"{match.group(2)}.{match.group(3)}" if match else None


def size_of(body: dict[str, Any], ver: str) -> tuple[str, int, int]:
    """The size asked for, and its pixels; Invalid for one this version does not take."""
    size = body.get("size") or ("1024x1024" if ver == "3.0" else "2K")
    if not isinstance(size, str):
        raise Invalid("The parameter `size` specified in the request is not valid.", "size")
    if size in TIER_SIDE:
        if size not in TIERS.get(ver, ()):
            raise Invalid(f"The parameter `size` {size} is not supported by this model.", "size")
        return size, TIER_SIDE[size], TIER_SIDE[size]
    match = WXH.fullmatch(size)
    if match is None:
        raise Invalid("The parameter `size` specified in the request is not valid.", "size")
    width, height = int(match.group(1)), int(match.group(2))
    if ver == "3.0":
        ok = min(width, height) >= 512 and max(width, height) <= 2048
    else:
        ok = MIN_PIXELS.get(ver, 0) <= width * height <= 4096 * 4096 and max(
            width, height
        ) <= 16 * min(width, height)
    if not ok:
        raise Invalid(f"The parameter `size` {size} is out of range for this model.", "size")
    return size, width, height


def count_of(body: dict[str, Any], ver: str) -> int:
    """How many images the body asks for: max_images in group mode, else one."""
    if body.get("sequential_image_generation") != "auto" or ver == "3.0":
        return 1
    options = body.get("sequential_image_generation_options")
    count = options.get("max_images", 15) if isinstance(options, dict) else 15
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 15:
        raise Invalid("max_images must be an integer from 1 to 15.", "max_images")
    return count


DATA_URL = re.compile(r"data:image/(png|jpeg|webp|bmp|tiff|gif);base64,([A-Za-z0-9+/]+=*)\Z")


def references_of(body: dict[str, Any], ver: str, count: int) -> list[str]:
    """The reference images the body sends; Invalid for a shape or a number Seedream refuses."""
    given = body.get("image")
    if given is None:
        return []
    refs = [given] if isinstance(given, str) else given
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        raise Invalid("The parameter `image` must be a string or an array of strings.", "image")
    if ver == "3.0" and refs:
        raise Invalid("The parameter `image` is not supported by this model.", "image")
    for ref in refs:
        if not ref.startswith(("http://", "https://")) and DATA_URL.match(ref) is None:
            raise Invalid("The parameter `image` specified in the request is not valid.", "image")
    if len(refs) > 14 or len(refs) + count > 15:
        raise Invalid("The number of reference and generated images exceeds 15.", "image")
    return refs


def format_of(body: dict[str, Any], ver: str) -> str:
    fmt = body.get("output_format") or "jpeg"
    if fmt not in (("jpeg", "png") if ver == "5.0" else ("jpeg",)):
        raise Invalid(f"output_format {fmt} is not supported by this model.", "output_format")
    return str(fmt)


def usage(count: int) -> dict[str, int]:
    return {"generated_images": count, "output_tokens": 4096 * count, "total_tokens": 4096 * count}
