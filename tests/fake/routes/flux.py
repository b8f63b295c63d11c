"""FLUX on BFL's short path: ``POST /flux/v1/{model}``, polled at ``GET /flux/v1/get_result``.

Built from research/model-families.md §2.4 "DeerAPI path A, BFL short path" (DA-new
``.../api/image/flux/generate`` and ``.../flux/query-task``) and "Kontext parameters", and §6
item 8 for the terminal states:
- ``POST /flux/v1/{model}`` (flux-pro-1.1, flux-pro, flux-dev, flux-pro-1.1-ultra,
  flux-kontext-pro/max, …), Bearer key, body ``prompt``, ``width``/``height`` (multiples of 32),
  ``aspect_ratio`` between 21:9 and 9:21, ``input_image``, ``input_image_2..4`` (URL or base64),
  ``safety_tolerance`` 0-6, ``output_format`` jpeg/png, ``seed``, ``prompt_upsampling``. The answer:
  ``{"id", "polling_url", "cost": null, "input_mp": null, "output_mp": null}``.
- ``GET /flux/v1/get_result?id=<id>``: ``{"id", "status": "Pending"}`` until ``Ready`` with
  ``result{seed, prompt, sample, start_time, end_time, duration}``; failures ``Error``,
  ``Failed``, ``Content Moderated``, ``Request Moderated``, and "Task not found" for an id it
  does not know. ``sample`` is a signed link of about 10 minutes (``se=``, a relay's example): here
  an Azure-style SAS that lives at most SAMPLE_LIFETIME seconds (less if ``files.lifetime`` says).
Not in the sources, so chosen here: a 400 is FastAPI's ``{"detail": [{loc, msg, type}]}`` (BFL's
API is FastAPI; its usual status is 422); "Task not found" comes with status 200; the input
image may also be a ``data:`` URL; JPEG is the default format. Fault routes: "flux" (submits),
"flux-poll" (polls; the one that ends a task also bends its sample, see tasks.make_results).
"""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import parse_qs

from tests.fake.recorder import Recorded
from tests.fake.server import API, Exchange
from tests.fake.tasks import (
    Task,
    answer_fault,
    answer_poll,
    decoded_image,
    dig,
    is_url,
    parse_ratio,
    ratio_size,
    send,
)

FLUX_PREFIX = "/flux/v1/"
RESULT_PATH = "/flux/v1/get_result"
FORMATS = ("jpeg", "png")
IMAGE_FIELDS = ("input_image", "input_image_2", "input_image_3", "input_image_4")
SAMPLE_LIFETIME = 600.0  # seconds: "about 10 minutes" (§2.4)


class Invalid(Exception):
    """A body BFL refuses; ``body`` is FastAPI's validation error."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.body = {"detail": [{"loc": ["body", name], "msg": message, "type": "value_error"}]}


@API.route("GET", RESULT_PATH, counted=True)
def get_result(exchange: Exchange, recorded: Recorded) -> None:
    """One poll: the task one state further (tasks.TaskBook), in BFL's shape."""
    task_id = parse_qs(recorded.query).get("id", [""])[0]
    missing = (200, {"id": task_id, "status": "Task not found"})
    answer_poll(exchange, "flux", task_id, result_view, missing)


def result_view(task: Task) -> dict[str, Any]:
    """TASK as get_result shows it."""
    payload: dict[str, Any] = {"id": task.id, "status": "Pending"}
    if task.phase == "ended":
        payload["status"] = "Ready" if task.ok else task.outcome
    if task.phase == "ended" and task.ok:
        start, end = task.started or task.created, task.ended or task.created
        payload["result"] = {
            "seed": task.extra["seed"],
            "prompt": task.body["prompt"],
            "sample": task.urls[0] if task.urls else None,
            "start_time": start,
            "end_time": end,
            "duration": round(end - start, 6),
        }
    return payload


@API.route("POST", FLUX_PREFIX, prefix=True, counted=True)
def submit(exchange: Exchange, recorded: Recorded) -> None:
    """A new task of the model in the path, once the body passes BFL's checks."""
    body = recorded.json
    fault = answer_fault(exchange, "flux", dig(body, "prompt"))
    if fault is None:
        return
    model = recorded.path.removeprefix(FLUX_PREFIX)
    if not model or "/" in model or recorded.path == RESULT_PATH:
        send(exchange, 404, {"detail": "Not Found"}, fault)
        return
    try:
        fmt, size = check(body)
    except Invalid as bad:
        send(exchange, 400, bad.body, fault)
        return
    context = exchange.context
    prompt = body["prompt"]
    seed = body.get("seed", zlib.crc32(prompt.encode()) >> 1)
    signing = {"longest": SAMPLE_LIFETIME, "sas": True}
    task = context.taskbook.submit(
        "flux", body, model, prompt, fmt=fmt, size=size, seed=seed, signing=signing
    )
    payload = {
        "id": task.id,
        "polling_url": f"{context.base_url}{RESULT_PATH}?id={task.id}",
        "cost": None,
        "input_mp": None,
        "output_mp": None,
    }
    send(exchange, 200, payload, fault)


def check(body: Any) -> tuple[str, tuple[int, int]]:
    """(format, image size) of a body BFL takes; Invalid for the first field it refuses."""
    if not isinstance(body, dict):
        raise Invalid("body", "Input should be a valid dictionary")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Invalid("prompt", "Field required")
    for name in ("width", "height"):
        value = body.get(name)
        if value is not None and (not _is_int(value) or value <= 0 or value % 32):
            raise Invalid(name, f"{name} must be a multiple of 32")
    ratio = body.get("aspect_ratio")
    if ratio is not None:
        pair = parse_ratio(ratio)
        if pair is None or not 9 / 21 <= pair[0] / pair[1] <= 21 / 9:
            raise Invalid("aspect_ratio", "aspect_ratio must be between 21:9 and 9:21")
    for name in IMAGE_FIELDS:
        image = body.get(name)
        if image is None or is_url(image):
            continue
        if not isinstance(image, str) or (
            decoded_image(image, data_url=image.startswith("data:")) is None
        ):
            raise Invalid(name, f"{name} must be a URL or a base64-encoded image")
    tolerance = body.get("safety_tolerance")
    if tolerance is not None and (not _is_int(tolerance) or not 0 <= tolerance <= 6):
        raise Invalid("safety_tolerance", "safety_tolerance must be between 0 and 6")
    fmt = body.get("output_format", "jpeg")
    if fmt not in FORMATS:
        raise Invalid("output_format", "output_format must be 'jpeg' or 'png'")
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise Invalid("seed", "Input should be a valid integer")
    width, height = body.get("width"), body.get("height")
    if width is not None or height is not None:
        return fmt, ratio_size((width or 1024, height or 1024))
    return fmt, ratio_size(ratio)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
