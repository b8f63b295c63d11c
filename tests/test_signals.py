"""Issue 16: SIGTERM and SIGHUP stop a batch as Ctrl-C does, and the stop counts what is sent.

A real `python -m deerimg` against the fake, signalled once the fake's request log says the
batch is under way: no sleep decides when the signal comes.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OUTPUTS, interrupt_when
from tests.fake import FakeDeerAPI
from tests.helpers import ledger_entries, names_in, prompts_sent
from tests.test_soak import check_images, slug

BIG = 3_000_000  # bytes an image: the write window is wide enough for a signal to land in it


def cut_the_waits_short(fake_api: FakeDeerAPI) -> None:
    """End the fake's answers still waiting out a latency, so the next test starts with none."""
    fake_api.faults.stop()
    deadline = time.monotonic() + 10
    while fake_api.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    fake_api.faults.start()


def write_batch(count: int) -> list[str]:
    prompts = [f"big prompt {i}" for i in range(1, count + 1)]
    Path("p.txt").write_text("".join(p + "\n" for p in prompts), encoding="utf-8")
    return prompts


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"]
)
def test_sigterm_and_sighup_keep_what_was_paid_for(
    fake_api: FakeDeerAPI, invoke: Any, sig: int, code: int
) -> None:
    prompts = write_batch(12)
    fake_api.image_bytes = BIG
    fake_api.latency = 0.3
    stopped = interrupt_when(
        ["generate", "-f", "p.txt", "-d", "out", "-j", "4", "--retries", "0"],
        lambda: len(fake_api.generation_requests()) >= 6,  # some saved, some in flight
        sig=sig,
    )
    assert stopped.code == code, stopped.err[-2000:]
    assert "Traceback" not in stopped.err
    assert re.search(r"^interrupted: \d+ images? saved", stopped.err, re.MULTILINE), stopped.err
    name = signal.Signals(sig).name
    assert f"stopped by {name}: waiting for the" in stopped.err
    # Every request the server saw was paid for, and its image is in place: none is left as a
    # hidden temporary file.
    sent = prompts_sent(fake_api)
    assert 6 <= len(sent) < len(prompts)
    names = check_images(Path("out"), fake_api.expected_image())
    assert names == sorted(f"{slug(p)}.png" for p in sent)
    assert f"interrupted: {len(sent)} images saved" in stopped.err

    # The re-run pays only for what is missing.
    fake_api.reset()
    again = invoke("generate", "-f", "p.txt", "-d", "out", "--skip-existing", "--no-history")
    assert again.exit_code == 0, again
    assert prompts_sent(fake_api) == sorted(set(prompts) - set(sent))
    assert names_in("out") == sorted(f"{slug(p)}.png" for p in prompts)


def test_a_second_sigterm_stops_at_once_without_temporary_files(fake_api: FakeDeerAPI) -> None:
    write_batch(8)
    fake_api.image_bytes = BIG
    fake_api.latency = 30  # the first SIGTERM cannot end the run: the answers are far away
    try:
        stopped = interrupt_when(
            ["generate", "-f", "p.txt", "-d", "out", "-j", "2", "--retries", "0"],
            lambda: len(fake_api.generation_requests()) >= 2,
            again_after=2,
            sig=signal.SIGTERM,
        )
    finally:
        cut_the_waits_short(fake_api)
    assert stopped.twice
    assert stopped.code == 143, stopped.err[-2000:]
    assert "stopped at once" in stopped.err
    assert not Path("out").exists()  # made at the first write, and nothing was written


@pytest.mark.parametrize("jobs", [1, 3])
def test_the_interrupt_counts_only_the_requests_sent(fake_api: FakeDeerAPI, jobs: int) -> None:
    """Finding 17: the pool's one extra thread, waiting for a slot, was counted as under way."""
    write_batch(10)
    fake_api.latency = 1.0
    stopped = interrupt_when(
        ["generate", "-f", "p.txt", "-d", "out", "-j", str(jobs), "--retries", "0"],
        lambda: len(fake_api.generation_requests()) >= jobs,
    )
    assert stopped.code == 130, stopped.err[-2000:]
    assert len(fake_api.generation_requests()) == jobs
    assert f"waiting for the {jobs} prompt(s) under way" in stopped.err
    assert len(names_in("out")) == jobs


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_a_closed_terminal_keeps_the_images_and_records_them_saved(fake_api: FakeDeerAPI) -> None:
    """A real hang-up: deerimg runs on a pseudo-terminal, which is closed mid-batch. Every later
    write to it fails (EIO); before, each image saved after the hang-up was recorded failed."""
    import pty
    import select

    write_batch(40)
    fake_api.image_bytes = BIG
    fake_api.latency = 0.3
    argv = [sys.executable, "-m", "deerimg", "generate", "-f", "p.txt", "-d", "out", "-j", "4"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty
        try:
            os.execv(sys.executable, argv)  # noqa: S606 - argv is ours
        finally:
            os._exit(127)
    shown = b""
    deadline = time.monotonic() + 30
    try:
        while len(fake_api.generation_requests()) < 6:  # drained, or deerimg blocks writing
            assert time.monotonic() < deadline, "the batch never got under way"
            if select.select([fd], [], [], 0.01)[0]:
                shown += os.read(fd, 65536)
    finally:
        os.close(fd)  # the terminal hangs up: SIGHUP
    _, status = os.waitpid(pid, 0)
    OUTPUTS.append(shown.decode("utf-8", "replace"))
    assert os.waitstatus_to_exitcode(status) == 129
    sent = prompts_sent(fake_api)
    names = check_images(Path("out"), fake_api.expected_image())
    assert names == sorted(f"{slug(p)}.png" for p in sent)
    entries = ledger_entries()
    assert sorted(e["prompt"] for e in entries) == sent
    assert [(e["prompt"], e.get("error")) for e in entries if e["outcome"] != "ok"] == []


def test_a_signal_the_process_ignores_stays_ignored() -> None:
    """nohup starts deerimg with SIGHUP ignored: a hang-up must not stop its run."""
    import threading

    from deerimg.run import runner, stopping

    before = {s: signal.getsignal(s) for s in stopping.STOP_SIGNALS}
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        restore, _ = runner._catch_stop_signals(threading.Event(), lambda _event: None)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_IGN, before[signal.SIGTERM])
        restore()
        assert signal.getsignal(signal.SIGTERM) == before[signal.SIGTERM]
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
