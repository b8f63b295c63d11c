"""Midjourney through DeerAPI's midjourney-proxy task API: imagine, action, fetch, image.

Built from research/model-families.md §2.8 (DA-new ``.../api/image/midjourney/submit-imagine``,
``.../midjourney/tasks/get``, DeerAPI's Midjourney best-practices page for the codes, new-api for
the statuses and the image proxy) and §6 item 8 for the terminal states:
- ``POST /mj/submit/imagine`` ``{prompt, botType?, accountFilter?, base64Array?: [data URIs],
  notifyHook?, state?}`` → ``{code, description, result: "<taskId>", properties}``; code 1
  submitted, 21 exists, 22 queued, 23 queue full, 24 sensitive prompt, 4 error.
- ``GET /mj/task/{id}/fetch`` → ``{id, action, status, progress, imageUrl, buttons, failReason,
  prompt, promptEn, submitTime, startTime, finishTime, properties}``; statuses NOT_START,
  SUBMITTED, IN_PROGRESS, FAILURE, SUCCESS (MODAL is never reached here).
- The result is a 2x2 grid; ``buttons`` carry ``customId`` "MJ::JOB::upsample::1::…" (U1-U4),
  variation (V1-V4) and reroll; ``POST /mj/submit/action`` ``{customId, taskId}`` makes a new
  task: UPSCALE (one tile of the grid), VARIATION or REROLL (a new grid).
- ``imageUrl`` is on the API's own origin, ``/mj/image/{id}`` (new-api's image proxy, which it
  serves without the key; FileStore keeps the bytes, so ``files.lifetime`` applies).
Not in the sources, so chosen here: the descriptions' words; every code answers HTTP 200; 21
and 22 make a task like 1 (22's first polls say NOT_START instead of SUBMITTED); 23, 24 and 4
make none (``result`` null); a bad body, an unknown or unfinished task or a customId that is not
among its buttons is code 4; a fetch of an unknown id is new-api's HTTP 400 ``{code: 4,
description: "task_no_found", type: "upstream_error"}``; an UPSCALE has no buttons; the grid's
tile size follows ``--ar W:H`` in the prompt. Fault routes: "midjourney" (imagine and action),
"midjourney-poll" (fetch); ``/mj/image/`` takes no fault but a fetch fault's url_status and
not_image (on the poll that ends the task).
"""

from __future__ import annotations

import functools
import io
import re
import uuid
from typing import Any

from PIL import Image

from tests.fake.faults import Fault
from tests.fake.images import NOT_AN_IMAGE, cached_image
from tests.fake.recorder import Recorded
from tests.fake.server import API, Context, Exchange
from tests.fake.tasks import Task, answer_fault, answer_poll, decoded_image, ratio_size, send

IMAGINE_PATH = "/mj/submit/imagine"
ACTION_PATH = "/mj/submit/action"
TASK_PREFIX = "/mj/task/"
IMAGE_PREFIX = "/mj/image/"
BOTS = ("MID_JOURNEY", "NIJI_JOURNEY")
DESCRIPTIONS = {
    1: "Submit success",
    21: "Task already exists",
    22: "In queue, there is 1 task ahead",
    23: "The queue is full, please try again later",
    24: "May contain sensitive words",
    4: "Submit failed",
}
FAIL_REASON = "Request cancelled due to image filters"
ACTIONS = {"upsample": "UPSCALE", "variation": "VARIATION", "reroll": "REROLL"}
NOT_FOUND = {"code": 4, "description": "task_no_found", "type": "upstream_error"}
AR_RE = re.compile(r"--(?:ar|aspect)\s+(\d+:\d+)")


@API.route("POST", IMAGINE_PATH, counted=True)
def imagine(exchange: Exchange, recorded: Recorded) -> None:
    body = recorded.json if isinstance(recorded.json, dict) else {}
    prompt = body.get("prompt")
    fault = answer_fault(exchange, "midjourney", prompt)
    if fault is None:
        return
    refusal = None
    images = body.get("base64Array") or []
    if not isinstance(prompt, str) or not prompt.strip():
        refusal = "prompt is required"
    elif body.get("botType", "MID_JOURNEY") not in BOTS:
        refusal = f"botType must be one of {list(BOTS)}"
    elif not isinstance(images, list) or not all(
        isinstance(image, str) and decoded_image(image, data_url=True) for image in images
    ):
        refusal = "base64Array: each item must be a data:image/…;base64, URI of an image"
    tile = ratio_size(next(iter(AR_RE.findall(prompt if isinstance(prompt, str) else "")), None))
    submitted(exchange, fault, body, str(prompt), refusal, action="IMAGINE", tile=tile)


@API.route("POST", ACTION_PATH, counted=True)
def action(exchange: Exchange, recorded: Recorded) -> None:
    body = recorded.json if isinstance(recorded.json, dict) else {}
    fault = answer_fault(exchange, "midjourney")
    if fault is None:
        return
    parent = exchange.context.taskbook.get(str(body.get("taskId")))
    custom_id = body.get("customId")
    refusal, extra = None, {}
    if parent is None or parent.route != "midjourney":
        refusal = "task_no_found: the task does not exist or has expired"
    elif parent.phase != "ended" or not parent.ok:
        refusal = "the task has not succeeded: its buttons cannot be used"
    elif custom_id not in [button["customId"] for button in buttons_of(parent)]:
        refusal = f"customId {custom_id!r} is not one of the task's buttons"
    else:
        kind, index = str(custom_id).split("::")[2:4]
        extra = {"action": ACTIONS[kind], "parent": parent.id, "index": int(index)}
        extra["tile"] = parent.extra["tile"]
    prompt = parent.extra["prompt"] if parent else ""
    submitted(exchange, fault, body, prompt, refusal, **extra)


def submitted(
    exchange: Exchange, fault: Fault, body: Any, prompt: str, refusal: str | None, **extra: Any
) -> None:
    """The submit answer: code 4 for REFUSAL, else the next code, and a task for 1, 21, 22."""
    book = exchange.context.taskbook
    code = 4 if refusal else book.next_mj_code()
    result, properties = None, {}
    if code in (1, 21, 22):
        extra.update(prompt=prompt, queued=code == 22)
        result = book.submit("midjourney", body, "midjourney", prompt, **extra).id
    if code == 22:
        properties = {"numberOfQueues": 1}
    if code == 24:
        properties = {"promptEn": prompt, "bannedWord": prompt.split()[0] if prompt else ""}
    payload = {
        "code": code,
        "description": refusal or DESCRIPTIONS[code],
        "result": result,
        "properties": properties,
    }
    send(exchange, 200, payload, fault)


@API.route("GET", TASK_PREFIX, prefix=True, counted=True)
def fetch(exchange: Exchange, recorded: Recorded) -> None:
    """One poll: the task one state further (tasks.TaskBook), as midjourney-proxy shows it."""
    task_id = recorded.path.removeprefix(TASK_PREFIX)
    # Not ".../fetch": no such task, answered as one after the faults.
    task_id = task_id.removesuffix("/fetch") if task_id.endswith("/fetch") else ""
    view = lambda task: task_view(exchange, task)  # noqa: E731
    answer_poll(exchange, "midjourney", task_id, view, (400, NOT_FOUND), finish)


@API.route("GET", IMAGE_PREFIX, prefix=True, auth=False)
def image(exchange: Exchange, recorded: Recorded) -> None:
    """The image of a task that succeeded, proxied: no key, GET or HEAD (a FileStore file)."""
    context = exchange.context
    task = context.taskbook.get(recorded.path.removeprefix(IMAGE_PREFIX))
    stored = context.files.get(task.extra.get("file", "")) if task is not None else None
    if stored is None:
        exchange.send(404, b"Not Found", "text/plain")
        return
    status, content_type, data = stored
    exchange.send(status, data, content_type)


def task_view(exchange: Exchange, task: Task) -> dict[str, Any]:
    """TASK as ``/mj/task/{id}/fetch`` answers it."""
    status = {"queued": "NOT_START" if task.extra["queued"] else "SUBMITTED"}.get(
        task.phase, "IN_PROGRESS"
    )
    if task.phase == "ended":
        status = "SUCCESS" if task.ok else "FAILURE"
    prompt = task.extra["prompt"]
    return {
        "id": task.id,
        "action": task.extra["action"],
        "status": status,
        "progress": "0%" if status == "FAILURE" else f"{task.progress}%",
        "imageUrl": f"{exchange.context.base_url}{IMAGE_PREFIX}{task.id}" if task.urls else None,
        "buttons": buttons_of(task),
        "failReason": FAIL_REASON if status == "FAILURE" else None,
        "prompt": prompt,
        "promptEn": prompt,
        "description": f"/imagine {prompt}",
        "state": task.body.get("state", ""),
        "submitTime": _millis(task.created),
        "startTime": _millis(task.started),
        "finishTime": _millis(task.ended),
        "properties": {"finalPrompt": prompt},
    }


def buttons_of(task: Task) -> list[dict[str, Any]]:
    """A finished grid's buttons: U1-U4, reroll, V1-V4 (an UPSCALE or unfinished task: none)."""
    if task.phase != "ended" or not task.ok or task.extra["action"] == "UPSCALE":
        return []
    job = uuid.uuid5(uuid.NAMESPACE_OID, task.id)
    ups = [(f"MJ::JOB::upsample::{n}::{job}", f"U{n}", "") for n in range(1, 5)]
    reroll = [(f"MJ::JOB::reroll::0::{job}::SOLO", "", "🔄")]
    variations = [(f"MJ::JOB::variation::{n}::{job}", f"V{n}", "") for n in range(1, 5)]
    return [
        {"customId": custom_id, "emoji": emoji, "label": label, "style": 2, "type": 2}
        for custom_id, label, emoji in ups + reroll + variations
    ]


def finish(context: Context, task: Task, fault: Fault) -> None:
    """TASK's image: the grid, or (UPSCALE) its tile ``index``; kept in FileStore."""
    width, height = task.extra["tile"]
    data = grid(width, height)
    if task.extra["action"] == "UPSCALE":
        data = tile(width, height, task.extra["index"])
    if fault.not_image:
        data = NOT_AN_IMAGE
    status = int(fault.url_status) if fault.url_status is not None else 200
    task.extra["file"] = context.files.put("png", data, "image/png", status)
    task.urls.append(f"{context.base_url}{IMAGE_PREFIX}{task.id}")
    task.images.append(data)


@functools.lru_cache(maxsize=32)
def grid(width: int, height: int) -> bytes:
    """A PNG of 2x2 tiles of WIDTHxHEIGHT, each a different view of the same gradient."""
    base = Image.open(io.BytesIO(cached_image("png", width, height, None)[0])).convert("RGB")
    views = [
        base,
        base.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        base.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        base.transpose(Image.Transpose.ROTATE_180),
    ]
    whole = Image.new("RGB", (2 * width, 2 * height))
    for index, view in enumerate(views):
        whole.paste(view, (index % 2 * width, index // 2 * height))
    return _png(whole)


@functools.lru_cache(maxsize=32)
def tile(width: int, height: int, index: int) -> bytes:
    """Tile INDEX of grid(WIDTH, HEIGHT): 1 top left, 2 top right, 3 bottom left, 4 bottom right."""
    whole = Image.open(io.BytesIO(grid(width, height)))
    left, top = (index - 1) % 2 * width, (index - 1) // 2 * height
    return _png(whole.crop((left, top, left + width, top + height)))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _millis(moment: float | None) -> int | None:
    return None if moment is None else int(moment * 1000)
