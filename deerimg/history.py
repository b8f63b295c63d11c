"""The history ledger: a JSON line per request or failure, appended whole, read, summed."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from deerimg.events import token_counts
from deerimg.prices import cost_of_entry
from deerimg.settings.dirs import data_dir
from deerimg.values import non_finite

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; O_APPEND and the thread lock remain
    fcntl = None  # type: ignore[assignment]

LEDGER_NAME = "history.jsonl"
_lock = threading.Lock()  # threads of one process; flock orders the processes
_RELATIVE = re.compile(r"^(\d+)\s*([dhw])$")
# Where a search looks: what a person remembers of a request, never the field names.
SEARCHED = ("prompt", "revised_prompt", "model", "command", "files", "request_id", "error")


def ledger_path() -> Path:
    return data_dir() / LEDGER_NAME


def now_iso(now: datetime | None = None) -> str:
    """An ISO-8601 UTC time to the second, as entries hold it: 2026-11-24T09:30:00Z."""
    when = now or datetime.now(timezone.utc)
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_entry(
    *,
    command: str,
    prompt: str | None,
    model: str | None,
    fields: Mapping[str, Any],
    outcome: str,
    files: Sequence[str] = (),
    usage: Mapping[str, Any] | None = None,
    request_id: str | None = None,
    seconds: float | None = None,
    error: Mapping[str, Any] | None = None,
    time: datetime | None = None,
    svg_usage: Mapping[str, Any] | None = None,
    sources: Sequence[Mapping[str, Any]] = (),
    task: Mapping[str, Any] | None = None,
    cost: tuple[float | None, str] | None = None,
) -> dict[str, Any]:
    """One ledger line: a request with every file it wrote (usage once), or a failure.

    outcome: "ok", "failed" or "interrupted". fields: the request body minus prompt. files: the
    saved paths ("-" for standard output). error: status, message, code of a failure.
    svg_usage: an SVG answer's own tokens, kept beside usage. sources: where a URL answer's
    images came from, one per image ({"file", "source_url", "url_expires"}; file None: not saved).
    task: a task API's task ({"id", "route"}, and "targets" when it is just submitted: outcome
    "pending"; "parent": the task a Midjourney action ran on). cost: what the answer cost in
    USD (None: unknown) and how that was found ("usage", "per_image", "unknown").
    """
    entry: dict[str, Any] = {
        "time": now_iso(time),
        "command": command,
        "prompt": prompt,
        "model": model,
        "fields": dict(fields),
        "files": list(files),
        "usage": dict(usage) if usage else None,
        **({"svg_usage": dict(svg_usage)} if svg_usage else {}),
        **({"sources": [dict(source) for source in sources]} if sources else {}),
        "request_id": request_id,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "outcome": outcome,
        **({"task": dict(task)} if task else {}),
        **({"cost_usd": cost[0], "cost_source": cost[1]} if cost else {}),
    }
    if error:
        entry["error"] = dict(error)
    return entry


def append(entry: Mapping[str, Any], path: Path | None = None) -> Path:
    """Append ENTRY as one line, whole, even with other threads and processes appending.

    One write of a complete line to a file opened O_APPEND, under an exclusive flock. A last
    line torn by a crash (no final newline) gets one first, so this entry starts its own line.
    The folder is made 0700 and the file 0600: prompts are private. Raises OSError.
    """
    path = path or ledger_path()
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)
    # JSON escapes every newline inside strings. A file name that is not UTF-8 (its bytes
    # held as lone surrogates) cannot be written as UTF-8: those characters become "?".
    data = line.encode("utf-8", "replace") + b"\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes
            end = os.lseek(fd, 0, os.SEEK_END)
            if end > 0:
                os.lseek(fd, end - 1, os.SEEK_SET)
                if os.read(fd, 1) != b"\n":
                    data = b"\n" + data
            written = os.write(fd, data)
            while written < len(data):  # a short write (a full disk, a signal): finish the line
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)
    return path


def read_entries(path: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every entry in file order, and how many lines were not entries (torn, hand-edited).

    A missing ledger is empty. The file is never rewritten. Lines split at b"\\n" only, as
    written (str.splitlines would also split at U+2028 and others inside a prompt).
    """
    path = path or ledger_path()
    entries: list[dict[str, Any]] = []
    corrupt = 0
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return entries, 0
    with handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except (ValueError, RecursionError):  # UnicodeDecodeError is one; [[[… too deep
                corrupt += 1
                continue
            # deerimg never writes NaN or 1e999 (inf), which --json could only print as
            # Infinity: such a line was edited by hand, and is unreadable.
            if isinstance(entry, dict) and non_finite(entry) is None:
                entries.append(entry)
            else:
                corrupt += 1
    return entries, corrupt


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    """The entry's time in UTC, or None when it has none or it cannot be read."""
    value = entry.get("time")
    if not isinstance(value, str):
        return None
    try:  # Python 3.10's fromisoformat does not take "Z"
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        # In UTC now, so a time that only reads in its own zone (0001-01-01T00:00+01:00 is in
        # year 0 in UTC) is unreadable here, not an OverflowError wherever it is used later.
        return when.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def _day(when: datetime | None, tz: tzinfo | None) -> str:
    """WHEN's date in TZ (local by default), or "unknown", as for an entry without a time."""
    if when is None:
        return "unknown"
    try:
        return when.astimezone(tz).date().isoformat()
    except (ValueError, OverflowError):  # 0001-01-01T00:30Z west of UTC, 9999-12-31 east
        return "unknown"


def parse_since(text: str, *, now: datetime | None = None, tz: tzinfo | None = None) -> datetime:
    """--since: a date (midnight in TZ, local by default), an ISO time, or 3d / 12h / 2w ago.

    Raises ValueError naming the accepted forms.
    """
    text = text.strip()
    match = _RELATIVE.match(text)
    if match:
        unit = {"d": "days", "h": "hours", "w": "weeks"}[match.group(2)]
        start = now or datetime.now(timezone.utc)
        try:
            return start - timedelta(**{unit: int(match.group(1))})
        except OverflowError:  # 999999d: before year 1
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            when = datetime(day.year, day.month, day.day)
        else:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD, an ISO time, or 3d, 12h, 2w"
        ) from None
    if when.tzinfo is None:  # a wall-clock time: the local one unless TZ is given
        try:
            when = when.astimezone() if tz is None else when.replace(tzinfo=tz)
        except (ValueError, OverflowError):  # 0001-01-01 east of UTC is in year 0
            raise ValueError(f"{text!r} is out of the range of dates") from None
    return when


def _strings(value: Any) -> Iterable[str]:
    # A loop, not recursion: a hand-edited line nested almost as deep as json.loads reads must
    # not end a --search in a RecursionError.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _matches(entry: Mapping[str, Any], needle: str) -> bool:
    return any(needle in text.casefold() for key in SEARCHED for text in _strings(entry.get(key)))


def filter_entries(
    entries: Iterable[Mapping[str, Any]],
    n: int | None = None,
    search: str | None = None,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    """The last N entries (file order kept) whose prompt, model, files … contain SEARCH
    (case-insensitive) and whose time is at or after SINCE; entries without a time never match
    SINCE.
    """
    needle = search.casefold() if search else None
    kept: list[dict[str, Any]] = []
    for entry in entries:
        if needle and not _matches(entry, needle):
            continue
        if since is not None:
            when = entry_time(entry)
            if when is None or when < since:
                continue
        kept.append(dict(entry))
    if n is not None:
        kept = kept[-n:] if n > 0 else []
    return kept


@dataclass(slots=True)
class UsageRow:
    day: str  # YYYY-MM-DD in the zone asked for
    model: str
    requests: int  # requests that made images
    failed: int
    images: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost_usd: float | None = 0.0  # the known costs' sum; None: only unknown costs
    cost_unknown: int = 0  # answers of unknown cost (then cost_usd is a lower bound)


def usage_by_day_and_model(
    entries: Iterable[Mapping[str, Any]], tz: tzinfo | None = None
) -> list[UsageRow]:
    """Images, tokens and cost per day (in TZ, local by default) and model, by day then model.

    One entry is one request, so its usage counts once however many files it lists, its
    svg_usage with it. A total missing from either is input plus output, as the run summary
    counts it. Its cost: prices.cost_of_entry (a failure without an answer costs nothing).
    """
    rows: dict[tuple[str, str], UsageRow] = {}
    for entry in entries:
        day = _day(entry_time(entry), tz)
        named = entry.get("model")
        model = named if isinstance(named, str) else "unknown"
        row = rows.setdefault((day, model), UsageRow(day, model, 0, 0, 0, 0, 0, 0))
        ok = entry.get("outcome") == "ok"
        row.requests, row.failed = row.requests + ok, row.failed + (not ok)
        files = entry.get("files")
        row.images += len(files) if isinstance(files, list) else 0
        given_in, given_out, total = token_counts(entry.get("usage"), entry.get("svg_usage"))
        row.input_tokens += given_in
        row.output_tokens += given_out
        row.total_tokens += total
        cost = cost_of_entry(entry)
        if cost is not None:
            row.cost_unknown += cost.usd is None
            row.cost_usd = round((row.cost_usd or 0) + (cost.usd or 0), 6)
    for row in rows.values():  # only unknown costs: unknown, never 0
        row.cost_usd = None if row.cost_unknown and not row.cost_usd else row.cost_usd
    return [rows[key] for key in sorted(rows)]
