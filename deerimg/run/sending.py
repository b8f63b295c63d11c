"""One task's request sent in one of the -j slots, and its answer.

The images endpoints (streamed or not), Google's generateContent, or a task API's task,
submitted and polled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from deerimg.events import Event, Note, Retrying, TaskUpdate
from deerimg.routes import TASK_ROUTES
from deerimg.run.tasks import Task
from deerimg.wire.client import ApiClient, ApiResult, OnPartial

if TYPE_CHECKING:
    from deerimg.wire.tasks import Polled


class _Slot:
    """One of the -j request slots, held from sending until the answer is in, released once."""

    def __init__(self, slots: threading.Semaphore) -> None:
        slots.acquire()
        self._slots = slots
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots.release()


def request(
    client: ApiClient,
    task: Task,
    slots: threading.Semaphore,
    emit: Callable[[Event], None],
    on_retry: Callable[[Retrying], None],
    sending: Callable[[], None],
    submitted: Callable[[str, str | None], None],
    on_partial: OnPartial | None = None,
) -> ApiResult:
    """TASK's answer, its request sent once it has a slot. SENDING is told then (it may hold the
    request back: --max-cost); the slot is given back as soon as the answer is in, so the next
    request goes out while this thread parses, decodes and writes (about 12 ms an image)."""
    slot = _Slot(slots)
    try:
        sending()
        if task.endpoint == "edits":
            return client.edit(
                task.body, task.files, on_retry, received=slot.release, on_partial=on_partial
            )
        if task.endpoint == "gemini":
            return client.gemini(task.body, task.files, on_retry=on_retry, received=slot.release)
        if task.endpoint in TASK_ROUTES:
            return _task(client, task, emit, on_retry, slot.release, submitted)
        return client.generate(
            task.body, task.files, on_retry, received=slot.release, on_partial=on_partial
        )
    finally:
        slot.release()


def _task(
    client: ApiClient,
    task: Task,
    emit: Callable[[Event], None],
    on_retry: Callable[[Retrying], None],
    received: Callable[[], None],
    submitted: Callable[[str, str | None], None],
) -> ApiResult:
    """A task API's task submitted (or taken up where an earlier run left it) and polled."""
    from deerimg.wire import polling  # imported where used: most runs poll nothing

    where = task.job.where

    def told(task_id: str, request_id: str | None) -> None:
        submitted(task_id, request_id)  # the ledger first: from here it is paid for
        emit(TaskUpdate(where, task_id))

    def state(task_id: str, polled: Polled) -> None:
        emit(TaskUpdate(where, task_id, polled.status, polled.progress))

    if task.resume is not None:
        emit(Note(f"{where}task {task.resume} was submitted by an earlier run; taking it up"))
    return polling.run_task(
        client, task.endpoint, task.body, task.files, submitted=told, on_state=state,
        on_retry=on_retry, received=received, task_id=task.resume, actions=task.actions,
    )  # fmt: skip
