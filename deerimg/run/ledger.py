"""The run's side of the history ledger: one line per request (its files, usage once) or failure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deerimg import history
from deerimg.errors import DeerimgError
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

    def record(
        self,
        task: Task,
        saved: Sequence[Saved],
        answered: Sequence[ApiResult],
        seconds: float,
        error: DeerimgError | None = None,
    ) -> None:
        if not self._policy.history or self._broken:
            return
        result = answered[0] if answered else None
        body = recorded(task.endpoint, task.body, task.job.prompt)
        fields = {k: v for k, v in body.items() if k != "prompt"}
        if task.files:
            fields["files"] = [str(image.path) for _, image in task.files]
        entry = history.build_entry(
            command=self._policy.command,
            prompt=task.job.prompt,
            model=str(task.body.get("model")),
            fields=fields,
            outcome="failed" if error is not None else "ok",
            files=[s.record.path if s.record.path is not None else "-" for s in saved],
            usage=result.usage if result else None,
            svg_usage=result.svg_usage if result else None,
            sources=_sources(str(task.body.get("model")), saved, result) if result else (),
            request_id=result.request_id if result else (error.request_id if error else None),
            seconds=round(seconds, 3),
            error=error.as_dict() if error is not None else None,
        )
        try:
            history.append(entry)
        except OSError as exc:
            self._broken = True
            self._warn(f"history not recorded ({exc.strerror}); --no-history turns it off")


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
