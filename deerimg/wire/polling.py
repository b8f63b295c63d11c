"""One task from submit to its image links: the one polling mechanism of every task API.

The submit is a paid request (sent once; Midjourney's "queue full" is tried again after a pause,
as a 429 is). Its task id is told at once (SUBMITTED), before the first poll, so the history
ledger holds it even if the run dies now. Polls cost nothing: each is retried as a download is,
and a stop (Ctrl-C) does not end them, since the task is paid for. Between polls the wait grows
from DEERIMG_POLL_INTERVAL seconds (default 1) by half each time, to at most 10 s; --timeout
bounds the whole task, after which it stays pending, for `deerimg fetch` to finish.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from deerimg.errors import DeerimgError, TaskPending
from deerimg.events import Retrying
from deerimg.routes import Endpoint, sent, url_of
from deerimg.wire import tasks
from deerimg.wire.client import ApiClient, ApiResult
from deerimg.wire.payload import Payload, Uploads, encode, encode_body

MAX_INTERVAL = 10.0
QUEUE_PAUSES = (2.0, 5.0, 10.0, 20.0)  # Midjourney's code 23, tried again after these


def interval() -> float:
    """The first wait between polls: DEERIMG_POLL_INTERVAL seconds, 1 when unset or unreadable."""
    try:
        value = float(os.environ.get("DEERIMG_POLL_INTERVAL", "1"))
    except ValueError:
        return 1.0
    return min(max(value, 0.0), MAX_INTERVAL) if value == value else 1.0  # NaN: the default


def run_task(
    client: ApiClient,
    endpoint: Endpoint,
    body: dict[str, Any],
    files: Uploads = (),
    *,
    submitted: Callable[[str, str | None], None],
    on_state: Callable[[str, tasks.Polled], None],
    on_retry: Callable[[Retrying], None] | None = None,
    received: Callable[[], None] | None = None,
    task_id: str | None = None,
    actions: Sequence[str] = (),
) -> ApiResult:
    """Submit BODY (or take up TASK_ID, submitted before), poll it to its end; the result's
    data items are its image links, then those of each Midjourney ACTION (U1…U4) run on it."""
    started = time.monotonic()
    settings = client.settings
    base = settings.api_root.removesuffix("/v1")
    request_id = None
    if task_id is None:
        url = url_of(settings.api_root, endpoint, str(body.get("model")))
        payload = encode(tasks.with_files(endpoint, sent(endpoint, body), files))
        task_id, request_id = _submit(client, endpoint, url, payload, on_retry)
        submitted(task_id, request_id)
    if received is not None:
        received()  # the request slot: polls do not hold one
    deadline = started + settings.timeout
    done = _poll(client, endpoint, base, task_id, deadline, on_state, on_retry)
    urls = list(done.urls)
    for label in actions:  # Midjourney's upscales: each a task of its own, on the grid's task
        custom = done.buttons.get(label)
        if custom is None:
            raise DeerimgError(f"task {task_id} offers no {label} button", request_id=request_id)
        action = Payload(content=encode_body({"customId": custom, "taskId": task_id}))
        one, _ = _submit(client, endpoint, f"{base}/mj/submit/action", action, on_retry)
        submitted(one, None)
        urls += _poll(client, endpoint, base, one, deadline, on_state, on_retry).urls
    if not urls:
        raise DeerimgError(f"task {task_id} ended with no image link", request_id=request_id)
    items = [{"url": url} for url in urls]
    return ApiResult(items, None, request_id, time.monotonic() - started, {}, task_id=task_id)


def _submit(
    client: ApiClient,
    endpoint: Endpoint,
    url: str,
    payload: Payload,
    on_retry: Callable[[Retrying], None] | None,
) -> tuple[str, str | None]:
    """POST a submit; its task id and request id. A full Midjourney queue waits and tries again."""
    for pause in (*QUEUE_PAUSES, None):
        data, request_id = client.post_json(url, payload, on_retry)
        try:
            return tasks.task_id_of(endpoint, data, request_id), request_id
        except tasks.QueueFull as full:
            if pause is None:
                raise DeerimgError(
                    f"the queue is still full after {len(QUEUE_PAUSES)} tries: {full}",
                    request_id=request_id,
                ) from None
            if client.stop.wait(pause):  # stopped: nothing was submitted, nothing is lost
                raise DeerimgError(
                    "stopped while the queue was full", request_id=request_id
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _poll(
    client: ApiClient,
    endpoint: Endpoint,
    base: str,
    task_id: str,
    deadline: float,
    on_state: Callable[[str, tasks.Polled], None],
    on_retry: Callable[[Retrying], None] | None,
) -> tasks.Polled:
    """Poll TASK_ID until it ends; the last answer, or its failure as one error."""
    wait = interval()
    url = tasks.poll_url(endpoint, base, task_id)
    while True:
        time.sleep(wait)  # not the stop's wait: a paid task is polled to its end
        try:
            answer = client.get_json(url, on_retry)
        except DeerimgError as error:  # retried already: the task is paid for and left pending
            raise TaskPending(
                f"task {task_id} is pending, its poll failed: {error.message}",
                hint=f"deerimg fetch {task_id} finishes it later, without paying again",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
            ) from error
        state = tasks.polled(endpoint, answer)
        on_state(task_id, state)
        if state.state == "done":
            return state
        if state.state == "failed":
            raise DeerimgError(f"task {task_id} failed: {state.message or state.status}")
        if time.monotonic() >= deadline:
            raise TaskPending(
                f"task {task_id} had not ended after {client.settings.timeout:g} s "
                f"(it says {state.status}); it stays pending",
                hint=f"deerimg fetch {task_id} finishes it later, without paying again",
            )
        wait = min(max(wait * 1.5, 0.0), MAX_INTERVAL)
