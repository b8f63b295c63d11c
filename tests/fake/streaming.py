"""Streamed answers of the images routes (``"stream": true``): server-sent events.

Built from OpenAI's own schemas of the stream (``shared/reference/openai-images-openapi.json``):
``ImageGenPartialImageEvent`` / ``ImageEditPartialImageEvent`` (``type``, ``b64_json``,
``created_at``, ``size``, ``quality``, ``background``, ``output_format``, a 0-based
``partial_image_index``) and ``ImageGenCompletedEvent`` / ``ImageEditCompletedEvent`` (the same
fields and ``usage``, no index); ``PartialImages`` is 0 to 3, and "the final image may be sent
before the full number of partial images are generated". ``shared/research/peers.md`` §4.3 gives
the event names (``event: image_generation.partial_image`` … ``image_edit.completed``), and
``peers-2026-12.md`` §0.8 that "SVG and GIF output cannot be streamed". Where relays differ, each
shape is served on demand (Fault fields): a relay that drops ``stream`` and answers plain JSON
(QuantumNous/new-api#1234, peers.md §5), events with no ``event:`` line and a closing
``data: [DONE]`` (new-api's relay of streams), an ``error`` event, a stream that ends, or is cut,
before ``completed``, and fewer partials than asked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.fake.faults import Fault
from tests.fake.images import cached_image
from tests.fake.schema import BadRequest

MAX_PARTIALS = 3
UNSTREAMED_FORMATS = ("gif", "svg")


def asked(body: Any) -> int | None:
    """The number of partial images a request's BODY asks for when it streams, else None; a
    JSON body has ``true`` and a number, an edit's form ``"true"`` and a numeral (BadRequest for
    a value the API refuses)."""
    if not isinstance(body, dict) or body.get("stream") not in (True, "true"):
        return None
    value = body.get("partial_images", 0)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PARTIALS:
        raise BadRequest(
            f"Invalid 'partial_images': expected an integer between 0 and {MAX_PARTIALS}, but "
            f"got {value!r} instead.",
            "partial_images",
            "invalid_value",
        )
    fmt = str(body.get("output_format") or "png")
    if fmt in UNSTREAMED_FORMATS:
        raise BadRequest(
            f"Streaming is not supported for output_format '{fmt}'.", "stream", "invalid_value"
        )
    return value


def events(
    route: str, payload: dict[str, Any], partials: int, fault: Fault, width: int, height: int
) -> Iterator[bytes]:
    """The stream of an images answer PAYLOAD (its one image's b64_json and usage): PARTIALS
    partial images, smaller than the final one so a test can tell them apart, then completed, as
    FAULT bends them."""
    prefix = "image_edit" if route == "edits" else "image_generation"
    fmt = str(payload.get("output_format") or "png")
    common = {
        "created_at": int(time.time()),
        "size": payload.get("size"),
        "quality": payload.get("quality"),
        "background": payload.get("background"),
        "output_format": fmt,
    }
    shown = partials if fault.stream_partials is None else fault.stream_partials
    for index in range(shown):
        _data, b64 = cached_image(
            fmt, max(16, width // (4 + index)), max(16, height // (4 + index)), None
        )
        partial = {"type": f"{prefix}.partial_image", "b64_json": b64, **common}
        partial["partial_image_index"] = index
        yield _event(f"{prefix}.partial_image", partial, fault)
    if fault.stream_end == "error":
        failure = {"message": "The image could not be finished.", "type": "server_error"}
        error = {"type": "error", "error": {**failure, "code": "image_failed"}}
        yield _event("error", error, fault)
        return
    if fault.stream_end in ("early", "cut"):
        return
    items = payload.get("data") or [{}]
    completed = {"type": f"{prefix}.completed", **common, "b64_json": items[0].get("b64_json")}
    if "usage" in payload:
        completed["usage"] = payload["usage"]
    yield _event(f"{prefix}.completed", completed, fault)
    if fault.stream_unnamed:
        yield b"data: [DONE]\n\n"


def _event(name: str, data: dict[str, Any], fault: Fault) -> bytes:
    text = json.dumps(data, separators=(",", ":")).encode()
    head = b"" if fault.stream_unnamed else b"event: %s\n" % name.encode()
    return head + b"data: " + text + b"\n\n"
