"""Gemini's generateContent on the wire: reference files as inline_data, every answer shape read.

Sources: DeerAPI's Gemini page (https://apidoc.deerapi.com/api/image/gemini/generate-image) and
the relays' answers collected in research/model-families.md §2.2. An image comes as
`candidates[].content.parts[].inlineData` (or `inline_data`, snake case), or, from some relays,
as a text part holding a `data:image/…;base64,…` URI or a markdown image whose target is a data
URI or a URL (downloaded at once, like any URL answer). The model's own text becomes the image's
revised prompt. No image is a refusal with its reason: `promptFeedback.blockReason`, or a
`finishReason` such as SAFETY, PROHIBITED_CONTENT, IMAGE_SAFETY or RECITATION.
"""

from __future__ import annotations

import re
from typing import Any

from deerimg.errors import DeerimgError
from deerimg.wire.payload import Uploads, base64_of
from deerimg.wire.responses import server_text

DATA_URI = re.compile(r"data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=\s]+)")
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(https?://[^\s)]+|data:image/[^)\s]+)\s*\)")
REFUSALS = {
    "SAFETY": "it was flagged by the safety filters",
    "PROHIBITED_CONTENT": "it asked for prohibited content",
    "IMAGE_SAFETY": "the image was flagged by the safety filters",
    "RECITATION": "it would have recited protected material",
    "BLOCKLIST": "it holds a blocked term",
    "SPII": "it holds sensitive personal information",
}


def with_inline_data(body: dict[str, Any], uploads: Uploads) -> dict[str, Any]:
    """BODY with each upload as an inline_data part after the prompt's text (read now)."""
    if not uploads:
        return body
    parts: list[dict[str, Any]] = []
    for _, image in uploads:
        encoded = base64_of(image)
        parts.append({"inline_data": {"mime_type": image.content_type, "data": encoded}})
    contents = [dict(content) for content in body.get("contents", [])]
    if not contents:
        contents = [{"role": "user", "parts": []}]
    contents[0]["parts"] = [*contents[0].get("parts", []), *parts]
    return {**body, "contents": contents}


def images_of(data: Any, request_id: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The images of an answer as the images endpoints give them ({"b64_json"} or {"url"}, the
    model's text as "revised_prompt"), and its usage in their terms; a refusal as an error."""
    if not isinstance(data, dict):
        raise DeerimgError("the response is not a JSON object", request_id=request_id)
    usage = _usage(data.get("usageMetadata"))
    feedback = data.get("promptFeedback")
    blocked = feedback.get("blockReason") if isinstance(feedback, dict) else None
    candidates = data.get("candidates")
    candidates = (
        [c for c in candidates if isinstance(c, dict)] if isinstance(candidates, list) else []
    )
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    reasons: list[str] = []
    for candidate in candidates:
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and not part.get("thought"):
                _read_part(part, items, texts)
        reason = candidate.get("finishReason")
        if isinstance(reason, str):
            reasons.append(reason)
    text = server_text(" ".join(texts), one_line=False).strip() if texts else ""
    if items:
        if text:
            items[0]["revised_prompt"] = text
        return items, usage
    if isinstance(blocked, str):
        raise _refused(f"the prompt was blocked ({blocked})", request_id)
    refusal = next((r for r in reasons if r in REFUSALS), None)
    if refusal is not None:
        raise _refused(f"no image: {REFUSALS[refusal]} (finishReason {refusal})", request_id)
    if text:
        raise _refused(f"the model answered with text, no image: {text[:300]}", request_id)
    why = f" (finishReason {reasons[0]})" if reasons else ""
    raise DeerimgError(f"the response holds no image{why}", request_id=request_id)


def _read_part(part: dict[str, Any], items: list[dict[str, Any]], texts: list[str]) -> None:
    inline = part.get("inlineData", part.get("inline_data"))
    if isinstance(inline, dict):
        data = inline.get("data")
        if isinstance(data, str):
            items.append({"b64_json": data})
        return
    text = part.get("text")
    if not isinstance(text, str):
        return
    found = False
    for match in MARKDOWN_IMAGE.finditer(text):
        target = match.group(1)
        uri = DATA_URI.fullmatch(target)
        items.append({"b64_json": uri.group(2)} if uri else {"url": target})
        found = True
    if not found:
        for uri in DATA_URI.finditer(text):
            items.append({"b64_json": uri.group(2)})
            found = True
    rest = MARKDOWN_IMAGE.sub("", DATA_URI.sub("", text)).strip() if found else text.strip()
    if rest:
        texts.append(rest)


def _usage(meta: Any) -> dict[str, Any]:
    """usageMetadata in the images endpoints' terms: input, output (thoughts included), total."""
    if not isinstance(meta, dict):
        return {}

    def count(name: str) -> int:
        value = meta.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    output = count("candidatesTokenCount") + count("thoughtsTokenCount")
    usage: dict[str, Any] = {
        "input_tokens": count("promptTokenCount"),
        "output_tokens": output,
        "total_tokens": count("totalTokenCount") or count("promptTokenCount") + output,
    }
    if count("thoughtsTokenCount"):
        usage["output_tokens_details"] = {"reasoning_tokens": count("thoughtsTokenCount")}
    return usage


def _refused(message: str, request_id: str | None) -> DeerimgError:
    return DeerimgError(
        message,
        request_id=request_id,
        hint="rephrase the prompt; a refusal is not retried",
    )
