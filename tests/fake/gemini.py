"""Gemini's native image endpoint as DeerAPI serves it: the request's rules and the answer's shapes.

Built from DeerAPI's page https://apidoc.deerapi.com/api/image/gemini/generate-image as quoted in
research/model-families.md §2.2 (and the answer shapes relays were seen to give, same section):
- ``POST /v1beta/models/{model}:generateContent``, Bearer key. Models:
  gemini-3.1-flash-image-preview, gemini-3-pro-image-preview (also gemini-3-pro-image),
  gemini-2.5-flash-image; here any id that starts with ``gemini-`` and contains ``image``.
- ``contents[].parts[]``: ``text`` and ``inline_data{mime_type, data}`` (base64), up to 14 images
  (Google, quoted there: 3 Pro takes "up to 14 images in total").
- ``generationConfig.responseModalities`` ["TEXT","IMAGE"] or ["IMAGE"];
  ``imageConfig.aspectRatio`` 1:1 2:3 3:2 3:4 4:3 4:5 5:4 9:16 16:9 21:9, and 1:4 4:1 1:8 8:1 on
  3.1; ``imageSize`` 512px, 1K, 2K, 4K (upper-case K; lower case is rejected) on the Gemini 3
  series, none on 2.5 ("fixed at 1024 px, no imageSize"). Google's JSON takes camelCase and
  snake_case names alike: so does the fake.
- The answer: ``candidates[].content.parts[]`` with ``text`` and/or ``inlineData{mimeType,data}``,
  ``finishReason``, ``usageMetadata`` in tokens with the image under ``candidatesTokensDetails``
  (modality IMAGE). Relays also give the image as a ``data:`` URI in text, as markdown, or as a
  hosted URL in markdown: the VARIANTS below.
Errors are Google's: ``{"error": {"code": 400, "message": …, "status": "INVALID_ARGUMENT"}}``.
Not in the sources, so chosen here: pixel sizes (about side² pixels, see pixels), token counts.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from typing import Any

from tests.fake.images import sniff_format

PATH_RE = re.compile(r"/v1beta/models/([^/:]+):generateContent")
RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
RATIOS_31 = ("1:4", "4:1", "1:8", "8:1")  # gemini-3.1 only
SIZES = {"512px": 512, "1K": 1024, "2K": 2048, "4K": 4096}
MAX_IMAGES = 14
INPUT_MIME_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
IMAGE_TOKENS = 1290  # per image made (candidatesTokensDetails)
INPUT_IMAGE_TOKENS = 258  # per image sent (promptTokensDetails)

# The answer's shapes; a test picks one with FakeDeerAPI.gemini_answer or Fault(gemini_answer=…).
DEFAULT_VARIANT = "inlineData"
IMAGE_VARIANTS = (
    "inlineData",  # parts: text, then {"inlineData": {"mimeType", "data"}}
    "inline_data",  # the same with snake_case keys
    "text_data_uri",  # the image as a text part "data:image/png;base64,…"
    "markdown_data_uri",  # "![image](data:image/png;base64,…)" in a text part
    "markdown_url",  # "![image](URL)" with URL on the files server
)
FINISH_REASONS = {
    "safety": "SAFETY",
    "prohibited_content": "PROHIBITED_CONTENT",
    "image_safety": "IMAGE_SAFETY",
    "recitation": "RECITATION",
}  # no image, no content: only finishReason
VARIANTS = (*IMAGE_VARIANTS, "text_only", *FINISH_REASONS, "blocked")

STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}


def error_body(code: int, message: str | None = None, status: str | None = None) -> dict[str, Any]:
    """Google's error object; the status name and message follow the code unless given."""
    name = status or STATUSES.get(code, "INTERNAL" if code >= 500 else "FAILED_PRECONDITION")
    text = message if message is not None else _MESSAGES.get(code, f"Request failed ({name}).")
    return {"error": {"code": code, "message": text, "status": name}}


class Invalid(Exception):
    """A request the API answers 400 INVALID_ARGUMENT; ``body`` is Google's error object."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.body = error_body(400, message)


def model_of(path: str) -> str | None:
    """The model of a ``/v1beta/models/{model}:generateContent`` path, or None."""
    match = PATH_RE.fullmatch(path)
    return match.group(1) if match else None


def is_image_model(model: str) -> bool:
    return model.startswith("gemini-") and "image" in model


def _field(obj: dict[str, Any], camel: str, snake: str) -> Any:
    """OBJ's field by either of its names, as Google's JSON parser takes both."""
    return obj[camel] if camel in obj else obj.get(snake)


def prompt_of(body: Any) -> str | None:
    """The text parts of any body, joined by newlines, for the faults that look at prompts."""
    contents = body.get("contents") if isinstance(body, dict) else None
    texts = [
        part["text"]
        for content in (contents if isinstance(contents, list) else [])
        if isinstance(content, dict) and isinstance(content.get("parts"), list)
        for part in content["parts"]
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    ]
    return "\n".join(texts) if texts else None


@dataclass(frozen=True)
class Request:
    """A valid generateContent request, defaults filled in."""

    model: str
    prompt: str  # the text parts, joined by newlines
    images: int  # inline images sent
    aspect_ratio: str
    image_size: str
    want_image: bool  # responseModalities has IMAGE (the default: TEXT and IMAGE)
    want_text: bool


def _decode(data: str) -> bytes:
    """Standard or URL-safe base64, padded or not, as proto3 JSON takes bytes; b"" if invalid."""
    text = data.translate(str.maketrans("-_", "+/"))
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _inline_image(inline: Any, where: str) -> None:
    if not isinstance(inline, dict):
        raise Invalid(f"Invalid value at '{where}' (inline_data): expected an object.")
    mime = _field(inline, "mimeType", "mime_type")
    data = inline.get("data")
    if not isinstance(mime, str) or not mime:
        raise Invalid(f"* GenerateContentRequest.{where}.mime_type: mime_type is not specified")
    if mime.lower() not in INPUT_MIME_TYPES:
        raise Invalid(f"Unsupported MIME type: {mime}")
    raw = _decode(data) if isinstance(data, str) else b""
    if not raw:
        shown = data[:20] if isinstance(data, str) else data
        raise Invalid(
            f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed for {shown!r}"
        )
    if sniff_format(raw) is None:
        raise Invalid(
            "Unable to process input image. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        )


def _contents(body: dict[str, Any]) -> tuple[list[str], int]:
    """The texts and the number of inline images of BODY's contents; Invalid if they are wrong."""
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise Invalid("* GenerateContentRequest.contents: contents is not specified")
    texts: list[str] = []
    images = 0
    for i, content in enumerate(contents):
        parts = content.get("parts") if isinstance(content, dict) else None
        if not isinstance(parts, list) or not parts:
            raise Invalid(f"* GenerateContentRequest.contents[{i}].parts: must not be empty.")
        if content.get("role", "user") not in ("user", "model"):
            raise Invalid("Please use a valid role: user, model.")
        for j, part in enumerate(parts):
            where = f"contents[{i}].parts[{j}]"
            inline = _field(part, "inlineData", "inline_data") if isinstance(part, dict) else None
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif inline is not None:
                _inline_image(inline, where)
                images += 1
            else:
                raise Invalid(
                    f"* GenerateContentRequest.{where}.data: required oneof field 'data' must "
                    "have one initialized field"
                )
    if not any(text.strip() for text in texts):
        raise Invalid("* GenerateContentRequest.contents: a text part (the prompt) is required.")
    if images > MAX_IMAGES:
        raise Invalid(f"Too many images: {images} were given, at most {MAX_IMAGES} are allowed.")
    return texts, images


def _modalities(config: dict[str, Any]) -> set[str]:
    given = _field(config, "responseModalities", "response_modalities")
    if given is None:
        return {"TEXT", "IMAGE"}
    if not isinstance(given, list) or not given:
        raise Invalid("Invalid value at 'generation_config.response_modalities': a list.")
    names = {str(name).upper() for name in given}
    unknown = sorted(names - {"TEXT", "IMAGE"})
    if unknown:
        raise Invalid(
            "Invalid value at 'generation_config.response_modalities' (type.googleapis.com/"
            f'google.ai.generativelanguage.v1beta.GenerationConfig.Modality), "{unknown[0]}"'
        )
    return names


def _image_config(config: dict[str, Any], model: str) -> tuple[str, str]:
    image_config = _field(config, "imageConfig", "image_config") or {}
    if not isinstance(image_config, dict):
        raise Invalid("Invalid value at 'generation_config.image_config': expected an object.")
    ratio = _field(image_config, "aspectRatio", "aspect_ratio") or "1:1"
    allowed = RATIOS + (RATIOS_31 if model.startswith("gemini-3.1") else ())
    if ratio not in allowed:
        raise Invalid(f"Unsupported aspect ratio: {ratio}. Supported: {', '.join(allowed)}.")
    size = _field(image_config, "imageSize", "image_size")
    if size is not None and not model.startswith("gemini-3"):
        raise Invalid(f"imageSize is not supported by {model}.")
    if size is not None and size not in SIZES:
        raise Invalid(f"Unsupported image size: {size}. Supported: {', '.join(SIZES)}.")
    return str(ratio), str(size or "1K")


def parse(model: str, body: Any) -> Request:
    """The request BODY makes of MODEL, or Invalid as the API would answer."""
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received. Unexpected token.")
    texts, images = _contents(body)
    config = _field(body, "generationConfig", "generation_config") or {}
    if not isinstance(config, dict):
        raise Invalid("Invalid value at 'generation_config': expected an object.")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise Invalid("Invalid value at 'tools': expected a list.")
    modalities = _modalities(config)
    ratio, size = _image_config(config, model)
    return Request(
        model=model,
        prompt="\n".join(texts),
        images=images,
        aspect_ratio=ratio,
        image_size=size,
        want_image="IMAGE" in modalities,
        want_text="TEXT" in modalities,
    )


def pixels(aspect_ratio: str = "1:1", image_size: str = "1K") -> tuple[int, int]:
    """The pixel size asked for: about SIDE² pixels in the ratio, multiples of 16 (before the
    fake scales it down to at most 1024*1024, see images.pixel_size)."""
    w, h = (int(n) for n in aspect_ratio.split(":"))
    side = SIZES[image_size]
    width = side * math.sqrt(w / h)
    return max(16, round(width / 16) * 16), max(16, round(width * h / w / 16) * 16)


def usage(request: Request, images: int, text: str) -> dict[str, Any]:
    """usageMetadata for an answer with IMAGES images and TEXT."""
    prompt_text = max(1, len(request.prompt.split()))
    prompt = prompt_text + INPUT_IMAGE_TOKENS * request.images
    text_tokens = len(text.split())
    out = IMAGE_TOKENS * images + text_tokens
    thoughts = 0 if request.model.startswith("gemini-2") else 172
    details = [{"modality": "TEXT", "tokenCount": prompt_text}]
    if request.images:
        details.append({"modality": "IMAGE", "tokenCount": INPUT_IMAGE_TOKENS * request.images})
    made = [{"modality": "IMAGE", "tokenCount": IMAGE_TOKENS * images}] if images else []
    if text_tokens:
        made.append({"modality": "TEXT", "tokenCount": text_tokens})
    metadata: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": out,
        "totalTokenCount": prompt + out + thoughts,
        "promptTokensDetails": details,
        "candidatesTokensDetails": made,
    }
    if thoughts:
        metadata["thoughtsTokenCount"] = thoughts
    return metadata
