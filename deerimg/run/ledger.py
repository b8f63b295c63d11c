"""The run's side of the history ledger: one line per request (its files, usage once) or failure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from deerimg import history
from deerimg.errors import DeerimgError
from deerimg.events import Saved
from deerimg.run.tasks import RunPolicy, Task
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
        fields = {k: v for k, v in task.body.items() if k != "prompt"}
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
            request_id=result.request_id if result else (error.request_id if error else None),
            seconds=round(seconds, 3),
            error=error.as_dict() if error is not None else None,
        )
        try:
            history.append(entry)
        except OSError as exc:
            self._broken = True
            self._warn(f"history not recorded ({exc.strerror}); --no-history turns it off")
