"""``POST /v1beta/models/{model}:generateContent``: faults, then Gemini's checks and answer."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tests.fake import gemini
from tests.fake.faults import DEFAULT, Fault
from tests.fake.images import CONTENT_TYPES, INVALID_B64, normalize_format, pixel_size
from tests.fake.recorder import Recorded
from tests.fake.routes.images import fault_first, image_of, url_of
from tests.fake.server import API, Context, Exchange

GEMINI_PREFIX = "/v1beta/models/"
SAID = "Here is the image you asked for."
TEXT_ONLY = "I can describe that picture, but I did not draw it this time."
SAFETY_RATINGS = [
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"},
]


@API.route("POST", GEMINI_PREFIX, prefix=True, counted=True)
def generate_content(exchange: Exchange, recorded: Recorded) -> None:
    """Answer a generateContent request as DeerAPI relays Gemini's."""
    context = exchange.context
    fault = fault_first(exchange, "gemini", gemini.prompt_of(recorded.json))
    if exchange.answer_fault(google_errors(fault)):
        return
    headers = fault.response_headers()
    if fault.error_200:
        payload = google_error(fault, 500)
        exchange.send_json(200, payload, headers, fault=fault)
        return
    model = gemini.model_of(recorded.path)
    if model is None or not gemini.is_image_model(model):
        name = model or recorded.path.removeprefix(GEMINI_PREFIX)
        message = (
            f"models/{name} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models."
        )
        exchange.send_json(404, gemini.error_body(404, message), headers)
        return
    try:
        request = gemini.parse(model, recorded.json)
    except gemini.Invalid as bad:
        exchange.send_json(400, bad.body, headers)
        return
    variant = fault.gemini_answer or context.faults.gemini_answer
    payload = gemini_payload(context, request, variant, fault, f"fake-{recorded.request_id}")
    exchange.send_json(200, payload, headers, fault=fault)


def google_error(fault: Fault, status: int) -> dict[str, Any]:
    """Google's error body for FAULT: a ``code`` in upper case ("RESOURCE_EXHAUSTED") is its
    status name; an OpenAI-style code is left out."""
    name = fault.code if fault.code and fault.code.isupper() else None
    return gemini.error_body(status, fault.message, name)


def google_errors(fault: Fault) -> Fault:
    """FAULT with its error status answered in Google's error body."""
    if fault.status is None or fault.body is not None:
        return fault
    body = json.dumps(google_error(fault, int(fault.status)))
    return dataclasses.replace(fault, body=body, content_type="application/json")


def gemini_payload(
    context: Context, request: gemini.Request, variant: str, fault: Fault, response_id: str
) -> dict[str, Any]:
    """The 200 answer's body for REQUEST in the shape VARIANT names, as FAULT bends it."""
    if not request.want_image and variant in gemini.IMAGE_VARIANTS:
        variant = "text_only"  # responseModalities without IMAGE: text, as the real API answers
    payload: dict[str, Any] = {}
    images, said = 0, ""
    if variant == "blocked":
        payload["promptFeedback"] = {"blockReason": "SAFETY", "safetyRatings": SAFETY_RATINGS}
    elif variant in gemini.FINISH_REASONS:
        reason = gemini.FINISH_REASONS[variant]
        payload["candidates"] = [{"finishReason": reason, "index": 0}]
    else:
        if variant == "text_only":
            said, parts = TEXT_ONLY, [{"text": TEXT_ONLY}]
        else:
            said = SAID if request.want_text else ""
            images, parts = 1, [{"text": said}] if said else []
            parts.append(image_part(context, request, variant, fault))
        content = {"role": "model", "parts": parts}
        payload["candidates"] = [{"content": content, "finishReason": "STOP", "index": 0}]
    usage = gemini.usage(request, images, said) if fault.usage is DEFAULT else fault.usage
    if usage is not None:
        payload["usageMetadata"] = usage
    payload["modelVersion"] = request.model
    payload["responseId"] = response_id
    return payload


def image_part(
    context: Context, request: gemini.Request, variant: str, fault: Fault
) -> dict[str, Any]:
    """The part that carries the image, in the shape VARIANT names."""
    width, height = pixel_size(*gemini.pixels(request.aspect_ratio, request.image_size))
    fmt = normalize_format(fault.wrong_format or "png")  # the mime type follows the bytes
    data, b64 = image_of(context, fmt, width, height, fault)
    b64 = INVALID_B64 if fault.invalid_b64 else b64
    mime = CONTENT_TYPES[fmt]
    if variant == "inline_data":
        return {"inline_data": {"mime_type": mime, "data": b64}}
    if variant == "text_data_uri":
        return {"text": f"data:{mime};base64,{b64}"}
    if variant == "markdown_data_uri":
        return {"text": f"![image](data:{mime};base64,{b64})"}
    if variant == "markdown_url":
        return {"text": f"![image]({url_of(context, fmt, data, fault)})"}
    return {"inlineData": {"mimeType": mime, "data": b64}}
