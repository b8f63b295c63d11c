"""The listings of `info`, `history`, `config list` and `models`, as tables or JSON on stdout."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from deerimg import history, prices
from deerimg.report.prices import cost
from deerimg.report.terminal import data, note, print_table, warn
from deerimg.settings import keys
from deerimg.settings.resolve import Origin
from deerimg.values import whole_number

PROMPT_WIDTH = 60


def show_info(described: Sequence[dict[str, Any]], as_json: bool) -> None:
    """What each image carries (metadata.describe), a table each, or one JSON array."""
    if as_json:
        data(json.dumps(described, ensure_ascii=False, indent=2))
        return
    for number, item in enumerate(described):
        if number:
            data("")
        print_table(("FIELD", "VALUE"), _info_rows(item))


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


def show_history(entries: list[dict[str, Any]], as_json: bool, empty: str) -> None:
    """The ledger's ENTRIES as a table (or JSON); EMPTY is the warning when there is none."""
    if as_json:
        data(json.dumps(entries, ensure_ascii=False))
        return
    rows = []
    for entry in entries:
        # A hand-edited or foreign line may hold any JSON in any field: a field of the wrong
        # type shows as blank (files as 0), as --usage counts it, and never stops the listing.
        # usage and svg_usage add up, as --usage counts them (blank when neither has a total).
        totals = [whole_number(u.get("total_tokens")) for u in (entry.get("usage"),
                  entry.get("svg_usage")) if isinstance(u, dict)]  # fmt: skip
        known = [t for t in totals if t is not None]
        tokens = sum(known) if known else None
        files = entry.get("files")
        spent = prices.cost_of_entry(entry)  # None: no answer, nothing billed
        rows.append((
            _local_time(entry),
            _text(entry, "command"),
            _text(entry, "model"),
            _text(entry, "outcome"),
            str(len(files) if isinstance(files, list) else 0),
            f"{tokens:,}" if tokens is not None else "",
            cost(spent.usd) if spent is not None else "",
            _clip(_text(entry, "prompt"), PROMPT_WIDTH),
        ))  # fmt: skip
    if not rows:
        warn(empty)
        return
    headers = ("TIME", "COMMAND", "MODEL", "OUTCOME", "IMAGES", "TOKENS", "COST", "PROMPT")
    print_table(headers, rows)


def show_tasks(rows: list[dict[str, Any]], as_json: bool) -> None:
    """The task APIs' tasks of the ledger (run/fetch.TaskRow.as_json), as a table or JSON."""
    if as_json:
        data(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        warn("no pending or failed task in the history ledger")
        return
    table = [
        (_local_time(row), row["state"], row["route"], row["id"], _text(row, "model"),
         _clip(_text(row, "prompt"), PROMPT_WIDTH))
        for row in rows
    ]  # fmt: skip
    print_table(("SUBMITTED", "STATE", "ROUTE", "TASK ID", "MODEL", "PROMPT"), table)


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


def show_usage(table: Sequence[history.UsageRow], as_json: bool) -> None:
    """Requests, images, tokens and cost per day and model, and their total."""
    if as_json:
        data(json.dumps([asdict(row) for row in table]))
        return
    rows = [
        (r.day, r.model, str(r.requests), str(r.failed), str(r.images), f"{r.input_tokens:,}",
         f"{r.output_tokens:,}", f"{r.total_tokens:,}", cost(r.cost_usd, r.cost_unknown))
        for r in table
    ]  # fmt: skip
    if table:
        known = [r.cost_usd for r in table if r.cost_usd is not None]
        rows.append((
            "total", "", str(sum(r.requests for r in table)), str(sum(r.failed for r in table)),
            str(sum(r.images for r in table)), f"{sum(r.input_tokens for r in table):,}",
            f"{sum(r.output_tokens for r in table):,}", f"{sum(r.total_tokens for r in table):,}",
            cost(sum(known) if known else None, sum(r.cost_unknown for r in table)),
        ))  # fmt: skip
    headers = ("DAY", "MODEL", "REQUESTS", "FAILED", "IMAGES", "INPUT", "OUTPUT", "TOTAL", "COST")
    print_table(headers, rows)
    if any(r.cost_unknown for r in table):
        note(
            "unknown: requests whose cost is not known (no price for the model, or no usage in "
            'the answer); [prices."MODEL"] in the config file sets a price, counted from then on'
        )


def show_settings(origins: Sequence[Origin], path: Path, as_json: bool) -> None:
    """Every setting, its value (the key masked) and its source; PATH is the config file's."""

    def shown(origin: Origin) -> Any:
        if origin.key == "api_key" and origin.value is not None:
            return keys.mask_key(origin.value)  # masked even for scripts: `get --reveal`
        return origin.value

    if as_json:
        values = {
            o.key: {"value": shown(o), "source": o.source, "env_var": o.env_var,
                    "overrides_config": o.overrides_config}
            for o in origins
        }  # fmt: skip
        data(json.dumps(values, ensure_ascii=False, indent=2))
        return
    rows = []
    for o in origins:
        if o.value is None:
            value = "(not set)" if o.key == "api_key" else "(the API's default)"
        else:
            value = keys.display_value(o.key, o.value)  # masks the key
        source = {"config": "config file", "default": "default"}.get(o.source, o.source)
        if o.source == "env":
            source = f"env {o.env_var}" + (", over config file" if o.overrides_config else "")
        rows.append((keys.dashed(o.key), value, source))
    note(f"config file: {path}" + ("" if path.exists() else " (not created yet)"))
    print_table(("KEY", "VALUE", "SOURCE"), rows)


def show_models(
    shown: list[dict[str, Any]],
    rows: Sequence[tuple[str, str, str, str]],
    total: int,
    *,
    all_models: bool,
    search: str | None,
    as_json: bool,
) -> None:
    """The models' table (ROWS) or their objects (SHOWN) as JSON, and how many of TOTAL."""
    if as_json:
        data(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    print_table(("ID", "FAMILY", "OWNER", "CREATED"), rows)
    kind = "models" if all_models else "image models"
    matching = f" matching {search!r}" if search else ""
    more = "" if all_models else "; --all lists every model"
    note(f"{len(shown)} {kind}{matching} of {total}{more}")
