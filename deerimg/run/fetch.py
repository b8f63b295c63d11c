"""`deerimg tasks` and `deerimg fetch`: the task APIs' tasks the ledger holds, and one finished.

A task's submit is written to the history ledger the moment it answers (run/ledger.py), its end
when it ends. A task whose submit is the last word about it is pending: a run was stopped, died,
or gave up waiting (--timeout). `fetch` polls it again, never submitting it anew, and writes its
images where the run that submitted it meant to (or to -o), with no file overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deerimg import history
from deerimg.errors import ExitCode, usage_error
from deerimg.events import Event, Finished, Note, Starting
from deerimg.families import family_of
from deerimg.jobs import paths
from deerimg.jobs.prompts import Job
from deerimg.routes import TASK_ROUTES
from deerimg.run import runner
from deerimg.run.tasks import RunPolicy, Task
from deerimg.settings.resolve import Settings


@dataclass(slots=True)
class TaskRow:
    """One task of the ledger: its latest state and what was asked of it."""

    id: str
    route: str
    state: str  # "pending", "failed" or "done"
    time: str | None
    model: str | None
    prompt: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    targets: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "route": self.route, "state": self.state, "time": self.time,
            "model": self.model, "prompt": self.prompt, "targets": self.targets,
            "error": self.error,
        }  # fmt: skip


def task_rows(entries: Sequence[Mapping[str, Any]]) -> list[TaskRow]:
    """Each task of ENTRIES (oldest first) with its latest state; a Midjourney action's own
    task is part of its grid's and not listed."""
    rows: dict[str, TaskRow] = {}
    for entry in entries:
        about = entry.get("task")
        if not isinstance(about, dict) or not isinstance(about.get("id"), str):
            continue
        if "parent" in about:
            continue
        task_id = about["id"]
        outcome = entry.get("outcome")
        row = rows.get(task_id)
        if row is None:
            row = rows[task_id] = TaskRow(
                task_id, str(about.get("route")), "pending", entry.get("time"),
                entry.get("model"), entry.get("prompt"),
            )  # fmt: skip
        if about.get("pending"):  # a run stopped waiting: the task goes on
            row.error = entry.get("error") if isinstance(entry.get("error"), dict) else None
        elif outcome == "pending":
            row.fields = dict(entry.get("fields") or {})
            row.targets = [str(t) for t in about.get("targets") or ()]
            row.actions = [str(a) for a in about.get("actions") or ()]
        else:
            row.state = "done" if outcome == "ok" else "failed"
            row.error = entry.get("error") if isinstance(entry.get("error"), dict) else None
    return list(rows.values())


def fetch(
    settings: Settings,
    task_id: str | None,
    policy: RunPolicy,
    emit: Callable[[Event], None],
    model: str | None = None,
) -> int:
    """Finish TASK_ID, or every pending task of the ledger (None): poll each (never submit it
    again) and write its images; the exit code."""
    settings.require_key()
    rows = task_rows(history.read_entries()[0])
    if task_id is None:
        if policy.output is not None:
            raise usage_error("-o names one task's images: give its TASK_ID too")
        chosen = [row for row in rows if row.state == "pending"]
        if not chosen:
            emit(Note("no pending task in the history ledger: nothing to fetch"))
            return ExitCode.OK
    else:
        row = next((r for r in rows if r.id == task_id), None)
        if row is None and model is None:
            raise usage_error(
                f"task {task_id} is not in the history ledger",
                hint="give the model it was submitted to: deerimg fetch ID -m flux-kontext-pro",
            )
        if row is not None and row.state == "done" and policy.output is None:
            emit(Note(f"task {task_id} has ended and its images were saved: "
                      f"{', '.join(row.targets)}"))  # fmt: skip
            return ExitCode.OK
        chosen = [row or TaskRow(task_id, "", "pending", None, model, None)]
    work = [_task(k, row, model, policy, settings) for k, row in enumerate(chosen, start=1)]
    emit(
        Starting(len(work), work[0].job.prompt or work[0].resume or "", str(work[0].body["model"]))
    )
    summary = runner.run(work, settings, emit, policy=policy)
    emit(Finished(summary))
    return summary.exit_code


def _task(
    number: int, row: TaskRow, model: str | None, policy: RunPolicy, settings: Settings
) -> Task:
    """The Task that takes up ROW's task: its request as the ledger holds it, its targets."""
    model = model or row.model or ""
    route = family_of(model).route
    if route not in TASK_ROUTES:
        raise usage_error(f"{model} is not served as a task ({family_of(model).title})")
    prompt = row.prompt or ""
    fields = {k: v for k, v in row.fields.items() if k != "files"}
    actions = tuple(row.actions)
    targets = _targets(row, prompt, model, len(actions) + 1, policy, settings.output_dir)
    return Task(
        number, Job(prompt), {"model": model, **fields}, targets, endpoint=route,  # type: ignore[arg-type]
        resume=row.id, actions=actions,
    )  # fmt: skip


def _targets(
    row: TaskRow,
    prompt: str,
    model: str,
    count: int,
    policy: RunPolicy,
    output_dir: Path,
) -> tuple[paths.Target, ...]:
    """Where the images go: -o; else where the submitting run meant them to go, while none of
    those files is there; else default names that are free."""
    if policy.output is None and row.targets:
        planned = tuple(paths.Target(Path(t)) for t in row.targets if t != "-")
        if planned and not any(p.exists() for t in planned for p in paths.final_paths(t)):
            return planned
    info = paths.NameInfo(prompt or "task", count, model, None, None)
    (plan,) = paths.plan([info], policy.output, output_dir, force=policy.force)
    return plan.targets
