"""What a run tells as it goes: plain records the runner and the wire emit and the report draws.

Records here and elsewhere are not frozen: frozen=True costs 0.2 ms a class at every start, 6 ms
over deerimg's 27 (issue 10). Nothing assigns to them after they are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deerimg.errors import DeerimgError, ExitCode
from deerimg.values import whole_number


@dataclass(slots=True)
class Retrying:
    """A retry about to happen, announced with the status (or the network error) and request id."""

    reason: str
    request_id: str | None
    wait: float
    attempt: int  # 1-based number of this retry
    retries: int
    status: int | None = None
    billed: bool = False  # the request it sends again may have been charged (--retry-timeouts)


@dataclass(slots=True)
class RateSignal:
    """What one answer says of the rate limit: its status, Retry-After, x-ratelimit-*-requests."""

    status: int
    retry_after: float | None = None  # seconds
    exact: bool = False  # RETRY_AFTER to the millisecond (retry-after-ms, or a fraction)
    limit: float | None = None  # x-ratelimit-limit-requests: requests a minute
    remaining: float | None = None  # x-ratelimit-remaining-requests
    reset: float | None = None  # x-ratelimit-reset-requests, in seconds


def token_counts(*usages: Any) -> tuple[int, int, int]:
    """(input, output, total) tokens of one answer's usage objects added up: its `usage` and its
    `svg_usage` (OpenAI's SVG output, November 2026). In each, a missing total is input + output;
    reasoning_tokens are not added again (OpenAI counts them in the output and the total)."""
    sums = [0, 0, 0]
    for usage in usages:
        usage = usage if isinstance(usage, dict) else {}
        given_in = whole_number(usage.get("input_tokens")) or 0
        given_out = whole_number(usage.get("output_tokens")) or 0
        total = whole_number(usage.get("total_tokens")) or given_in + given_out
        sums = [sums[0] + given_in, sums[1] + given_out, sums[2] + total]
    return sums[0], sums[1], sums[2]


@dataclass(slots=True)
class ImageRecord:
    """One saved image as --json prints it: the contract's record, ready to serialise."""

    path: str | None  # None: standard output
    prompt: str
    model: Any
    size: Any
    quality: Any
    output_format: str
    bytes: int
    revised_prompt: str | None
    usage: dict[str, Any] | None
    request_id: str | None
    elapsed: float  # seconds from sending to the answer
    svg_usage: dict[str, Any] | None = None  # an SVG's own tokens, beside usage: in --json if any
    # A URL answer's link and when it stops working (wire/links.py): in --json if it was one.
    source_url: str | None = None
    url_expires: str | None = None
    task_id: str | None = None  # a task API's task that made it: in --json if it was one
    cost_usd: float | None = None  # its share of its answer's cost; None: unknown
    cost_source: str = "unknown"  # "usage", "per_image" or "unknown" (prices.Cost)
    request_cost: float | None = None  # its whole answer's, for the saved line

    def as_json(self) -> dict[str, Any]:
        record = {
            "path": self.path,
            "prompt": self.prompt,
            "model": self.model,
            "size": self.size,
            "quality": self.quality,
            "output_format": self.output_format,
            "bytes": self.bytes,
            "revised_prompt": self.revised_prompt,
            "usage": self.usage,
        }
        if self.svg_usage is not None:
            record["svg_usage"] = self.svg_usage
        if self.source_url is not None:
            record.update(source_url=self.source_url, url_expires=self.url_expires)
        if self.task_id is not None:
            record["task_id"] = self.task_id
        record.update(cost_usd=self.cost_usd, cost_source=self.cost_source)
        record.update(request_id=self.request_id, elapsed_s=round(self.elapsed, 3))
        return record


@dataclass(slots=True)
class Starting:
    """A run is about to send TOTAL prompts (the first one's text, for a single prompt)."""

    total: int
    first_prompt: str
    model: str


@dataclass(slots=True)
class Started:
    number: int
    prompt: str


@dataclass(slots=True)
class RetryEvent:
    where: str  # "prompts.txt line 3: " for a prompt from a file, else ""
    retry: Retrying


@dataclass(slots=True)
class TaskUpdate:
    """A task API's task: submitted (its id, kept in the ledger), or what a poll says of it."""

    where: str
    task_id: str
    status: str | None = None  # None: just submitted
    progress: str | None = None  # Midjourney's "45%"


@dataclass(slots=True)
class Saved:
    record: ImageRecord
    pixels: tuple[int, int] | None
    first: bool  # the first image of its request: usage is counted once per request
    warning: str | None = None
    provenance: str | None = None  # "embedded", "sidecar" or None
    c2pa: bool = False  # signed content credentials: the bytes were left exactly as sent
    task: int = 0  # the task's number: its partial images' preview gives way to it


@dataclass(slots=True)
class Partial:
    """A streamed partial image of task NUMBER (--partial-images): shown by --preview in place
    of the one before; PATH is its file, when one was written."""

    number: int
    index: int  # 0-based, as the API counts them
    data: bytes
    path: str | None
    pixels: tuple[int, int] | None


@dataclass(slots=True)
class Failed:
    prompt: str
    where: str
    error: DeerimgError
    model: str | None = None  # the model it was sent to, for --json


@dataclass(slots=True)
class NotRun:
    """A prompt the run stopped before (Ctrl-C, --fail-fast, a refused key): --json tells it."""

    prompt: str
    reason: str
    model: str | None = None
    code: str = "not_run"  # "budget": --max-cost held it back


@dataclass(slots=True)
class Note:
    """Something a person should know once, such as a history ledger that cannot be written."""

    text: str
    plain: bool = False  # information, not a warning: a line of its own, no "warning:"
    once: bool = False  # told once a run, however many tasks find it


@dataclass(slots=True)
class DryRun:
    """One request as --dry-run prints it instead of sending it."""

    request: dict[str, Any]


@dataclass(slots=True)
class Paced:
    """-j auto's rate now, in requests a minute, for the progress line."""

    per_minute: float


@dataclass(slots=True)
class StoppedAtOnce:
    """A second Ctrl-C: the process leaves now, without a summary."""


@dataclass(slots=True)
class Summary:
    prompts: int = 0
    images: int = 0
    failed: int = 0
    skipped: int = 0
    not_run: int = 0
    finished: int = 0  # prompts whose every image was saved
    tokens: dict[str, int] = field(default_factory=lambda: {"input": 0, "output": 0, "total": 0})
    cost_usd: float = 0.0  # the answers whose cost is known
    cost_unknown: int = 0  # answers whose cost is not
    budget: float | None = None  # --max-cost, when given
    budget_stopped: bool = False  # it held requests back
    elapsed: float = 0.0
    interrupted: bool = False
    stopped_by: int | None = None  # the signal that interrupted the run: SIGINT, SIGTERM, SIGHUP
    fatal: DeerimgError | None = None
    # With several -m (issue 17): model → {"saved": images, "failed": prompts, "skipped": …}.
    models: dict[str, dict[str, int]] = field(default_factory=dict)
    # -j auto: (requests accepted a minute, first to last or None, the paced rate at the end, 429s)
    pace: tuple[float | None, float, int] | None = None

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            # 128 + the signal, as the shell reports a process that signal ended: 130 for Ctrl-C
            # (the contract's), 143 for SIGTERM and 129 for SIGHUP (what callers got before).
            return 128 + self.stopped_by if self.stopped_by else ExitCode.INTERRUPTED
        if self.fatal is not None:
            return self.fatal.exit_code
        return ExitCode.FAILURE if self.failed or self.not_run else ExitCode.OK

    def tally(self, model: str, what: str, count: int = 1) -> None:
        """Count COUNT of WHAT (saved, failed, skipped) for MODEL in the per-model breakdown."""
        counts = self.models.setdefault(model, {"saved": 0, "failed": 0, "skipped": 0})
        counts[what] += count

    def add_cost(self, usd: float | None) -> None:
        """One answer's cost; None: unknown (no price, or no usage to price)."""
        if usd is None:
            self.cost_unknown += 1
        else:
            self.cost_usd += usd

    def add_usage(
        self, usage: dict[str, Any] | None, svg_usage: dict[str, Any] | None = None
    ) -> None:
        given_in, given_out, total = token_counts(usage, svg_usage)
        self.tokens["input"] += given_in
        self.tokens["output"] += given_out
        self.tokens["total"] += total


@dataclass(slots=True)
class Finished:
    summary: Summary


Event = (
    Starting | Started | RetryEvent | TaskUpdate | Saved | Failed | NotRun | Note | DryRun
    | StoppedAtOnce | Finished | Paced | Partial
)  # fmt: skip
