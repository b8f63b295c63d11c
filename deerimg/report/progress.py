"""The live display of a run on stderr's terminal: a spinner for one image, a bar for a batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def live_display(console: Console, total: int, first_prompt: str, model: str) -> tuple[Any, Any]:
    """A transient rich Progress for TOTAL requests, not started, and its one task's id: the
    batch's bar counts images and failures and shows -j auto's pace; one image gets a spinner
    with its prompt."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    if total > 1:
        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]}"),
            TextColumn("{task.fields[rate]}"),  # -j auto's pace
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        ]
        description = f"Generating with {model}"
    else:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
        shown = first_prompt if len(first_prompt) <= 50 else first_prompt[:49] + "…"
        description = f"Generating “{shown}” with {model}"
    progress = Progress(*columns, console=console, transient=True)
    return progress, progress.add_task(description, total=total, failed="", rate="")
