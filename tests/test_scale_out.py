"""Issue 23: one batch sharded over two deerimg processes into one folder, at once, then re-run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROMPTS = [f"a paper boat {letter}" for letter in "abcdefghijkl"]


def start(shard: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "deerimg", "generate", "-f", str(shard), "-d", "out"]
    command += ["-j", "auto", "--json", *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
    )


def both(*extra: str) -> list[tuple[int, str, str]]:
    procs = [start(Path(f"shard-{k}"), *extra) for k in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    return [
        (p.returncode, out.decode(), err.decode())
        for p, (out, err) in zip(procs, outs, strict=True)
    ]


def test_two_processes_share_one_batch_and_one_folder(fake_api):
    lines = [json.dumps({"prompt": prompt}) for prompt in PROMPTS]
    Path("batch.jsonl").write_text("".join(f"{line}\n" for line in lines))
    for k in range(2):  # what `split -n l/2` makes: the first half, then the second
        half = lines[k * 6 : (k + 1) * 6]
        Path(f"shard-{k}").write_text("".join(f"{line}\n" for line in half))
    fake_api.latency = 0.2  # both are in flight at once
    fake_api.rate_limit(3000)  # one key's limit, shared
    results = both()
    for code, _out, err in results:
        assert code == 0, err
    records = [json.loads(line) for _, out, _ in results for line in out.splitlines()]
    summaries = [record.pop("summary") for record in records if "summary" in record]
    assert [s["images"] for s in summaries] == [6, 6]  # -j auto's last record: each one's rate
    records = [record for record in records if record]
    paths = sorted(record["path"] for record in records)
    assert len(paths) == len(set(paths)) == 12  # every image written once
    assert sorted(p.name for p in Path("out").iterdir()) == sorted(Path(p).name for p in paths)
    # nothing renamed around a clash (PATH-2.png): each image under its prompt's own name
    assert paths == sorted(f"out/{prompt.replace(' ', '-')}.png" for prompt in PROMPTS)
    sent = [r.json["prompt"] for r in fake_api.generation_requests()]
    accepted = [v.tag for v in fake_api.limiter.accepted()]
    assert sorted(accepted) == sorted(PROMPTS)  # each prompt paid for once
    assert set(sent) == set(PROMPTS)  # the rest were 429s, which cost nothing
    written = {p: Path(p).stat().st_mtime_ns for p in paths}

    fake_api.reset()
    again = both("--skip-existing")
    for code, out, err in again:
        assert code == 0, err
        assert out == ""
    assert fake_api.generation_requests() == []  # the re-run sends nothing
    assert {p: Path(p).stat().st_mtime_ns for p in paths} == written  # nothing overwritten
