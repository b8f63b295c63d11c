"""The run's side of the history ledger: one line per request (its files, usage once) or failure."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from deerimg import history
from deerimg.errors import DeerimgError, TaskPending
from deerimg.events import Saved
from deerimg.routes import recorded
from deerimg.run.tasks import RunPolicy, Task
from deerimg.wire import links
from deerimg.wire.client import ApiResult


class Ledger:
    """Appends one history line per request (its files, usage once) or per failure."""

    def __init__(self, policy: RunPolicy, emit_warning: Callable[[str], None]) -> None:
        self._policy = policy
        self._warn = emit_warning
        self._broken = False
        self._pending: dict[str, str] | None = None  # a task's key → its pending task id
        self._lock = threading.Lock()
        # Which run wrote an entry, and from where (its files may be relative): `gallery --last`.
        self._run = {"run": os.urandom(6).hex(), "cwd": _cwd()}  # not secrets: 1.6 ms of imports

    def pending(self, task: Task) -> str | None:
        """The task an earlier run submitted for exactly TASK (command, model, prompt, fields,
        targets) and never finished: polled again instead of paying twice."""
        if not self._policy.history:
            return None
        with self._lock:
            if self._pending is None:
                self._pending = pending_tasks(history.read_entries()[0])
            return self._pending.pop(_key(self._policy.command, task), None)

    def submitted(
        self, task: Task, task_id: str, request_id: str | None, parent: str | None
    ) -> None:
        """A task API's task, written the moment its submit answers: paid for from here."""
        targets = [str(t.path) if t.path is not None else "-" for t in task.targets]
        about = {"id": task_id, "route": task.endpoint, "targets": targets}
        if parent is not None:
            about["parent"] = parent
        elif task.actions:
            about["actions"] = list(task.actions)
        self._append(task, "pending", request_id=request_id, task=about)

    def record(
        self,
        task: Task,
        saved: Sequence[Saved],
        answered: Sequence[ApiResult],
        seconds: float,
        error: DeerimgError | None = None,
        task_id: str | None = None,  # a task API's task, submitted before the error
    ) -> None:
        result = answered[0] if answered else None
        task_id = result.task_id if result is not None and result.task_id else task_id
        self._append(
            task,
            "failed" if error is not None else "ok",
            files=[s.record.path if s.record.path is not None else "-" for s in saved],
            usage=result.usage if result else None,
            svg_usage=result.svg_usage if result else None,
            sources=_sources(str(task.body.get("model")), saved, result) if result else (),
            request_id=result.request_id if result else (error.request_id if error else None),
            seconds=round(seconds, 3),
            error=error.as_dict() if error is not None else None,
            task=_about(task, task_id, error) if task_id else None,
            cost=(result.cost.usd, result.cost.source) if result and result.cost else None,
        )

    def _append(self, of: Task, outcome: str, **more: Any) -> None:
        if not self._policy.history or self._broken:
            return
        entry = history.build_entry(
            command=self._policy.command,
            prompt=of.job.prompt,
            model=str(of.body.get("model")),
            fields=fields_of(of),
            outcome=outcome,
            **more,
        )
        entry.update((k, v) for k, v in self._run.items() if v is not None)
        try:
            history.append(entry)
        except OSError as exc:
            self._broken = True
            self._warn(f"history not recorded ({exc.strerror}); --no-history turns it off")


def _cwd() -> str | None:
    try:
        return str(Path.cwd())
    except OSError:  # the folder was removed under the run
        return None


def _about(task: Task, task_id: str, error: DeerimgError | None) -> dict[str, Any]:
    """The task of a run's last entry; "pending": the run stopped waiting, the task goes on."""
    about: dict[str, Any] = {"id": task_id, "route": task.endpoint}
    if isinstance(error, TaskPending):
        about["pending"] = True
    return about


def fields_of(task: Task) -> dict[str, Any]:
    """The request's fields as the ledger keeps them: the body without its prompt, the files."""
    body = recorded(task.endpoint, task.body, task.job.prompt)
    fields = {k: v for k, v in body.items() if k != "prompt"}
    if task.files:
        fields["files"] = [str(image.path) for _, image in task.files]
    return fields


def _key(command: str, task: Task) -> str:
    targets = [str(t.path) if t.path is not None else "-" for t in task.targets]
    return _entry_key(
        command, str(task.body.get("model")), task.job.prompt, fields_of(task), targets
    )


def _entry_key(command: Any, model: Any, prompt: Any, fields: Any, targets: Any) -> str:
    return json.dumps([command, model, prompt, fields, targets], sort_keys=True, default=str)


def pending_tasks(entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each task still pending in ENTRIES (submitted, never finished nor failed), by the key of
    what it was asked for; a task its own run finished is not pending."""
    pending: dict[str, str] = {}
    ended: set[str] = set()
    for entry in reversed(entries):  # the newest first: an ending comes after its submit
        about = entry.get("task")
        if not isinstance(about, dict) or not isinstance(about.get("id"), str):
            continue
        if entry.get("outcome") != "pending" and not about.get("pending"):
            ended.add(about["id"])
        elif about["id"] not in ended and "parent" not in about:
            key = _entry_key(entry.get("command"), entry.get("model"), entry.get("prompt"),
                             entry.get("fields"), about.get("targets"))  # fmt: skip
            pending.setdefault(key, about["id"])
    return pending


def _sources(model: str, saved: Sequence[Saved], result: ApiResult) -> list[dict[str, Any]]:
    """Each URL image of the answer, in its order: the file it was saved as ("-": standard
    output), or None when it was not (a download that failed: its link may still fetch it)."""
    found = []
    for k, item in enumerate(result.data):
        source = links.source_of(item, model, result.received)
        if source is None:
            continue
        # send_task saves the answer's images in order, and stops at the first that fails.
        path = (saved[k].record.path or "-") if k < len(saved) else None
        found.append({"file": path, "source_url": source["url"], "url_expires": source["expires"]})
    return found
