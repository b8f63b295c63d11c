"""The history ledger: whole lines from concurrent writers, torn lines skipped, filters and sums."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from deerimg import history
from tests.helpers import ledger_path

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc


@pytest.fixture
def ledger() -> Path:
    return ledger_path()


def entry(prompt: str = "a paper boat", **changes: object) -> dict:
    made = history.build_entry(
        command="generate",
        prompt=prompt,
        model="gpt-image-2",
        fields={"model": "gpt-image-2", "size": "1024x1024"},
        outcome="ok",
        files=["a-paper-boat.png"],
        usage={"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
        request_id="req_1",
        seconds=12.3456,
        time=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
    )
    made.update(changes)
    return made


# ---- where it lives ---------------------------------------------------------------------------


def test_ledger_path_follows_deerimg_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("DEERIMG_DATA_DIR", str(tmp_path / "d"))
    assert history.ledger_path() == tmp_path / "d" / "history.jsonl"
    monkeypatch.delenv("DEERIMG_DATA_DIR")
    import platformdirs

    assert history.ledger_path() == platformdirs.user_data_path("deerimg") / "history.jsonl"


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_the_ledger_is_private(ledger: Path) -> None:
    history.append(entry(), ledger)
    assert ledger.parent.stat().st_mode & 0o777 == 0o700
    assert ledger.stat().st_mode & 0o777 == 0o600


def test_append_without_a_path_writes_to_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DEERIMG_DATA_DIR", str(tmp_path / "d"))
    assert history.append(entry()) == tmp_path / "d" / "history.jsonl"
    assert history.read_entries() == ([entry()], 0)


# ---- writing and reading ----------------------------------------------------------------------


def test_build_entry_has_every_field() -> None:
    assert entry() == {
        "time": "2026-11-24T09:30:00Z",
        "command": "generate",
        "prompt": "a paper boat",
        "model": "gpt-image-2",
        "fields": {"model": "gpt-image-2", "size": "1024x1024"},
        "files": ["a-paper-boat.png"],
        "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110},
        "request_id": "req_1",
        "seconds": 12.346,
        "outcome": "ok",
    }
    failed = history.build_entry(
        command="generate",
        prompt="p",
        model="m",
        fields={},
        outcome="failed",
        error={"status": 400, "message": "bad", "code": None},
    )
    assert failed["error"] == {"status": 400, "message": "bad", "code": None}
    assert failed["files"] == [] and failed["usage"] is None and failed["time"].endswith("Z")


def test_one_line_per_entry_whatever_the_prompt_holds(ledger: Path) -> None:
    tricky = ["line\nbreak", "para\u2028sep\u2029", "nel\x85 vt\x0b ff\x0c fs\x1c", "鹿 🦌", ""]
    for prompt in tricky:
        history.append(entry(prompt), ledger)
    assert ledger.read_bytes().count(b"\n") == len(tricky)
    entries, corrupt = history.read_entries(ledger)
    assert corrupt == 0
    assert [e["prompt"] for e in entries] == tricky


def test_a_missing_ledger_is_empty(ledger: Path) -> None:
    assert history.read_entries(ledger) == ([], 0)


def test_lines_that_are_not_entries_are_counted_and_never_rewritten(ledger: Path) -> None:
    history.append(entry("first"), ledger)
    with ledger.open("ab") as handle:
        handle.write(b"not json\n[1, 2]\n\xff\xfe{}\n\n   \n")
    history.append(entry("second"), ledger)
    before = ledger.read_bytes()
    entries, corrupt = history.read_entries(ledger)
    assert [e["prompt"] for e in entries] == ["first", "second"]
    assert corrupt == 3  # blank lines are no damage
    assert ledger.read_bytes() == before


def test_a_torn_last_line_is_skipped_and_the_next_entry_still_parses(ledger: Path) -> None:
    history.append(entry("before the crash"), ledger)
    with ledger.open("ab") as handle:  # a crash in the middle of a write
        handle.write(b'{"time": "2026-11-24T09:31:00Z", "prompt": "torn')
    torn = ledger.read_bytes()
    history.append(entry("after the crash"), ledger)
    assert ledger.read_bytes().startswith(torn)  # appended to, never rewritten
    entries, corrupt = history.read_entries(ledger)
    assert [e["prompt"] for e in entries] == ["before the crash", "after the crash"]
    assert corrupt == 1
    history.append(entry("later"), ledger)  # no blank line creeps in once healed
    assert ledger.read_bytes().count(b"\n\n") == 0
    assert history.read_entries(ledger)[1] == 1


# ---- concurrent writers -----------------------------------------------------------------------

PER_WRITER = 50


def big_entry(writer: str, i: int) -> dict:
    # Up to 20 kB a line, well past PIPE_BUF: whole lines come from the lock, not from luck.
    return {"writer": writer, "i": i, "prompt": f"{writer}:{i} " + "x" * (i * 400)}


def check_whole(ledger: Path, writers: list[str]) -> None:
    entries, corrupt = history.read_entries(ledger)
    assert corrupt == 0
    assert len(entries) == len(writers) * PER_WRITER
    assert ledger.read_bytes().count(b"\n") == len(entries)
    for e in entries:
        assert e == big_entry(e["writer"], e["i"])
    seen = sorted((e["writer"], e["i"]) for e in entries)
    assert seen == sorted((w, i) for w in writers for i in range(PER_WRITER))


def test_appends_from_8_threads_are_whole_lines(ledger: Path) -> None:
    writers = [f"thread-{k}" for k in range(8)]
    barrier = threading.Barrier(len(writers))

    def work(name: str) -> None:
        barrier.wait()
        for i in range(PER_WRITER):
            history.append(big_entry(name, i), ledger)

    threads = [threading.Thread(target=work, args=(name,)) for name in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    check_whole(ledger, writers)


WRITER = """
import sys
from pathlib import Path
from deerimg import history
path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(count):
    history.append(
        {"writer": name, "i": i, "prompt": f"{name}:{i} " + "x" * (i * 400)}, path
    )
"""


def test_appends_from_4_processes_and_4_threads_at_once_are_whole_lines(ledger: Path) -> None:
    processes = [f"process-{k}" for k in range(4)]
    threads = [f"thread-{k}" for k in range(4)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    running = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(ledger), name, str(PER_WRITER)], cwd=ROOT, env=env
        )
        for name in processes
    ]

    def work(name: str) -> None:
        for i in range(PER_WRITER):
            history.append(big_entry(name, i), ledger)

    workers = [threading.Thread(target=work, args=(name,)) for name in threads]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert [p.wait(timeout=30) for p in running] == [0, 0, 0, 0]
    check_whole(ledger, processes + threads)


# ---- filters ----------------------------------------------------------------------------------


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


SAMPLE = [
    entry("A lighthouse in fog", time=history.now_iso(at(20)), files=["lighthouse.png"]),
    entry("a paper boat", time=history.now_iso(at(21)), model="dall-e-3"),
    entry("Night market", time=history.now_iso(at(22)), files=["out/market.webp"]),
    entry("a paper crane", time=history.now_iso(at(23))),
    {"prompt": "no time at all"},
]


def test_filter_keeps_the_last_n_in_file_order() -> None:
    assert [e["prompt"] for e in history.filter_entries(SAMPLE, n=2)] == [
        "a paper crane",
        "no time at all",
    ]
    assert history.filter_entries(SAMPLE, n=0) == []
    assert history.filter_entries(SAMPLE, n=99) == SAMPLE
    assert history.filter_entries(SAMPLE) == SAMPLE


@pytest.mark.parametrize(
    ("search", "prompts"),
    [
        ("PAPER", ["a paper boat", "a paper crane"]),
        ("dall-e", ["a paper boat"]),  # the model
        ("market.webp", ["Night market"]),  # a file
        ("req_1", [p["prompt"] for p in SAMPLE[:4]]),  # the request id
        ("outcome", []),  # field names are not searched
        ("1024x1024", []),  # nor request fields
    ],
)
def test_search_looks_in_what_a_person_remembers(search: str, prompts: list[str]) -> None:
    assert [e["prompt"] for e in history.filter_entries(SAMPLE, search=search)] == prompts


def test_since_and_n_and_search_combine() -> None:
    since = at(21, 12)
    assert [e["prompt"] for e in history.filter_entries(SAMPLE, since=since)] == [
        "a paper boat",
        "Night market",
        "a paper crane",
    ]
    found = history.filter_entries(SAMPLE, n=1, search="paper", since=at(21))
    assert [e["prompt"] for e in found] == ["a paper crane"]


def test_parse_since() -> None:
    now = at(24, 9, 30)
    assert history.parse_since("2026-11-20", tz=UTC) == at(20, 0)
    plus2 = timezone(timedelta(hours=2))
    assert history.parse_since("2026-11-20", tz=plus2) == datetime(2026, 11, 20, tzinfo=plus2)
    assert history.parse_since("2026-11-20", now=now).tzinfo is not None  # local midnight
    assert history.parse_since("2026-11-20T08:15:00Z") == at(20, 8, 15)
    assert history.parse_since("3d", now=now) == at(21, 9, 30)
    assert history.parse_since("12h", now=now) == at(23, 21, 30)
    assert history.parse_since("2w", now=now) == at(10, 9, 30)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        history.parse_since("last tuesday")


# ---- usage ------------------------------------------------------------------------------------


def test_usage_sums_images_and_tokens_per_day_and_model() -> None:
    entries = [
        # one request, three files: its usage counts once
        entry(time=history.now_iso(at(20, 9)), files=["a-1.png", "a-2.png", "a-3.png"]),
        entry(time=history.now_iso(at(20, 18)), usage={"input_tokens": 5, "output_tokens": 7}),
        entry(time=history.now_iso(at(20, 19)), model="dall-e-3", usage=None),
        history.build_entry(
            command="generate",
            prompt="p",
            model="gpt-image-2",
            fields={},
            outcome="failed",
            time=at(20, 20),
            error={"status": 500, "message": "boom"},
        ),
        entry(time=history.now_iso(at(21, 23, 30)), usage={"total_tokens": True}),
        {"prompt": "hand-written", "usage": {"input_tokens": "many"}},
    ]
    rows = history.usage_by_day_and_model(entries, tz=UTC)
    assert rows == [
        history.UsageRow("2026-11-20", "dall-e-3", 1, 0, 1, 0, 0, 0, None, 1),  # no price
        history.UsageRow("2026-11-20", "gpt-image-2", 2, 1, 4, 15, 107, 122, 0.003285),
        history.UsageRow("2026-11-21", "gpt-image-2", 1, 0, 1, 0, 0, 0, None, 1),  # no counts
        history.UsageRow("unknown", "unknown", 0, 1, 0, 0, 0, 0, None, 1),
    ]


def test_usage_days_follow_the_zone_asked_for() -> None:
    late = [entry(time=history.now_iso(at(21, 23, 30)))]
    assert history.usage_by_day_and_model(late, tz=UTC)[0].day == "2026-11-21"
    plus2 = timezone(timedelta(hours=2))
    assert history.usage_by_day_and_model(late, tz=plus2)[0].day == "2026-11-22"
