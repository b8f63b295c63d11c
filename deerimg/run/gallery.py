"""What a gallery shows: the images chosen (files, a folder, the last run, history), their facts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from deerimg import history
from deerimg.atomic import write_atomic
from deerimg.errors import DeerimgError, ExitCode, usage_error
from deerimg.imaging.metadata import describe
from deerimg.prices import cost_of_entry

PAGE_NAME = "gallery.html"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".svg")
# A ledger written before entries named their run: its requests follow one another (or overlap,
# under -j) with no more than this between one's end and the next one's start.
RUN_GAP = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class Card:
    """One image of the gallery and what is known of how it was made."""

    path: Path
    prompt: str | None
    model: str | None
    pixels: str | None  # "1024x1024"
    cost_usd: float | None  # the request's, when known
    images: int  # how many images that request made (its cost is theirs together)
    date: str | None  # ISO 8601
    request_id: str | None
    source: str  # where the facts come from: "embedded", "sidecar", "ledger" or "none"


def entry_files(entry: Mapping[str, Any], here: Path) -> list[Path]:
    """The files ENTRY saved, as paths from HERE (a relative name is its run's folder's)."""
    files = entry.get("files")
    if not isinstance(files, list):
        return []
    cwd = entry.get("cwd")
    base = Path(cwd) if isinstance(cwd, str) and cwd else here
    return [base / name for name in files if isinstance(name, str) and name not in ("", "-")]


def latest_run(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The entries of the newest run: those sharing the last entry's run id; for entries written
    before runs had ids, the last entry and those before it of the same command that end no more
    than RUN_GAP before the earliest start seen so far (a batch's requests follow one another)."""
    if not entries:
        return []
    last = entries[-1]
    if isinstance(last.get("run"), str):
        return [entry for entry in entries if entry.get("run") == last["run"]]
    chosen: list[Mapping[str, Any]] = []
    earliest = None
    for entry in reversed(entries):
        end = history.entry_time(entry)
        if "run" in entry or entry.get("command") != last.get("command") or end is None:
            break
        if earliest is not None and end < earliest - RUN_GAP:
            break
        seconds = entry.get("seconds")
        took = float(seconds) if isinstance(seconds, (int, float)) and seconds >= 0 else 0.0
        start = end - timedelta(seconds=min(took, 86400))
        earliest = start if earliest is None else min(earliest, start)
        chosen.append(entry)
    return chosen[::-1]


def folder_images(folder: Path) -> list[Path]:
    """The images of FOLDER (by their extension), by name; not its subfolders'."""
    try:
        found = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    except OSError as exc:
        raise usage_error(f"cannot read the folder {folder}: {exc.strerror or exc}") from None
    return sorted(found)


def unique(paths: Iterable[Path]) -> list[Path]:
    """PATHS without repeats (the same file by two names counts once), first seen first."""
    seen: set[str] = set()
    kept = []
    for path in paths:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            kept.append(path)
    return kept


def by_file(entries: Iterable[Mapping[str, Any]], here: Path) -> dict[str, Mapping[str, Any]]:
    """The newest ledger entry that saved each file, by the file's real path."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry in entries:
        for path in entry_files(entry, here):
            found[os.path.realpath(path)] = entry
    return found


def card(path: Path, ledger: Mapping[str, Mapping[str, Any]]) -> tuple[Card, list[str]]:
    """PATH's card: its own record (embedded or a sidecar) first, else its ledger entry's; and
    the warnings describe() gave. Raises DeerimgError when PATH is no image that can be read."""
    info, warnings = describe(path)
    record = info.get("record") or {}
    entry = ledger.get(os.path.realpath(path)) or {}
    cost = cost_of_entry(entry) if entry else None
    files = entry.get("files")

    def fact(record_key: str, entry_key: str) -> Any:
        value = record.get(record_key)
        value = value if isinstance(value, str) and value else entry.get(entry_key)
        return value if isinstance(value, str) and value else None

    source = info.get("record_source") or ("ledger" if entry else "none")
    return Card(
        path=path,
        prompt=fact("prompt", "prompt"),
        model=fact("model", "model"),
        pixels=info.get("pixels"),
        cost_usd=cost.usd if cost is not None else None,
        images=max(len(files), 1) if isinstance(files, list) else 1,
        date=fact("created", "time"),
        request_id=fact("request_id", "request_id"),
        source=source,
    ), warnings


def cards(
    paths: Sequence[Path], entries: Sequence[Mapping[str, Any]], here: Path, *, strict: bool
) -> tuple[list[Card], list[str]]:
    """A card for each of PATHS, and warnings. STRICT (files named by the user): a file that is
    no readable image is an error; else (a folder, the ledger) it is skipped with a warning."""
    ledger = by_file(entries, here)
    made: list[Card] = []
    warnings: list[str] = []
    for path in unique(paths):
        try:
            found, more = card(path, ledger)
        except DeerimgError as exc:
            if strict:
                raise
            warnings.append(f"{exc.message}; left out")
            continue
        made.append(found)
        warnings.extend(more)
    return made, warnings


def gallery_folder(paths: Sequence[Path]) -> Path:
    """Where a gallery of PATHS goes by default: the folder the images share."""
    folders = [str(path.parent.absolute()) for path in paths]
    try:
        return Path(os.path.commonpath(folders)) if folders else Path.cwd()
    except ValueError:  # different drives
        return Path.cwd()


@dataclass(frozen=True, slots=True)
class Selection:
    """The cards of a gallery, the folder it goes in by default, and what to warn of."""

    cards: list[Card]
    folder: Path
    warnings: list[str]


def choose(
    files: Sequence[Path],
    *,
    last: bool = False,
    folder: Path | None = None,
    since: str | None = None,
    search: str | None = None,
) -> Selection:
    """The images FILES name, or FOLDER's, or the last run's, or those of the history entries
    since SINCE and matching SEARCH, with their cards. Raises DeerimgError: a usage error for
    no way or two ways of choosing, FAILURE when nothing is left to show."""
    ways = [bool(files), last, folder is not None, since is not None or search is not None]
    if sum(ways) != 1:
        raise usage_error(
            "choose the images one way: FILES, --dir DIR, --last, or --since/--search"
            if any(ways) else "no images named",
            hint="deerimg gallery --last, or --dir DIR, FILES, --since 7d, --search TEXT",
        )  # fmt: skip
    here = Path.cwd()
    entries, corrupt = history.read_entries()
    warnings = (
        [f"{corrupt} unreadable line(s) in {history.ledger_path()} skipped"] if corrupt else []
    )
    if folder is not None:
        if not folder.is_dir():
            raise usage_error(f"{folder} is not a folder")
        paths, empty = folder_images(folder), f"no images in {folder}"
    elif last:
        run = latest_run(entries)
        paths = [path for entry in run for path in entry_files(entry, here)]
        empty = "the last run saved no images" if run else "no run in the history yet"
    elif files:
        paths, empty = list(files), "no images"
    else:
        try:
            start = history.parse_since(since) if since else None
        except ValueError as exc:
            raise usage_error(f"invalid --since {since!r}: {exc}") from None
        chosen = history.filter_entries(entries, search=search, since=start)
        paths = [path for entry in chosen for path in entry_files(entry, here)]
        empty = "no history entry with images matches"
    made, more = cards(paths, [e for e in entries if e.get("outcome") != "pending"], here,
                       strict=bool(files))  # fmt: skip
    if not made:
        raise DeerimgError(f"{empty}: no gallery written", ExitCode.FAILURE, hint=None)
    default = folder if folder is not None else gallery_folder([c.path for c in made])
    return Selection(made, default, warnings + more)


def page_path(output: Path | None, folder: Path) -> Path:
    """Where the page goes: OUTPUT (a folder: its gallery.html), else FOLDER's gallery.html."""
    if output is None:
        return folder / PAGE_NAME
    return output / PAGE_NAME if output.is_dir() else output


def write_page(path: Path, text: str) -> Path:
    """TEXT written to PATH atomically; a DeerimgError (usage) when it cannot be."""
    if not path.parent.is_dir():
        raise usage_error(f"{path.parent} is not a folder: the gallery cannot go there")
    try:
        return write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise usage_error(f"cannot write {path}: {exc.strerror or exc}") from None
