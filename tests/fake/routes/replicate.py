"""Replicate's predictions as DeerAPI relays them: submitted by model, polled by id.

Built from research/model-families.md §2.4 "DeerAPI path B, Replicate style" (DA-new
``.../api/image/replicate/create-task``, ``.../replicate/query-task``), §2.13 (Stable Diffusion
3.5 only through these routes; DA-old's example sends ``model`` rather than ``version``), and §6
item 8 for the terminal states:
- ``POST /replicate/v1/models/{owner}/{name}/predictions`` with ``{"input": {…}}``; the legacy
  ``POST /replicate/v1/predictions`` with ``{"version": "owner/name", "input": {…}}`` (or
  ``"model"``). The answer is a prediction ``{id, model, version: "hidden", input, output: null,
  status: "starting", urls: {get, cancel, stream, web}, error: null, logs: ""}``.
- ``GET /replicate/v1/predictions/{id}``: ``status`` starting → processing → succeeded (``output``
  a list of URLs, or one URL string for the turbo models, §2.13; ``metrics.image_count`` and
  ``predict_time``) / failed (``error`` text) / canceled.
- ``input.num_outputs`` images; ``input.aspect_ratio``; ``input.output_format`` webp|jpg|png.
Not in the sources, so chosen here: a refused input is Replicate's 422 problem body (``title``,
``detail``, ``status``, ``invalid_fields``); an unknown id or path is 404 ``{"detail": "Not
found."}``; num_outputs is 1-4; webp is the default format; ``Prefer: wait`` is not honoured
(the answer is always "starting"); no cancel endpoint. ``FakeDeerAPI.replicate_output`` forces
the list or the string. Fault routes: "replicate" (submits), "replicate-poll" (polls).
"""

from __future__ import annotations

import re
from typing import Any

from tests.fake.recorder import Recorded
from tests.fake.server import API, Exchange
from tests.fake.tasks import (
    Task,
    answer_fault,
    answer_poll,
    dig,
    iso,
    parse_ratio,
    ratio_size,
    send,
)

MODELS_PREFIX = "/replicate/v1/models/"
PREDICTIONS_PATH = "/replicate/v1/predictions"
MODEL_PATH_RE = re.compile(r"/replicate/v1/models/([^/]+/[^/]+)/predictions")
FORMATS = ("webp", "jpg", "png")
MAX_OUTPUTS = 4
NOT_FOUND = {"detail": "Not found."}
FAILED = "Prediction failed: the model raised an exception (fake)."
STATUSES = {"submitted": "starting", "queued": "starting", "running": "processing"}


class Invalid(Exception):
    """An input Replicate refuses; ``body`` is its 422 problem body."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.body = {
            "title": "Input validation failed",
            "detail": f"- {name}: {message}",
            "status": 422,
            "invalid_fields": [{"type": "invalid", "field": name, "description": message}],
        }


@API.route("POST", MODELS_PREFIX, prefix=True, counted=True)
def create_by_model(exchange: Exchange, recorded: Recorded) -> None:
    match = MODEL_PATH_RE.fullmatch(recorded.path)
    create(exchange, recorded, match.group(1) if match else None)


@API.route("POST", PREDICTIONS_PATH, counted=True)
def create_legacy(exchange: Exchange, recorded: Recorded) -> None:
    body = recorded.json if isinstance(recorded.json, dict) else {}
    named = body.get("version") or body.get("model")
    create(exchange, recorded, named.split(":")[0] if isinstance(named, str) and named else "")


@API.route("GET", PREDICTIONS_PATH + "/", prefix=True, counted=True)
def get_prediction(exchange: Exchange, recorded: Recorded) -> None:
    """One poll: the prediction one state further (tasks.TaskBook)."""
    task_id = recorded.path.removeprefix(PREDICTIONS_PATH + "/")
    view = lambda task: prediction(exchange, task)  # noqa: E731
    answer_poll(exchange, "replicate", task_id, view, (404, NOT_FOUND))


def create(exchange: Exchange, recorded: Recorded, model: str | None) -> None:
    """A new prediction of MODEL (None: a path of no model; "": a legacy body without one)."""
    body = recorded.json
    given, prompt = dig(body, "input"), dig(body, "input", "prompt")
    fault = answer_fault(exchange, "replicate", prompt)
    if fault is None:
        return
    if model is None:
        send(exchange, 404, NOT_FOUND, fault)
        return
    try:
        if not model:
            raise Invalid("version", "version is required")
        fmt, size, count = check(given)
    except Invalid as bad:
        send(exchange, 422, bad.body, fault)
        return
    task = exchange.context.taskbook.submit(
        "replicate", body, model, str(prompt), fmt=fmt, size=size, count=count
    )
    send(exchange, 201, prediction(exchange, task), fault)


def check(given: Any) -> tuple[str, tuple[int, int], int]:
    """(format, image size, count) of an input Replicate takes; Invalid for what it refuses."""
    if not isinstance(given, dict):
        raise Invalid("input", "input is required")
    prompt = given.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise Invalid("input.prompt", "prompt is required")
    count = given.get("num_outputs", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_OUTPUTS:
        raise Invalid("input.num_outputs", f"Must be between 1 and {MAX_OUTPUTS}")
    fmt = given.get("output_format", "webp")
    if fmt not in FORMATS:
        raise Invalid("input.output_format", f"output_format must be one of {list(FORMATS)}")
    ratio = given.get("aspect_ratio")
    if ratio == "custom":
        ratio = (given.get("width"), given.get("height"))
        if not all(isinstance(side, int) for side in ratio):
            raise Invalid("input.width", "custom aspect_ratio needs width and height")
    elif ratio is not None and ratio != "match_input_image" and parse_ratio(ratio) is None:
        raise Invalid("input.aspect_ratio", f"{ratio!r} is not a valid aspect ratio")
    return fmt, ratio_size(ratio), count


def prediction(exchange: Exchange, task: Task) -> dict[str, Any]:
    """TASK as a Replicate prediction object."""
    context = exchange.context
    get = f"{context.base_url}{PREDICTIONS_PATH}/{task.id}"
    given = task.body.get("input") if isinstance(task.body, dict) else None
    ended = task.phase == "ended"
    status = STATUSES.get(task.phase, "succeeded" if task.ok else task.outcome)
    payload: dict[str, Any] = {
        "id": task.id,
        "model": task.model,
        "version": "hidden",
        "input": given,
        "logs": "",
        "output": None,
        "data_removed": False,
        "error": FAILED if status == "failed" else None,
        "status": status,
        "created_at": iso(task.created),
        "started_at": iso(task.started),
        "completed_at": iso(task.ended),
        "urls": {
            "get": get,
            "cancel": f"{get}/cancel",
            "stream": f"{get}/stream",
            "web": f"https://replicate.com/p/{task.id}",
        },
    }
    if ended and task.ok:
        shape = context.taskbook.replicate_output or (
            "string" if task.model.endswith("-turbo") else "list"
        )
        payload["output"] = list(task.urls) if shape == "list" else next(iter(task.urls), None)
        predict = (task.ended or task.created) - (task.started or task.created)
        payload["metrics"] = {"image_count": len(task.urls), "predict_time": round(predict, 6)}
    return payload
