"""Kling's image generation as DeerAPI relays it: ``POST /kling/v1/images/generations``, polled.

Built from research/model-families.md §2.9 (DA-new ``.../api/image/kling/generate`` and
``.../kling/generate-with-references``; the poll from relay docs) and §6 item 8:
- ``POST /kling/v1/images/generations`` ``{model_name, prompt (≤ 2500), negative_prompt?,
  image? (bare base64 "without data: prefix", or a public URL), aspect_ratio (16:9 9:16 1:1 4:3
  3:4 3:2 2:3 21:9), resolution 1k|2k, n 1-9}`` → ``{code: 0, message: "SUCCEED", request_id,
  data: {task_id, task_status: "submitted", task_info: {}, created_at, updated_at}}``.
- ``GET /kling/v1/images/generations/{task_id}`` → ``data.task_status`` submitted → processing
  → succeed (``task_result.images[{index, url}]``, n of them) / failed (``task_status_msg``).
Not in the sources, so chosen here: a refused body is HTTP 400 ``{code: 1201, message,
request_id}`` (a ``data:`` head included: Kling refuses it); an unknown task is HTTP 404 code
1203; negative_prompt ≤ 2500 too; model_name defaults to kling-v1; times in milliseconds; PNG
images. Fault routes: "kling" (submits), "kling-poll" (polls).
"""

from __future__ import annotations

from typing import Any

from tests.fake.recorder import Recorded
from tests.fake.server import API, Exchange
from tests.fake.tasks import (
    Task,
    answer_fault,
    answer_poll,
    decoded_image,
    dig,
    is_url,
    ratio_size,
    send,
)

GENERATIONS_PATH = "/kling/v1/images/generations"
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9")
RESOLUTIONS = ("1k", "2k")
MAX_PROMPT = 2500
MAX_N = 9
FAILED = "Failure to pass the risk control system"
STATUSES = {"submitted": "submitted", "queued": "submitted", "running": "processing"}


class Invalid(Exception):
    """A body Kling refuses (code 1201, HTTP 400)."""


@API.route("POST", GENERATIONS_PATH, counted=True)
def submit(exchange: Exchange, recorded: Recorded) -> None:
    """A new task, once the body passes Kling's checks."""
    body = recorded.json
    fault = answer_fault(exchange, "kling", dig(body, "prompt"))
    if fault is None:
        return
    try:
        ratio, count = check(body)
    except Invalid as bad:
        send(
            exchange,
            400,
            {"code": 1201, "message": str(bad), "request_id": recorded.request_id},
            fault,
        )
        return
    model = body.get("model_name", "kling-v1")
    size = ratio_size(ratio)
    task = exchange.context.taskbook.submit(
        "kling", body, model, body["prompt"], fmt="png", size=size, count=count
    )
    send(exchange, 200, answer(recorded, task), fault)


@API.route("GET", GENERATIONS_PATH + "/", prefix=True, counted=True)
def query(exchange: Exchange, recorded: Recorded) -> None:
    """One poll: the task one state further (tasks.TaskBook)."""
    task_id = recorded.path.removeprefix(GENERATIONS_PATH + "/")
    missing = (404, {"code": 1203, "message": "task not found", "request_id": recorded.request_id})
    answer_poll(exchange, "kling", task_id, lambda task: answer(recorded, task), missing)


def check(body: Any) -> tuple[str, int]:
    """(aspect ratio, n) of a body Kling takes; Invalid for the first field it refuses."""
    if not isinstance(body, dict):
        raise Invalid("request body must be a JSON object")
    for name, required in (("prompt", True), ("negative_prompt", False)):
        text = body.get(name)
        if text is None and not required:
            continue
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_PROMPT:
            raise Invalid(f"{name} is required and at most {MAX_PROMPT} characters")
    image = body.get("image")
    if isinstance(image, str) and image.startswith("data:"):
        raise Invalid("image: send the base64 string without the data: prefix, or a URL")
    if not (image is None or is_url(image)) and (
        not isinstance(image, str) or decoded_image(image, data_url=False) is None
    ):
        raise Invalid("image must be a URL or the base64 of a JPG/JPEG/PNG image")
    ratio = body.get("aspect_ratio", "16:9")
    if ratio not in RATIOS:
        raise Invalid(f"aspect_ratio must be one of {', '.join(RATIOS)}")
    if body.get("resolution", "1k") not in RESOLUTIONS:
        raise Invalid("resolution must be 1k or 2k")
    count = body.get("n", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_N:
        raise Invalid(f"n must be between 1 and {MAX_N}")
    return ratio, count


def answer(recorded: Recorded, task: Task) -> dict[str, Any]:
    """TASK as Kling's submit and query answer it."""
    status = STATUSES.get(task.phase, "succeed" if task.ok else "failed")
    data: dict[str, Any] = {
        "task_id": task.id,
        "task_status": status,
        "task_info": {},
        "created_at": int(task.created * 1000),
        "updated_at": int((task.ended or task.started or task.created) * 1000),
    }
    if status == "failed":
        data["task_status_msg"] = FAILED
    if status == "succeed":
        images = [{"index": index, "url": url} for index, url in enumerate(task.urls)]
        data["task_result"] = {"images": images}
    return {"code": 0, "message": "SUCCEED", "request_id": recorded.request_id, "data": data}
