"""`info` and `history`: what an image carries and what deerimg made, as tables or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from deerimg import history, images, provenance
from deerimg.errors import DeerimgError, ExitCode, usage_error
from deerimg.report import print_table, warn

PROMPT_WIDTH = 60


def describe_image(path: Path) -> dict[str, Any]:
    """Everything `info` knows of one file: deerimg's record, C2PA, other tools' parameters."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise usage_error(f"cannot read {path}: {exc.strerror}") from None
    fmt = images.sniff(data[:16])
    if fmt is None:
        raise usage_error(f"{path} is not a PNG, JPEG or WebP image")
    found = provenance.read(data, fmt)
    sidecar = provenance.sidecar_path(path)
    sidecar_record = None
    if sidecar.is_file():
        try:
            text = sidecar.read_text(encoding="utf-8")
        except (OSError, ValueError):
            text = None
        # Held to what embedded records are: an object, nested no deeper than json.loads goes,
        # without NaN or Infinity (which `info --json` would print as no JSON reader takes).
        sidecar_record = provenance.parse_record(text) if text is not None else None
        if sidecar_record is None:
            warn(f"{sidecar} is not readable JSON; ignored")
    pixels = images.pixel_size(data[: 1 << 16])
    return {
        "file": str(path),
        "format": fmt,
        "pixels": f"{pixels[0]}x{pixels[1]}" if pixels else None,
        "bytes": len(data),
        "c2pa": bool(found.get("c2pa")),
        "record": found.get("record") or sidecar_record,
        "record_source": "embedded"
        if found.get("record")
        else ("sidecar" if sidecar_record else None),
        "digital_source_type": found.get("digital_source_type"),
        "creator_tool": found.get("creator_tool"),
        "parameters": found.get("text") or {},
    }


def show_info(paths: Sequence[Path], as_json: bool) -> int:
    described = [describe_image(path) for path in paths]
    if as_json:
        sys.stdout.write(json.dumps(described, ensure_ascii=False, indent=2) + "\n")
        return ExitCode.OK
    for number, item in enumerate(described):
        if number:
            sys.stdout.write("\n")
        print_table(("FIELD", "VALUE"), _info_rows(item))
    return ExitCode.OK


def _info_rows(item: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        ("file", item["file"]),
        ("format", f"{item['format'].upper()} {item['pixels'] or ''}".strip()),
        ("bytes", f"{item['bytes']:,}"),
        ("C2PA credentials", "present (signed; left untouched)" if item["c2pa"] else "none"),
    ]
    record = item["record"]
    if isinstance(record, dict):
        rows.append(("deerimg record", item["record_source"] or ""))
        for key in ("prompt", "revised_prompt", "model", "created", "request_id"):
            if record.get(key):
                rows.append((key.replace("_", " "), str(record[key])))
        fields = record.get("fields")
        if isinstance(fields, dict) and fields:
            rows.append(("request fields", json.dumps(fields, ensure_ascii=False)))
        if record.get("deerimg_version"):
            rows.append(("made by", f"deerimg {record['deerimg_version']}"))
    if item["digital_source_type"]:
        rows.append(("source type", str(item["digital_source_type"]).rsplit("/", 1)[-1]))
    if item["creator_tool"] and not isinstance(record, dict):
        rows.append(("creator tool", str(item["creator_tool"])))
    for key, value in sorted(item["parameters"].items()):
        if key == "XML:com.adobe.xmp":
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((f"{key} (text chunk)", _clip(text, 400)))
    return rows


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def show_history(
    limit: int | None, search: str | None, since: str | None, as_json: bool, usage: bool
) -> int:
    path = history.ledger_path()
    entries, corrupt = history.read_entries(path)
    if corrupt:
        warn(f"{corrupt} unreadable line{'s' if corrupt != 1 else ''} in {path} skipped "
             "(the file is left as it is)")  # fmt: skip
    try:
        start = history.parse_since(since) if since else None
    except ValueError as exc:
        raise DeerimgError(f"invalid --since {since!r}: {exc}", ExitCode.USAGE) from None
    chosen = history.filter_entries(entries, n=None if usage else limit, search=search, since=start)
    if usage:
        return _show_usage(chosen, as_json)
    if as_json:
        sys.stdout.write(json.dumps(chosen, ensure_ascii=False) + "\n")
        return ExitCode.OK
    rows = []
    for entry in chosen:
        # A hand-edited or foreign line may hold any JSON in any field: a field of the wrong
        # type shows as blank (files as 0), as --usage counts it, and never stops the listing.
        usage = entry.get("usage")
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        files = entry.get("files")
        rows.append((
            _local_time(entry),
            _text(entry, "command"),
            _text(entry, "model"),
            _text(entry, "outcome"),
            str(len(files) if isinstance(files, list) else 0),
            f"{tokens:,}" if isinstance(tokens, int) and not isinstance(tokens, bool) else "",
            _clip(_text(entry, "prompt"), PROMPT_WIDTH),
        ))  # fmt: skip
    if not rows:
        warn(f"no history yet in {path}" if not entries else "no entry matches")
        return ExitCode.OK
    print_table(("TIME", "COMMAND", "MODEL", "OUTCOME", "IMAGES", "TOKENS", "PROMPT"), rows)
    return ExitCode.OK


def _local_time(entry: dict[str, Any]) -> str:
    """The entry's time in the local zone, as --since and --usage read it; unreadable: blank."""
    when = history.entry_time(entry)
    if when is None:
        return ""
    try:
        return when.astimezone().replace(tzinfo=None).isoformat(" ", "seconds")
    except (ValueError, OverflowError):  # 0001-01-01T00:30Z west of UTC, 9999-12-31 east
        return ""


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _show_usage(entries: list[dict[str, Any]], as_json: bool) -> int:
    table = history.usage_by_day_and_model(entries)
    if as_json:
        sys.stdout.write(json.dumps([asdict(row) for row in table]) + "\n")
        return ExitCode.OK
    rows = [
        (r.day, r.model, str(r.requests), str(r.failed), str(r.images),
         f"{r.input_tokens:,}", f"{r.output_tokens:,}", f"{r.total_tokens:,}")
        for r in table
    ]  # fmt: skip
    if table:
        rows.append((
            "total", "", str(sum(r.requests for r in table)), str(sum(r.failed for r in table)),
            str(sum(r.images for r in table)), f"{sum(r.input_tokens for r in table):,}",
            f"{sum(r.output_tokens for r in table):,}", f"{sum(r.total_tokens for r in table):,}",
        ))  # fmt: skip
    print_table(("DAY", "MODEL", "REQUESTS", "FAILED", "IMAGES", "INPUT", "OUTPUT", "TOTAL"), rows)
    return ExitCode.OK
