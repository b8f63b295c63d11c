"""Where each route's requests go, and the body as sent: shared by the wire and the dry run.

The images route posts to {base}/v1/images/generations or /edits (OpenAI's shape); the gemini
route to {base}/v1beta/models/{model}:generateContent (Google's own, research/model-families.md
§2.2); the task routes submit a task (§2.4 FLUX and Replicate, §2.8 Midjourney, §2.9 Kling) and
poll it (wire/tasks.py). Where a route names the model in its URL (or, for Midjourney, in no
field at all), the body deerimg keeps for its records still holds "model"; the wire leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

Endpoint = Literal["generations", "edits", "gemini", "flux", "replicate", "midjourney", "kling"]
TASK_ROUTES = ("flux", "replicate", "midjourney", "kling")


def url_of(api_root: str, endpoint: Endpoint, model: str) -> str:
    """The URL a request (a task's submit) goes to; API_ROOT ends in /v1 (Settings.api_root)."""
    base = api_root.removesuffix("/v1")
    if endpoint == "gemini":
        return f"{base}/v1beta/models/{quote(model, safe='')}:generateContent"
    if endpoint == "flux":
        return f"{base}/flux/v1/{quote(model, safe='')}"
    if endpoint == "replicate":
        owner, _, name = model.partition("/")
        return (
            f"{base}/replicate/v1/models/{quote(owner, safe='')}/{quote(name, safe='')}/predictions"
        )
    if endpoint == "midjourney":
        return f"{base}/mj/submit/imagine"
    if endpoint == "kling":
        return f"{base}/kling/v1/images/generations"
    return f"{api_root}/images/{endpoint}"


def sent(endpoint: Endpoint, body: Mapping[str, Any]) -> dict[str, Any]:
    """BODY as it goes on the wire: without "model" where the URL names it (deerimg keeps it in
    the body for its records)."""
    if endpoint in ("generations", "edits"):
        return dict(body)
    return {key: value for key, value in body.items() if key != "model"}


def recorded(endpoint: Endpoint, body: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """BODY as records hold it (provenance, history): the prompt as its own field, as the images
    endpoints have it, rather than inside Gemini's `contents` or Replicate's `input`."""
    if endpoint in ("generations", "edits"):
        return dict(body)
    return {"prompt": prompt, **{k: v for k, v in body.items() if k not in ("contents", "prompt")}}
