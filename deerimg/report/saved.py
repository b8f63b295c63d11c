"""The lines on standard error that tell of one saved image: pure; a run's report says them."""

from __future__ import annotations

from deerimg.events import Saved
from deerimg.report.summary import cost_text
from deerimg.report.terminal import DETAIL, SAVED, WARNING
from deerimg.report.tokens import format_usage


def saved_lines(
    event: Saved, *, rich: bool, batch: bool, c2pa: bool
) -> list[tuple[str, str | None]]:
    """(text, style) of each line: a warning, the C2PA note when C2PA (once a run), the saved
    path with its pixels, bytes and time, the revised prompt, and (one image alone) its usage
    and cost."""
    record = event.record
    lines: list[tuple[str, str | None]] = []
    if event.warning:
        lines.append((f"warning: {event.warning}", WARNING))
    if c2pa:
        where = "a sidecar FILE.json" if event.provenance == "sidecar" else "no file"
        lines.append((
            "warning: images with C2PA content credentials are saved exactly as sent (changing "
            f"a byte breaks the signature); deerimg's provenance went to {where}",
            WARNING,
        ))  # fmt: skip
    where = record.path if record.path is not None else "standard output"
    pixels = f"{event.pixels[0]}x{event.pixels[1]}, " if event.pixels else ""
    mark = "✓ " if rich else ""
    took = f"{record.bytes:,} bytes, {record.elapsed:.1f} s"
    lines.append((f"{mark}saved {where} ({pixels}{took})", SAVED))
    if record.revised_prompt:  # what was made, in a batch too (the contract's stderr)
        lines.append((f"  revised prompt: {record.revised_prompt}", DETAIL))
    if not batch and event.first:  # a batch's summary has the token totals
        usage = format_usage(record.usage, record.svg_usage)
        cost = cost_text(record.request_cost or 0.0, 1 if record.request_cost is None else 0)
        lines.append((f"  {usage}; {cost}" if usage else f"  {cost}", DETAIL))
    return lines
