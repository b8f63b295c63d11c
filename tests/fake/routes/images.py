"""``POST /v1/images/generations`` and ``/v1/images/edits``: faults, then checks, then images."""

from __future__ import annotations

import base64
import time
from typing import Any

from tests.fake import seedream, streaming
from tests.fake.faults import DEFAULT, Fault
from tests.fake.images import (
    C2PA_DUMMY,
    CONTENT_TYPES,
    INVALID_B64,
    NOT_AN_IMAGE,
    cached_image,
    normalize_format,
    pixel_size,
    png_with_chunk,
    sniff_format,
)
from tests.fake.recorder import Recorded
from tests.fake.routes.files import FILES_PREFIX
from tests.fake.schema import (
    BadRequest,
    Generation,
    edit_text_fields,
    error_body,
    parse_edit,
    parse_generation,
)
from tests.fake.server import API, Context, Exchange

GENERATIONS_PATH = "/v1/images/generations"
EDITS_PATH = "/v1/images/edits"
IMAGE_TOKENS_PER_INPUT = 1000  # usage.input_tokens_details.image_tokens per input image


def svg_usage() -> dict[str, Any]:
    """OpenAI's November-2026 svg_usage of one SVG (peers-2026-12.md section 5): the tokens of the
    text model that wrote it, beside the image model's usage."""
    return {"input_tokens": 40, "model": "gpt-5-mini", "output_tokens": 900,
            "reasoning_tokens": 300, "total_tokens": 940}  # fmt: skip


@API.route("POST", GENERATIONS_PATH, counted=True)
def generations(exchange: Exchange, recorded: Recorded) -> None:
    answer_images(exchange, recorded, "generations")


@API.route("POST", EDITS_PATH, counted=True, form=edit_text_fields)
def edits(exchange: Exchange, recorded: Recorded) -> None:
    answer_images(exchange, recorded, "edits")


def answer_images(exchange: Exchange, recorded: Recorded, route: str) -> None:
    """Answer a generation or an edit: faults first, then validation, then the images."""
    context = exchange.context
    body = recorded.json
    prompt = body.get("prompt") if isinstance(body, dict) else None
    fault = fault_first(exchange, route, prompt if isinstance(prompt, str) else None)
    if exchange.answer_fault(fault):
        return
    headers = fault.response_headers()
    if fault.error_200:
        payload = error_body(
            500,
            fault.message or "The upstream returned an error.",
            code=fault.code,
            error_type=fault.type,
        )
        exchange.send_json(200, payload, headers, fault=fault)
        return
    image_tokens = 0
    streamed = None
    try:
        streamed = streaming.asked(body)
        if route == "edits":
            content_type = recorded.headers.get("content-type", "")
            request, inputs = parse_edit(recorded.parts, recorded.json, content_type)
            image_tokens = IMAGE_TOKENS_PER_INPUT * inputs
        else:
            request = parse_generation(body)
    except BadRequest as bad:
        exchange.send_json(400, bad.body, headers)
        return
    payload = images_payload(context, request, fault, image_tokens)
    if streamed is not None and not fault.ignore_stream:
        width, height = pixel_size(request.width, request.height)
        stream = streaming.events(route, payload, streamed, fault, width, height)
        exchange.send_events(stream, headers, gap=fault.stream_gap, cut=fault.stream_end == "cut")
        return
    exchange.send_json(200, payload, headers, fault=fault)


def fault_first(exchange: Exchange, route: str, prompt: str | None) -> Fault:
    """The fault this request takes, once any gathering is over and the latency waited out."""
    context = exchange.context
    fault = context.faults.pick(route, prompt)
    context.faults.gathered()
    exchange.wait(context.latency)
    return fault


def image_of(
    context: Context, fmt: str, width: int, height: int, fault: Fault
) -> tuple[bytes, str]:
    """The image an answer carries and its base64, as FAULT bends it (c2pa, not_image)."""
    data, b64 = cached_image(fmt, width, height, context.image_bytes)
    if fault.c2pa and fmt == "png":
        data = png_with_chunk(data, b"caBX", C2PA_DUMMY)
        b64 = base64.b64encode(data).decode("ascii")
    if fault.not_image:
        data = NOT_AN_IMAGE
        b64 = base64.b64encode(data).decode("ascii")
    return data, b64


def url_of(context: Context, fmt: str, data: bytes, fault: Fault, **signing: Any) -> str:
    """A new URL of DATA on the files server, served with FAULT's url_status (redirect_url: on
    the API's origin, redirecting there); SIGNING goes to FileStore.put (longest, sas)."""
    status = int(fault.url_status) if fault.url_status is not None else 200
    name = context.files.put(
        fmt, data, CONTENT_TYPES.get(sniff_format(data) or "", "text/plain"), status, **signing
    )
    origin = context.base_url if fault.redirect_url else context.files_url
    query = context.files.query(name)
    return f"{origin}{FILES_PREFIX}{name}" + (f"?{query}" if query else "")


def images_payload(
    context: Context, request: Generation, fault: Fault, image_tokens: int = 0
) -> dict[str, Any]:
    """The 200 answer's body for REQUEST, as FAULT bends it."""
    fmt = normalize_format(fault.wrong_format or request.fmt)
    width, height = pixel_size(request.width, request.height)
    data, b64 = image_of(context, fmt, width, height, fault)
    url_status = fault.url_status
    as_url = (request.url or url_status is not None or fault.redirect_url) and not (
        fault.invalid_b64
    )
    revised = (
        "Revised: " + request.prompt if fault.revised_prompt is DEFAULT else fault.revised_prompt
    )
    items: list[dict[str, Any]] = []
    count = request.n if fault.images is None else fault.images
    for _ in range(count):
        item: dict[str, Any]
        if as_url:
            item = {"url": url_of(context, request.fmt, data, fault)}
        else:
            item = {"b64_json": INVALID_B64 if fault.invalid_b64 else b64}
        if request.family == "seedream":
            item["size"] = f"{width}x{height}"  # Seedream says what it made; no revised prompt
        elif revised is not None:
            item["revised_prompt"] = revised
        items.append(item)
    payload: dict[str, Any] = (
        {"created": int(time.time()), "model": request.model}
        if request.family == "seedream"
        else {
            "created": int(time.time()),
            "background": request.background,
            "output_format": request.fmt,
            "quality": request.quality,
            "size": request.size,
        }
    )
    if request.safety_identifier is not None:
        payload["safety_identifier"] = request.safety_identifier
    usage = (
        seedream.usage(count)
        if request.family == "seedream" and fault.usage is DEFAULT
        else {
            "input_tokens": 16 + image_tokens,
            "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": 16},
            "output_tokens": 208 * request.n,
            "total_tokens": 16 + image_tokens + 208 * request.n,
        }
        if fault.usage is DEFAULT
        else fault.usage
    )
    if usage is not None:
        payload["usage"] = usage
    if request.fmt == "svg":
        payload["svg_usage"] = svg_usage()
    if fault.empty_data:
        payload["data"] = []
    elif not fault.no_data:
        payload["data"] = items
    return payload
