"""`history` and `info` on odd input: hand-edited ledger lines, far-off times, foreign metadata.

Each of these once ended in a traceback (or, for non-finite numbers, in `info --json` printing
Infinity, which is not JSON). Odd input is shown as well as it can be, never a crash.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from deerimg import history
from deerimg.imaging import embed, images, metadata
from tests.fake import make_image, png_with_chunk
from tests.helpers import write_ledger

UTC = timezone.utc
GOOD = {
    "time": "2026-11-24T09:30:00Z",
    "command": "generate",
    "prompt": "a paper boat",
    "model": "gpt-image-2",
    "files": ["a-paper-boat.png"],
    "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
    "request_id": "req_1",
    "outcome": "ok",
}


def strict_json(text: str) -> Any:
    """TEXT parsed as RFC 8259 JSON: NaN, Infinity and -Infinity are refused."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# ---- history: fields of the wrong type --------------------------------------------------------

ODD_FIELDS = [
    {"usage": "oops"},
    {"usage": [1, 2]},
    {"usage": {"total_tokens": "many"}},
    {"usage": {"total_tokens": True}},
    {"files": 5},
    {"files": "a.png"},
    {"files": {"a": 1}},
    {"time": 5},
    {"time": ["2026-11-24"]},
    {"time": "not a time"},
    {"prompt": ["x", {"y": 1}]},
    {"prompt": None},
    {"prompt": 12},
    {"model": {"a": 1}},
    {"command": [1]},
    {"outcome": None},
    {"outcome": 1},
    {"request_id": 3},
    {"error": 7},
    {"error": ["x"]},
    {"revised_prompt": 1.5},
    {"seconds": "slow"},
    {"fields": "x"},
]


@pytest.mark.parametrize("odd", ODD_FIELDS, ids=lambda odd: json.dumps(odd))
def test_history_shows_entries_with_fields_of_the_wrong_type(invoke, odd: dict) -> None:
    write_ledger(json.dumps({**GOOD, **odd}), json.dumps(GOOD))
    for args in ([], ["--json"], ["--search", "x"], ["--search", "boat"], ["--usage"]):
        shown = invoke("history", *args)
        assert shown.exit_code == 0, (args, shown)
        assert "Traceback" not in shown.stderr
    listing = invoke("history").stdout
    assert "a paper boat" in listing and "110" in listing  # the good entry is shown whole
    listed = strict_json(invoke("history", "--json").stdout)
    assert listed == [{**GOOD, **odd}, GOOD]  # --json gives the entries as they are


def test_a_field_of_the_wrong_type_shows_blank_not_its_python_repr(invoke) -> None:
    write_ledger(json.dumps({**GOOD, "usage": "oops", "files": 5, "model": {"a": 1}}))
    shown = invoke("history")
    assert shown.exit_code == 0, shown
    row = shown.stdout.splitlines()[1]
    assert "{'a': 1}" not in row and "oops" not in row
    assert row.split()[3:5] == ["ok", "0"]  # OUTCOME, then IMAGES: 0, and TOKENS blank


def test_a_line_nested_deeper_than_json_reads_is_an_unreadable_line(invoke) -> None:
    write_ledger('{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}", json.dumps(GOOD))
    shown = invoke("history")
    assert shown.exit_code == 0, shown
    assert "1 unreadable line" in shown.stderr and "a paper boat" in shown.stdout


def test_search_walks_deeply_nested_values_without_recursion() -> None:
    deep: Any = "needle"
    for _ in range(10_000):
        deep = [deep]
    found = history.filter_entries([{"prompt": deep}, {"prompt": "x"}], search="NEEDLE")
    assert len(found) == 1


# ---- history: times out of range --------------------------------------------------------------


@pytest.mark.parametrize("since", ["999999d", "99999999999999999999d", "200000w", "99999999h"])
def test_since_too_far_back_is_a_usage_error(invoke, since: str) -> None:
    write_ledger(json.dumps(GOOD))
    shown = invoke("history", "--since", since)
    assert shown.exit_code == 2, shown
    assert "invalid --since" in shown.stderr and "Traceback" not in shown.stderr
    with pytest.raises(ValueError):
        history.parse_since(since)


def test_a_time_before_year_1_in_utc_is_unreadable(invoke) -> None:
    far = {**GOOD, "time": "0001-01-01T00:00:00+01:00", "prompt": "far"}
    write_ledger(json.dumps(far), json.dumps(GOOD))
    assert history.entry_time(far) is None
    usage = invoke("history", "--usage", "--json")
    assert usage.exit_code == 0, usage
    assert {row["day"] for row in json.loads(usage.stdout)} == {"unknown", "2026-11-24"}
    assert invoke("history", "--usage").exit_code == 0
    since = invoke("history", "--since", "2000-01-01T00:00:00Z", "--json")
    assert since.exit_code == 0, since
    assert [e["prompt"] for e in json.loads(since.stdout)] == ["a paper boat"]


@pytest.mark.parametrize(
    ("time", "hours"), [("0001-01-01T00:30:00Z", -5), ("9999-12-31T23:30:00Z", 5)]
)
def test_a_time_with_no_day_in_the_zone_asked_for_is_an_unknown_day(time: str, hours: int):
    zone = timezone(timedelta(hours=hours))
    (row,) = history.usage_by_day_and_model([{**GOOD, "time": time}], tz=zone)
    assert (row.day, row.requests, row.total_tokens) == ("unknown", 1, 110)
    assert history.entry_time({"time": time}) == datetime.fromisoformat(time.replace("Z", "+00:00"))


# ---- info: foreign metadata -------------------------------------------------------------------


def jpeg_with_xmp(packet: bytes) -> bytes:
    data = make_image("jpeg", 8, 8)
    payload = embed.JPEG_XMP_ID + packet
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + segment + data[2:]


@pytest.mark.parametrize("encoding", ["Shift_JIS", "UTF-32", "nonesuch"])
def test_xmp_in_an_encoding_expat_cannot_read_is_shown_unparsed(invoke, encoding: str) -> None:
    packet = f'<?xml version="1.0" encoding="{encoding}"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    data = jpeg_with_xmp(packet.encode())
    found = metadata.read(data)
    assert found["xmp"] == packet and found["record"] is None
    Path("other.jpg").write_bytes(data)
    for args in ([], ["--json"]):
        shown = invoke("info", "other.jpg", *args)
        assert shown.exit_code == 0, shown
        assert "Traceback" not in shown.stderr


def test_a_text_chunk_nested_deeper_than_json_reads_is_shown_as_text(invoke) -> None:
    text = "[" * 100_000 + "]" * 100_000
    png = png_with_chunk(make_image("png", 8, 8), b"tEXt", b"prompt\x00" + text.encode())
    Path("deep.png").write_bytes(png)
    shown = invoke("info", "deep.png", "--json")
    assert shown.exit_code == 0, shown
    assert strict_json(shown.stdout)[0]["parameters"]["prompt"] == text
    assert invoke("info", "deep.png").exit_code == 0


@pytest.mark.parametrize(
    "text", ['{"a": 1e999999}', '{"a": [1, NaN]}', "[-Infinity]", '{"a": {"b": Infinity}}']
)
def test_json_with_a_non_finite_number_is_kept_as_text(invoke, text: str) -> None:
    png = png_with_chunk(make_image("png", 8, 8), b"tEXt", b"prompt\x00" + text.encode())
    png = png_with_chunk(png, b"tEXt", b'workflow\x00{"a": 1.5}')
    Path("odd.png").write_bytes(png)
    shown = invoke("info", "odd.png", "--json")
    assert shown.exit_code == 0, shown
    parameters = strict_json(shown.stdout)[0]["parameters"]
    assert parameters == {"prompt": text, "workflow": {"a": 1.5}}


def test_a_record_with_a_non_finite_number_is_not_printed_as_infinity(invoke) -> None:
    record = {"prompt": "a fox", "seconds": float("inf")}
    embedded = embed.embed(make_image("png", 8, 8), "png", record)
    assert embedded is not None
    Path("fox.png").write_bytes(embedded)
    Path("side.png").write_bytes(make_image("png", 8, 8))
    Path("side.png.json").write_text('{"prompt": "a fox", "n": NaN}')
    shown = invoke("info", "fox.png", "side.png", "--json")
    assert shown.exit_code == 0, shown
    assert [item["record"] for item in strict_json(shown.stdout)] == [None, None]
    assert "side.png.json is not readable JSON" in shown.stderr


# ---- the last odd ones ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity"])
def test_history_json_skips_a_hand_edited_line_with_a_number_json_cannot_hold(invoke, number):
    good = json.dumps(GOOD)
    write_ledger(good, good[:-1] + f', "seconds": {number}}}')
    result = invoke("history", "--json")
    assert result.exit_code == 0, result
    assert len(strict_json(result.stdout)) == 1
    assert "1 unreadable line" in result.stderr


def test_a_made_up_webp_header_has_no_pixel_size():
    assert images.pixel_size(b"RIFF\x08\x00\x00\x00WEBPVP8X") is None
    assert images.pixel_size(make_image("webp", 40, 30)) == (40, 30)
