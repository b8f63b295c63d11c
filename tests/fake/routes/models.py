"""``GET /v1/models``: the mixed model list an OpenAI-compatible gateway answers."""

from __future__ import annotations

from typing import Any

from tests.fake.recorder import Recorded
from tests.fake.server import API, Exchange

MODELS_PATH = "/v1/models"

DEFAULT_MODELS: tuple[tuple[str, int, str], ...] = (
    ("gpt-4o", 1715367049, "openai"),
    ("gpt-4o-mini", 1721172741, "openai"),
    ("text-embedding-3-small", 1705948997, "openai"),
    ("whisper-1", 1677532384, "openai"),
    ("tts-1", 1681940951, "openai"),
    ("claude-sonnet-4", 1747872000, "anthropic"),
    ("gpt-image-1", 1745517030, "openai"),
    ("gpt-image-2", 1776729600, "openai"),
    ("chatgpt-image-latest", 1765152000, "openai"),
    ("dall-e-3", 1698785189, "openai"),
    ("flux-kontext-pro", 1748908800, "black-forest-labs"),
    ("flux.1-dev", 1722470400, "black-forest-labs"),
    ("midjourney", 1712000000, "midjourney"),
    ("doubao-seedream-4-5-251128", 1764288000, "volcengine"),
    ("imagen-4.0-generate-preview", 1749168000, "vertex-ai"),
    ("ideogram-v3", 1743033600, "ideogram"),
    ("recraft-v3", 1730419200, "recraft"),
    ("stable-diffusion-3.5-large", 1729555200, "stability-ai"),
    ("qwen-image", 1754265600, "alibaba"),
    ("gemini-2.5-flash-image", 1756166400, "google"),
    ("gemini-2.5-pro", 1750118400, "google"),
    ("deepseek-chat", 1735689600, "deepseek"),
)


def default_models() -> list[dict[str, Any]]:
    """A fresh copy of the mixed chat/embedding/audio/image list ``GET /v1/models`` answers."""
    return [
        {"id": ident, "object": "model", "created": created, "owned_by": owner}
        for ident, created, owner in DEFAULT_MODELS
    ]


@API.route("GET", MODELS_PATH)
def models(exchange: Exchange, recorded: Recorded) -> None:
    """The list in ``models`` (a FakeDeerAPI attribute), or what a fault puts instead."""
    context = exchange.context
    fault = context.faults.pick("models", None)
    if exchange.answer_fault(fault):
        return
    payload = {"object": "list", "data": context.models}
    exchange.send_json(200, payload, fault.response_headers(), fault=fault)
