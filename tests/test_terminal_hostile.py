"""The terminal under a hostile world (issue 16): closed standard streams, encodings that cannot
carry the text, a terminal left tidy after a stop, data lines that never glue onto the bar."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OUTPUTS
from tests.fake import FakeDeerAPI
from tests.helpers import ledger_entries, write_ledger

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX shells and descriptors")


def run_closed(
    args: Sequence[str], close: str, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m deerimg ARGS` with CLOSE (`>&-` or `2>&-`) applied by a shell: the process
    starts without that descriptor, as under cron or a daemon (a DEVNULL is not closed)."""
    done = subprocess.run(
        ["sh", "-c", f'exec "$@" {close}', "sh", sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    OUTPUTS.append(done.stdout + done.stderr)
    return done


# -- closed stdout or stderr (finding 7) --------------------------------------------------------


@posix_only
@pytest.mark.parametrize("close", [">&-", "2>&-"])
def test_a_closed_stream_keeps_the_image_saved_and_the_exit_code(
    fake_api: FakeDeerAPI, isolated_env: Path, close: str
) -> None:
    done = run_closed(["generate", "a closed stream", "-o", "closed.png"], close)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert Path("closed.png").is_file()
    (entry,) = ledger_entries()
    assert (entry["outcome"], entry["files"]) == ("ok", ["closed.png"])
    if close == ">&-":
        assert "saved closed.png" in done.stderr  # people still hear of it


@posix_only
def test_a_closed_stdout_in_a_batch_fails_no_prompt(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    Path("p.txt").write_text("one\ntwo\nthree\n")
    done = run_closed(["generate", "-f", "p.txt", "-j", "2", "--json"], ">&-")
    assert done.returncode == 0, done.stderr
    assert "done: 3 images saved" in done.stderr
    assert sorted(e["outcome"] for e in ledger_entries()) == ["ok", "ok", "ok"]


@posix_only
@pytest.mark.parametrize(
    "args",
    [
        ("history",),
        ("history", "--json"),
        ("history", "--usage"),
        ("models",),
        ("models", "--json"),
        ("config", "list"),
        ("config", "list", "--json"),
        ("config", "get", "base-url"),  # set by the environment: printed
        ("config", "path"),
        ("generate", "x", "--dry-run"),
    ],
)
@pytest.mark.parametrize("close", [">&-", "2>&-"])
def test_listings_with_a_closed_stream_exit_0_without_a_traceback(
    fake_api: FakeDeerAPI, isolated_env: Path, args: tuple[str, ...], close: str
) -> None:
    write_ledger(json.dumps({"time": "2026-12-01T10:00:00Z", "command": "generate",
                             "prompt": "a boat", "outcome": "ok", "files": ["b.png"]}))  # fmt: skip
    done = run_closed(args, close)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@posix_only
def test_an_error_with_a_closed_stderr_keeps_its_exit_code(isolated_env: Path) -> None:
    done = run_closed(["generate", "x", "-n", "11"], "2>&-")
    assert (done.returncode, done.stdout) == (2, "")


# -- an encoding that cannot carry the text (finding 9) ------------------------------------------

ASCII = {"PYTHONIOENCODING": "ascii"}


def run_ascii(args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env={**os.environ, **ASCII},
        timeout=60,
        check=False,
    )
    OUTPUTS.append(done.stdout.decode("ascii", "replace") + done.stderr.decode("ascii", "replace"))
    return done


def test_ascii_config_list_escapes_the_ellipsis(isolated_env: Path) -> None:
    done = run_ascii(["config", "list"])
    assert done.returncode == 0, done.stderr
    assert b"UnicodeEncodeError" not in done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith(b"api-key")]
    assert b"sk-\\u2026" in line  # sk-…cRET, as JSON would escape it


def test_ascii_history_escapes_a_prompt_and_json_stays_json(isolated_env: Path) -> None:
    prompt = "un caf\u00e9 \u2615 \U0001f98c"
    write_ledger(json.dumps({"time": "2026-12-01T10:00:00Z", "command": "generate",
                             "prompt": prompt, "outcome": "ok", "files": []}))  # fmt: skip
    table = run_ascii(["history"])
    assert table.returncode == 0, table.stderr
    assert b"un caf\\u00e9 \\u2615 \\ud83e\\udd8c" in table.stdout
    as_json = run_ascii(["history", "--json"])
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0]["prompt"] == prompt


def test_ascii_generate_and_info_of_a_non_ascii_prompt(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    prompt = "caf\u00e9 \u2026 au lait"
    made = run_ascii(["generate", prompt, "-o", "cafe.png", "--json"])
    assert made.returncode == 0, made.stderr
    assert b"Error" not in made.stderr
    assert json.loads(made.stdout)["prompt"] == prompt
    (entry,) = ledger_entries()
    assert entry["outcome"] == "ok"
    shown = run_ascii(["info", "cafe.png"])
    assert shown.returncode == 0, shown.stderr
    assert b"caf\\u00e9 \\u2026 au lait" in shown.stdout


@posix_only
def test_a_file_name_that_is_not_utf8_is_printed_as_its_bytes(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    name = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: a lone surrogate in Python's str
    strict = {"PYTHONIOENCODING": "utf-8"}  # as in a UTF-8 locale other than C.UTF-8: "strict"
    done = subprocess.run(
        [sys.executable, "-m", "deerimg", "generate", "x", "-o", name],
        stdin=subprocess.DEVNULL, capture_output=True, env={**os.environ, **strict}, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"caf\xe9.png\n"  # the path names the file: `xargs rm` finds it
    assert Path(os.fsdecode(b"caf\xe9.png")).is_file()


def test_the_report_writes_nowhere_without_standard_streams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from deerimg.errors import DeerimgError
    from deerimg.report import terminal
    from deerimg.report.listings import show_history
    from deerimg.report.run import Report

    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    terminal.data("a path")
    terminal.note("a note")
    terminal.warn("a warning")
    terminal.print_error(DeerimgError("an error", hint="a hint"))
    show_history([{"prompt": "p", "outcome": "ok"}], as_json=False, empty="none")
    report = Report()
    report.warn("a warning")
    report._data("a path")


# -- at a terminal (finding 18) --------------------------------------------------------------------

HIDE, SHOW = b"\x1b[?25l", b"\x1b[?25h"
WIDTH = 120


class Screen:
    """Just enough of a terminal to replay what rich draws: text, CR, LF, cursor up, erase line,
    the cursor shown or hidden; colours and other sequences are skipped."""

    def __init__(self) -> None:
        self.lines: list[str] = [""]
        self.row = self.col = 0
        self.cursor_shown = True

    def feed(self, data: bytes) -> Screen:
        text = data.decode("utf-8", "replace")
        for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b.|[\r\n]|[^\x1b\r\n]+", text):
            if token == "\r":
                self.col = 0
            elif token == "\n":
                self.row += 1
                self.col = 0
                while len(self.lines) <= self.row:
                    self.lines.append("")
            elif token in ("\x1b[?25l", "\x1b[?25h"):
                self.cursor_shown = token.endswith("h")
            elif token.startswith("\x1b[") and token.endswith("A"):
                self.row = max(0, self.row - int(token[2:-1] or 1))
            elif token.startswith("\x1b[") and token[-1] == "K":
                line = self.lines[self.row]
                self.lines[self.row] = "" if token == "\x1b[2K" else line[: self.col]
            elif not token.startswith("\x1b"):
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[: self.col] + token + line[self.col + len(token) :]
                self.col += len(token)
        return self

    def text(self) -> list[str]:
        return [line.rstrip() for line in self.lines if line.strip()]


class AtTerminal:
    """`python -m deerimg ARGS` with standard error on a pseudo-terminal (stdout: a pipe), read
    as it goes; nothing sleeps: each step waits for what it needs to have been written."""

    def __init__(self, args: Sequence[str]) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, WIDTH, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(WIDTH), "LINES": "40"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deerimg", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env,
        )  # fmt: skip
        os.close(slave)
        self.seen = b""

    def read_until(self, done: Callable[[], bool], timeout: float = 30) -> bytes:
        """Read the terminal until DONE() holds (checked after each read, or every 20 ms)."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"never happened; the terminal saw {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    chunk = b""
                if not chunk:
                    assert done(), f"the terminal closed first; it saw {self.seen!r}"
                    break
                self.seen += chunk
        return self.seen

    def finish(self) -> tuple[int, bytes, Screen]:
        """Read to the end; the exit code, standard output and the screen."""
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        code = self.process.wait(timeout=30)
        self.read_until(lambda: self._drained())
        os.close(self.master)
        OUTPUTS.append(out.decode("utf-8", "replace") + self.seen.decode("utf-8", "replace"))
        return code, out, Screen().feed(self.seen)

    def _drained(self) -> bool:
        if not select.select([self.master], [], [], 0)[0]:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return True
        self.seen += chunk
        return not chunk

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@posix_only
def test_a_second_ctrl_c_leaves_the_cursor_shown_and_no_frame(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    fake_api.always(delay=20, route="generations")  # the requests stay in flight
    Path("p.txt").write_text("".join(f"prompt number {i}\n" for i in range(8)))
    term = AtTerminal(["generate", "-f", "p.txt", "-j", "2"])
    try:
        term.read_until(lambda: fake_api.in_flight >= 2 and b"Generating" in term.seen)
        term.process.send_signal(signal.SIGINT)
        term.read_until(lambda: b"Ctrl-C again to stop at once" in term.seen)
        term.process.send_signal(signal.SIGINT)
        code, _out, screen = term.finish()
    finally:
        term.close()
        _cut_delays_short(fake_api)
    assert code == 130
    assert term.seen.count(HIDE) >= 1
    assert term.seen.rfind(SHOW) > term.seen.rfind(HIDE), "the cursor is left hidden"
    assert screen.cursor_shown
    lines = screen.text()
    assert lines[-1] == "interrupted again: stopped at once", lines
    assert not any("Generating" in line for line in lines), lines


def _cut_delays_short(fake_api: FakeDeerAPI) -> None:
    """End the answers still waiting for the killed client, so the next test's in_flight is its
    own (the server lives for the session)."""
    fake_api.faults.stop()
    deadline = time.monotonic() + 10
    while fake_api.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    fake_api.faults.start()
    fake_api.reset()


class Transcript:
    """Every write to a report's two streams, in the order they came, and its lock's releases."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, where: str, text: str) -> None:
        with self.lock:
            self.writes.append((where, text))

    def stream(self, where: str, *, tty: bool) -> Any:
        transcript = self

        class Stream:
            encoding = "utf-8"

            def write(self, text: str) -> int:
                transcript.add(where, text)
                return len(text)

            def flush(self) -> None:
                pass

            def isatty(self) -> bool:
                return tty

        return Stream()


def saved(number: int, revised: str | None = None) -> Any:
    from deerimg.events import ImageRecord, Saved

    record = ImageRecord(
        path=f"batch/{number}-prompt-number-{number}.png", prompt=f"prompt number {number}",
        model="gpt-image-2", size="1024x1024", quality=None, output_format="png", bytes=1000,
        revised_prompt=revised, usage=None, request_id=f"req_{number}", elapsed=0.5,
    )  # fmt: skip
    return Saved(record, (1024, 1024), first=True)


def test_a_piped_path_never_lands_on_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout a pipe (`| cat`, `| tee`), stderr the terminal the pipe also reaches: each path is
    written when the terminal's cursor is at the start of an empty line, never after a frame."""
    from deerimg.events import Finished, Starting, Summary
    from deerimg.report.run import Report

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    transcript = Transcript()
    report = Report(stdout=transcript.stream("out", tty=False),
                    stderr=transcript.stream("err", tty=True))  # fmt: skip
    assert report.rich
    with report:
        report(Starting(total=3, first_prompt="prompt number 1", model="gpt-image-2"))
        for number in (1, 2, 3):
            report._progress.refresh()  # a frame on the terminal, as the refresh thread draws
            report(saved(number))
        report(Finished(Summary(prompts=3, images=3, finished=3)))
    screen = Screen()
    paths = []
    for where, text in list(transcript.writes):
        if where == "err":
            screen.feed(text.encode())
            continue
        paths.append(text)
        at = screen.lines[screen.row]
        assert (screen.col, at.strip()) == (0, ""), f"{text!r} would glue onto {at!r}"
    assert paths == [f"batch/{n}-prompt-number-{n}.png\n" for n in (1, 2, 3)]
    assert screen.cursor_shown
    assert not any("Generating" in line for line in screen.text()), screen.text()


@pytest.mark.parametrize("terminal", [False, True])
def test_an_images_saved_and_revised_lines_are_written_in_one_lock_hold(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    from deerimg.report.run import Report

    monkeypatch.setenv("TERM", "xterm-256color")
    transcript = Transcript()

    class Recording:
        """The report's lock, telling the transcript when it is let go altogether."""

        def __init__(self) -> None:
            self.lock = threading.RLock()
            self.depth = 0

        def __enter__(self) -> Recording:
            self.lock.acquire()
            self.depth += 1
            return self

        def __exit__(self, *_exc: object) -> None:
            self.depth -= 1
            if self.depth == 0:
                transcript.add("unlocked", "")
            self.lock.release()

    report = Report(stdout=transcript.stream("out", tty=False),
                    stderr=transcript.stream("err", tty=terminal))  # fmt: skip
    report._lock = Recording()  # type: ignore[assignment]
    report(saved(1, revised="Revised: a red fox in snow"))
    stderr = [(w, t) for w, t in transcript.writes if w != "out"]
    said = [i for i, (w, t) in enumerate(stderr) if "saved batch/1" in t]
    revised = [i for i, (w, t) in enumerate(stderr) if "revised prompt: Revised" in t]
    assert said and revised, stderr
    between = stderr[said[0] : revised[0]]
    assert ("unlocked", "") not in between, "another image's lines could come between"


@posix_only
def test_a_batch_that_ends_leaves_the_cursor_shown_and_no_frame(
    fake_api: FakeDeerAPI, isolated_env: Path
) -> None:
    Path("p.txt").write_text("".join(f"prompt number {i}\n" for i in range(6)))
    term = AtTerminal(["generate", "-f", "p.txt", "-j", "3", "-d", "batch"])
    try:
        code, out, screen = term.finish()
    finally:
        term.close()
    assert code == 0, term.seen
    assert len(out.splitlines()) == 6
    assert screen.cursor_shown
    lines = screen.text()
    assert lines[-1].startswith("done: 6 images saved"), lines
    assert not any("Generating" in line for line in lines), lines


def test_the_rich_internals_the_report_leans_on_are_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """report/terminal.py reaches into rich's live display, which has no API for erasing a frame
    or stopping from a signal handler; a rich that renames these fails here, not silently."""
    from rich.console import Console
    from rich.progress import Progress

    monkeypatch.setenv("TERM", "xterm-256color")
    console = Console(file=Transcript().stream("err", tty=True))
    progress = Progress(console=console, transient=True)
    progress.add_task("x", total=1)
    progress.start()
    try:
        progress.refresh()
        live = progress.live
        assert hasattr(live._lock, "acquire") and hasattr(console._lock, "acquire")
        assert hasattr(live._refresh_thread, "stop")
        assert live._live_render._shape is not None
        assert live._live_render.position_cursor().segment.text.startswith("\r\x1b[2K")
    finally:
        progress.stop()
