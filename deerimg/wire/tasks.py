"""The task APIs on the wire: a submit's task id, each poll's state, reference files in place.

Sources (research/model-families.md; DeerAPI's pages quoted there):
- FLUX (§2.4): `POST /flux/v1/{model}` → `{"id", "polling_url"}`; `GET /flux/v1/get_result?id=`
  → `status` Ready (with `result.sample`, a link that lives about 10 minutes), or Error, Failed,
  Content Moderated, Request Moderated, Task not found; anything else is still going.
- Replicate (§2.4): the prediction `{id, status, output, error}`; `GET
  /replicate/v1/predictions/{id}` until succeeded (`output`: a link or a list), failed, canceled.
- Midjourney (§2.8): `{code, description, result: task id}`: 1 submitted, 21 exists, 22 queued
  are accepted; 23 (queue full) is retried like a 429; 24 (prompt refused) and 4 are errors.
  `GET /mj/task/{id}/fetch` → `status` SUCCESS (`imageUrl`, `buttons`), FAILURE (`failReason`),
  and `progress` ("45%") on the way.
- Kling (§2.9): `{code: 0, data: {task_id}}`; `GET /kling/v1/images/generations/{id}` →
  `data.task_status` succeed (`task_result.images[].url`), failed (`task_status_msg`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from deerimg.errors import DeerimgError
from deerimg.wire.payload import Uploads, base64_of
from deerimg.wire.responses import server_text

FLUX_FAILED = ("Error", "Failed", "Content Moderated", "Request Moderated", "Task not found")
MJ_ACCEPTED = (1, 21, 22)
MJ_QUEUE_FULL = 23
DATA_URLS = ("replicate", "midjourney")  # files as data: URLs; FLUX and Kling take bare base64


@dataclass(slots=True)
class Polled:
    """What one poll says of a task: still going (with its progress), done, or failed."""

    state: str  # "going", "done" or "failed"
    status: str  # the API's own word for it
    progress: str | None = None  # Midjourney's "45%"
    urls: list[str] = field(default_factory=list)
    message: str | None = None
    buttons: dict[str, str] = field(default_factory=dict)  # Midjourney: label → customId


class QueueFull(Exception):
    """Midjourney's code 23: the queue is full; the submit is tried again after a pause."""


def with_files(route: str, body: dict[str, Any], uploads: Uploads) -> dict[str, Any]:
    """BODY with each upload read into its slot (a dotted path; "[]" adds to a list)."""
    if not uploads:
        return body
    placed = {**body}
    if "input" in placed and isinstance(placed["input"], dict):
        placed["input"] = {**placed["input"]}
    for slot, image in uploads:
        data = base64_of(image)
        value = f"data:{image.content_type};base64,{data}" if route in DATA_URLS else data
        *parents, last = slot.split(".")
        node = placed
        for part in parents:
            node = node.setdefault(part, {})
        if last.endswith("[]"):
            node.setdefault(last[:-2], []).append(value)
        else:
            node[last] = value
    return placed


def poll_url(route: str, base: str, task_id: str) -> str:
    """Where a task of ROUTE is polled; BASE is the API's root without /v1."""
    quoted = quote(task_id, safe="")
    return {
        "flux": f"{base}/flux/v1/get_result?id={quoted}",
        "replicate": f"{base}/replicate/v1/predictions/{quoted}",
        "midjourney": f"{base}/mj/task/{quoted}/fetch",
        "kling": f"{base}/kling/v1/images/generations/{quoted}",
    }[route]


def task_id_of(route: str, data: Any, request_id: str | None) -> str:
    """The task id a submit answered with; the API's refusal as one error."""
    if not isinstance(data, dict):
        raise DeerimgError("the task's submit answer is not a JSON object", request_id=request_id)
    if route == "midjourney":
        code = data.get("code")
        text = _text(data.get("description")) or "no description"
        if code == MJ_QUEUE_FULL:
            raise QueueFull(text)
        if code not in MJ_ACCEPTED:
            refused = "the prompt was refused" if code == 24 else "the task was not submitted"
            raise DeerimgError(f"{refused}: {text} (code {code})", request_id=request_id)
        found = data.get("result")
    elif route == "kling":
        inner = data.get("data")
        if data.get("code") not in (0, None) or not isinstance(inner, dict):
            message = _text(data.get("message")) or "no message"
            raise DeerimgError(f"the task was not submitted: {message}", request_id=request_id)
        found = inner.get("task_id")
    else:
        found = data.get("id")
    if not isinstance(found, (str, int)) or isinstance(found, bool) or not str(found).strip():
        raise DeerimgError("the task's submit answer holds no task id", request_id=request_id)
    return str(found)


def polled(route: str, data: Any) -> Polled:
    """One poll's answer read: still going, done with its links, or failed with its reason."""
    if not isinstance(data, dict):
        return Polled("going", "?")
    if route == "flux":
        status = _text(data.get("status")) or "?"
        result = data.get("result")
        sample = result.get("sample") if isinstance(result, dict) else None
        if status == "Ready":
            return Polled("done", status, urls=_links(sample))
        return Polled("failed" if status in FLUX_FAILED else "going", status, message=status)
    if route == "replicate":
        status = _text(data.get("status")) or "?"
        if status == "succeeded":
            return Polled("done", status, urls=_links(data.get("output")))
        message = _text(data.get("error")) or status
        return Polled(
            "failed" if status in ("failed", "canceled") else "going", status, message=message
        )
    if route == "midjourney":
        status = _text(data.get("status")) or "?"
        progress = _text(data.get("progress"))
        if status == "SUCCESS":
            buttons = {
                str(b.get("label")): str(b.get("customId"))
                for b in data.get("buttons") or ()
                if isinstance(b, dict) and b.get("customId")
            }
            return Polled("done", status, progress, _links(data.get("imageUrl")), buttons=buttons)
        message = _text(data.get("failReason")) or status
        return Polled(
            "failed" if status == "FAILURE" else "going", status, progress, message=message
        )
    given = data.get("data")
    inner: dict[str, Any] = given if isinstance(given, dict) else {}
    status = _text(inner.get("task_status")) or "?"
    if status == "succeed":
        result = inner.get("task_result")
        images = result.get("images") if isinstance(result, dict) else None
        urls = [u for i in images or () if isinstance(i, dict) for u in _links(i.get("url"))]
        return Polled("done", status, urls=urls)
    message = _text(inner.get("task_status_msg")) or status
    return Polled("failed" if status == "failed" else "going", status, message=message)


def _links(value: Any) -> list[str]:
    """A link or a list of links, as answers give them (Replicate's output is either)."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v.startswith(("http://", "https://"))]


def _text(value: Any) -> str | None:
    return server_text(str(value)) if isinstance(value, (str, int, float)) else None
