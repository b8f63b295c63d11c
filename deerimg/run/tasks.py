"""What a run is given: its tasks (one prompt each, ready to send) and the one policy of the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deerimg.imaging.inputs import InputImage
from deerimg.jobs.paths import Target
from deerimg.jobs.prompts import Job
from deerimg.routes import Endpoint

COMMAND_OF: dict[Endpoint, str] = {"generations": "generate", "edits": "edit"}


@dataclass(slots=True)
class Task:
    """One prompt, ready to send: its body and where each of its images goes."""

    number: int  # 1-based position in the run
    job: Job
    body: dict[str, Any]
    targets: tuple[Target, ...]
    files: tuple[tuple[str, InputImage], ...] = ()  # an edit's uploads, or inline references
    endpoint: Endpoint = "generations"  # where it goes: "edits" when it uploads files
    resume: str | None = None  # a task API's task an earlier run submitted: polled, not sent
    actions: tuple[str, ...] = ()  # Midjourney: the buttons run on the grid (U1…U4)
    estimate_usd: float | None = None  # what it should cost (prices.estimate_of); None: unknown

    @property
    def model(self) -> str:
        return str(self.body.get("model"))


@dataclass(slots=True)
class RunPolicy:
    """How one run of `generate` or `edit` behaves, from its flags and settings."""

    endpoint: Endpoint = "generations"  # the command: generate, or edit (its task may not be)
    output: str | None = None  # -o, as given
    force: bool = False  # --force: explicit targets may be replaced
    skip_existing: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    json_lines: bool = False
    quiet: bool = False
    debug: bool = False  # tracebacks of failed prompts too
    metadata: bool = True  # embed provenance (XMP), or a sidecar where embedding can't be done
    sidecar: bool = False  # always write FILE.json as well
    history: bool = True  # --no-history, or config history = false
    max_cost: float | None = None  # --max-cost USD (or config max-cost): never passed
    # Every path the run's prompts may end at, skipped ones too: an image beyond those asked for
    # is kept under none of them, or a --skip-existing re-run would take it for that prompt's.
    planned: frozenset[Path] = frozenset()
    by_model: bool = False  # -m given more than once: the summary counts per model (issue 17)
    # --partial-images: each partial written beside its target; off when --preview shows them
    partial_files: bool = True

    @property
    def command(self) -> str:
        return COMMAND_OF[self.endpoint]
