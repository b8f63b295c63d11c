"""Where each route's requests go, and the body as sent: shared by the wire and the dry run.

The images route posts to {base}/v1/images/generations or /edits (OpenAI's shape); the gemini
route to {base}/v1beta/models/{model}:generateContent (Google's own, research/model-families.md
§2.2, DeerAPI's page https://apidoc.deerapi.com/api/image/gemini/generate-image), whose model is
in the URL rather than the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

Endpoint = Literal["generations", "edits", "gemini"]


def url_of(api_root: str, endpoint: Endpoint, model: str) -> str:
    """The URL a request goes to; API_ROOT ends in /v1 (Settings.api_root)."""
    if endpoint == "gemini":
        base = api_root.removesuffix("/v1")
        return f"{base}/v1beta/models/{quote(model, safe='')}:generateContent"
    return f"{api_root}/images/{endpoint}"


def sent(endpoint: Endpoint, body: Mapping[str, Any]) -> dict[str, Any]:
    """BODY as it goes on the wire: a Gemini body names its model in the URL, not in the JSON
    (deerimg keeps it in the body for its records)."""
    if endpoint == "gemini":
        return {key: value for key, value in body.items() if key != "model"}
    return dict(body)


def recorded(endpoint: Endpoint, body: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """BODY as records hold it (provenance, history): the prompt as its own field, as the images
    endpoints have it, rather than inside Gemini's `contents`."""
    if endpoint == "gemini":
        return {"prompt": prompt, **{k: v for k, v in body.items() if k != "contents"}}
    return dict(body)
