"""The known values of request fields, and the small rules every layer shares about values; pure."""

from __future__ import annotations

import math
import re
from typing import Any

from deerimg.errors import usage_error

# The one table of known values. DeerAPI's models change faster than any release, so anything
# outside it can still be sent with -p KEY=VALUE.
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "quality": ("auto", "low", "medium", "high", "xhigh", "max", "standard", "hd"),
    "output_format": ("png", "jpeg", "webp", "gif", "svg"),
    "background": ("transparent", "opaque", "auto"),
    "moderation": ("auto", "low"),
    "style": ("vivid", "natural"),
    "response_format": ("url", "b64_json"),
    "input_fidelity": ("high", "low"),
    "complexity": ("low", "medium", "high"),  # planning spent, apart from quality (GPT image 2.5)
    "resolution": ("512px", "1K", "2K", "3K", "4K"),  # --resolution: a tier, per family
}
# A config default for every run: what every model that takes output_format writes (GIF and SVG
# are asked for run by run, of the models that make them).
FORMATS = ("png", "jpeg", "webp")
FLAG_OF = {
    "quality": "--quality",
    "output_format": "--format",
    "background": "--background",
    "moderation": "--moderation",
    "style": "--style",
    "response_format": "--response-format",
    "size": "--size",
    "n": "--count",
    "output_compression": "--compression",
    "input_fidelity": "--input-fidelity",
    "resolution": "--resolution",
    "aspect": "--aspect",
    "complexity": "--complexity",
    "partial_images": "--partial-images",
    "frame_count": "--frames",
    "frame_duration_ms": "--frame-duration",
    "watermark": "--watermark",
    "markup": "--markup",
}
FRAME_COUNT = (2, 16)  # a GIF's frames (peers-2026-12.md §5)
# The shape of a size any family may take: WxH, a tier (Seedream's 2K), auto, adaptive (SeedEdit);
# what one family takes is in families.py.
SIZE_RE = re.compile(r"^(auto|adaptive|[1-9]K|[1-9][0-9]{1,4}x[1-9][0-9]{1,4})$")
COUNT_RANGE = (1, 10)  # images per request (n)
GPT_IMAGE_RE = re.compile(r"^(gpt-image|chatgpt-image)", re.IGNORECASE)


def is_gpt_image(model: str) -> bool:
    """GPT image models always answer in base64 and take output_format (OpenAI's schema)."""
    return bool(GPT_IMAGE_RE.match(model))


def normalise_format(name: str) -> str:
    """A format as the API names it: jpg is jpeg."""
    return "jpeg" if name == "jpg" else name


def whole_number(value: Any) -> int | None:
    """VALUE when it is an int and not a bool (JSON's true is no count), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def is_count(value: Any) -> bool:
    """VALUE is a whole number of images one request may ask for (n)."""
    number = whole_number(value)
    return number is not None and COUNT_RANGE[0] <= number <= COUNT_RANGE[1]


def non_finite(value: Any, name: str = "") -> str | None:
    """Where VALUE, parsed JSON, holds a number that is not finite (NAME.key[0]), else None.

    json.loads accepts NaN, Infinity and -Infinity, which JSON (RFC 8259) has not, and reads a
    number too large for a float (1e999) as inf without complaint; json.dumps would then write
    Infinity, which no API reads. One walk catches both, wherever the number is nested.
    """
    # A loop, not recursion: a value nested almost as deep as json.loads allows must not end in
    # a RecursionError here. Children go on reversed, so the first such number is the one named.
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return path
        if isinstance(item, dict):
            children = [(f"{path}.{key}" if path else str(key), v) for key, v in item.items()]
        elif isinstance(item, list):
            children = [(f"{path}[{index}]", v) for index, v in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))
    return None


def check_finite(value: Any, name: str, where: str) -> None:
    """Refuse VALUE (a -p value, a prompt file's JSON line) when it holds NaN or Infinity."""
    path = non_finite(value, name)
    if path is not None:
        raise usage_error(
            f"{where}: {path or 'the value'} is not a finite number (NaN, Infinity or too large "
            "for a float); JSON has no such number and no API reads one"
        )
