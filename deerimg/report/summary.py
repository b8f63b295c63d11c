"""A run's last lines: what was saved, failed, skipped and not run, its tokens and its cost.

With -j auto and --json, the last record too: the rate the run reached."""

from __future__ import annotations

from typing import Any

from deerimg.events import Summary


def summary_lines(summary: Summary) -> list[str]:
    """The summary's line, then each model's (several -m), then the budget's when it stopped."""
    parts = _saved_and_failed(summary.images, summary.failed)
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped (already there)")
    if summary.not_run:
        parts.append(f"{summary.not_run} not run")
    tokens = summary.tokens
    text = ", ".join(parts)
    text += f"; tokens: input {tokens['input']:,}, output {tokens['output']:,}, "
    text += f"total {tokens['total']:,}; {cost_text(summary.cost_usd, summary.cost_unknown)}"
    text += f"; {summary.elapsed:.1f} s"
    head = "interrupted: " if summary.interrupted else "done: "
    lines = [head + text]
    lines += [f"  {model}: {_counts(counts)}" for model, counts in summary.models.items()]
    if summary.pace is not None:
        reached, paced, refused = summary.pace
        rate = f"{reached:.0f} requests a minute accepted" if reached else "rate not measured"
        lines.append(
            f"  -j auto: {rate}, paced at {paced:.0f}/min at the end, {refused} answered 429"
        )
    if summary.budget_stopped and summary.budget is not None:
        lines.append(
            f"  the budget (--max-cost {summary.budget:g}) stopped the run: "
            f"{cost_text(summary.cost_usd, summary.cost_unknown)}; --skip-existing with a new "
            "budget goes on where it stopped"
        )
    return lines


def pace_record(summary: Summary) -> dict[str, Any] | None:
    """-j auto's last --json record, after the images': the rate the run reached. None on a
    fixed -j N, whose records stay as they were."""
    if summary.pace is None:
        return None
    reached, paced, refused = summary.pace
    return {
        "summary": {
            "rate_per_minute": round(reached, 1) if reached else None,  # accepted, first to last
            "paced_per_minute": round(paced, 1),  # the pacer's rate at the end
            "answered_429": refused,
            "images": summary.images,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "not_run": summary.not_run,
            "elapsed_s": round(summary.elapsed, 3),
        }
    }


def cost_text(usd: float, unknown: int) -> str:
    """'cost $0.1234', 'cost $0.08 + 2 answers of unknown cost', 'cost unknown'."""
    if unknown and not usd:
        return "cost unknown"
    known = f"cost ${usd:.4f}".rstrip("0").rstrip(".") if usd else "cost $0"
    if unknown:
        return f"{known} + {unknown} answer{'s' * (unknown > 1)} of unknown cost"
    return known


def _saved_and_failed(saved: int, failed: int) -> list[str]:
    """['3 images saved', '1 prompt failed']: the failed only when some did."""
    parts = [f"{saved} image{'s' if saved != 1 else ''} saved"]
    if failed:
        parts.append(f"{failed} prompt{'s' if failed != 1 else ''} failed")
    return parts


def _counts(counts: dict[str, int]) -> str:
    """'3 images saved, 1 prompt failed, 2 skipped': one model's line of the summary."""
    parts = _saved_and_failed(counts["saved"], counts["failed"])
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped")
    return ", ".join(parts)
