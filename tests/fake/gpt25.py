"""OpenAI's November-2026 request fields, as the fake DeerAPI checks them for GPT image models.

From research/peers-2026-12.md §5 (openai-python 3.51.0's ``image_generate_params.py`` and
``image_edit_params.py``):
- ``complexity``: ``low``, ``medium`` or ``high``, "computation spent planning the image".
- GIF output: ``frame_count`` 2-16 (default 9) and ``frame_duration_ms`` (default 200, rounded to
  10 ms). "GIF output does not support streaming, partial images, masks, or custom output
  compression."
- ``safety_identifier`` "takes precedence over the deprecated ``user``"; answers echo it.
- Edits gain ``markup``: "A transparent PNG overlaid on the first image to guide the edit. Must
  match that image's dimensions … Supports GPT Image 2.5. Cannot be combined with mask."
GPT image 2.5 and later take them all; an earlier GPT image model answers 400 for the ones only
2.5 takes (complexity, the GIF fields, markup). A model id that is no GPT image model is let
through (the generic family: sent as typed).
"""

from __future__ import annotations

import re
from typing import Any

NEWER = re.compile(r"gpt-image-2\.[5-9]")
OLDER = re.compile(r"(gpt-image|chatgpt-image)")
ONLY_NEWER = ("complexity", "frame_count", "frame_duration_ms", "markup")
COMPLEXITY = ("low", "medium", "high")
FRAME_COUNT = (2, 16)


class Refused(Exception):
    """A field the API answers 400 for: its message, the parameter and the error code."""

    def __init__(self, message: str, param: str, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


def _whole(value: Any, name: str) -> int:
    """VALUE as an integer: JSON's number, or an edit form's text ("4")."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Refused(f"Invalid type for '{name}': expected an integer.", name, "invalid_type")
    return value


def check(fields: dict[str, Any], model: str, files: tuple[str, ...] = ()) -> None:
    """Refused for what the API answers 400 to: FIELDS are the body (an edit's text fields),
    FILES the names of an edit's file parts."""
    given = [name for name in ONLY_NEWER if name in fields or name in files]
    if given and OLDER.match(model) and not NEWER.match(model):
        raise Refused(f"Unknown parameter: '{given[0]}'.", given[0], "unknown_parameter")
    if "complexity" in fields and fields["complexity"] not in COMPLEXITY:
        raise Refused(
            f"Invalid value: '{fields['complexity']}'. Supported values are: 'low', 'medium', "
            "and 'high'.",
            "complexity",
        )
    if "frame_count" in fields:
        count = _whole(fields["frame_count"], "frame_count")
        low, high = FRAME_COUNT
        if not low <= count <= high:
            raise Refused(
                f"Invalid 'frame_count': expected a value between {low} and {high}, but got "
                f"{count} instead.",
                "frame_count",
            )
    if (
        "frame_duration_ms" in fields
        and _whole(fields["frame_duration_ms"], "frame_duration_ms") < 1
    ):
        raise Refused(
            "Invalid 'frame_duration_ms': expected a positive integer.", "frame_duration_ms"
        )
    gif = fields.get("output_format") == "gif"
    if gif and "mask" in files:
        raise Refused("GIF output does not support masks.", "mask")
    if "markup" in files and "mask" in files:
        raise Refused("'markup' cannot be combined with 'mask'.", "markup")
