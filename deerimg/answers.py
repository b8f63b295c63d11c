"""Reading the API's answers: an images answer with its base64 left in place, error bodies; pure."""

from __future__ import annotations

import json
import re
from typing import Any

from deerimg import images
from deerimg.errors import DeerimgError

_B64_KEY = re.compile(rb'"b64_json"\s*:\s*"')  # up to the opening quote of the value


def error_fields(body: bytes | bytearray) -> tuple[str | None, str | None]:
    """The message and code of an error answer: OpenAI-style JSON, else an HTML page's title or
    the start of its text."""
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
        text = " ".join(text.split())[:200]
        return (text or None), None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return str(error.get("message") or "error"), (str(code) if code else None)
    if isinstance(error, str):
        return error, None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"], None
    return None, None


def lift_images(content: bytes | bytearray) -> dict[str, Any] | None:
    """An images answer parsed with each b64_json value left in CONTENT, as a memoryview of it.

    json.loads would hold the answer three times at its peak (the bytes, their text, the value's
    copy): 12 MB for one 3 MB image, in each of -j threads (issue 10). Here the values are cut
    out of the text that is parsed, and each data item gets a view of its value instead.

    None, and the caller parses the whole answer, whenever this is not plainly right: no
    b64_json, an escape inside a value, or a "b64_json" that the parse shows was not a key of a
    data item (text inside another string, say).
    """
    lifted = lift(content)
    if lifted is None:
        return None
    view = memoryview(content)
    for item, start, end in lifted[1]:
        item["b64_json"] = view[start:end]
    return lifted[0]


Lifted = list[tuple[dict[str, Any], int, int]]  # a data item, and where its base64 lies


def lift(content: bytes | bytearray) -> tuple[dict[str, Any], Lifted] | None:
    """lift_images' work: the parsed answer, and each item's base64 as a span of CONTENT."""
    pieces: list[bytes | bytearray] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _B64_KEY.finditer(content):
        start = match.end()
        end = content.find(b'"', start)
        if start < pos or end < 0 or content.find(b"\\", start, end) >= 0:
            return None
        pieces += (content[pos:start], b"\\u0000deerimg%d" % len(spans))
        spans.append((start, end))
        pos = end
    if not spans:
        return None
    pieces.append(content[pos:])
    try:
        data = json.loads(b"".join(pieces))
    except ValueError:
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    lifted = [item for item in items if isinstance(item, dict) and "b64_json" in item]
    if [item["b64_json"] for item in lifted] != [f"\x00deerimg{k}" for k in range(len(spans))]:
        return None
    return data, [(item, start, end) for item, (start, end) in zip(lifted, spans, strict=True)]


def place_images(answer: bytes | bytearray, lifted: Lifted, request_id: str | None) -> None:
    """Give each lifted item its base64: one image is decoded over the answer itself, which
    then holds just the image (item["image"]); several get views, decoded one at a time."""
    if len(lifted) == 1 and isinstance(answer, bytearray):
        item, start, end = lifted[0]
        try:
            item["image"] = images.decode_in_place(answer, start, end)
        except DeerimgError as error:
            error.request_id = request_id
            raise
        del item["b64_json"]
        return
    view = memoryview(answer)
    for item, start, end in lifted:
        item["b64_json"] = view[start:end]
