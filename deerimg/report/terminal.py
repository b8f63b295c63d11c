"""Writing to the terminal: data lines and tables on stdout; errors, warnings, notes on stderr.

The one palette: each kind of line has one style, drawn by rich where a run's live display owns
the terminal (report/run.py) and by the same SGR codes here where it does not.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from deerimg.errors import DeerimgError
    from deerimg.events import Retrying

ERROR = "bold red"
HINT = "dim"
WARNING = "yellow"
SAVED = "green"
DETAIL = "dim"
SUMMARY = "bold"
SHOW_CURSOR = "\x1b[?25h"  # DECTCEM: rich hides the cursor while its live display runs
_SGR = {"bold red": "1;31", "dim": "2", "yellow": "33"}  # the styles the plain path draws


class _Nowhere(io.TextIOBase):
    """A stream whose reader went away before it came (`>&-`, a daemon's closed fd): what is
    written to it goes nowhere, and nothing fails."""

    encoding = "utf-8"
    errors = "strict"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


NOWHERE: TextIO = _Nowhere()  # type: ignore[assignment]  # a TextIOBase is a TextIO to rich
ESCAPE = "deerimg.escape"  # the encoding error handler of the standard streams, below


def stdout() -> TextIO:
    """Standard output, or nowhere when the process has none (`>&-`: sys.stdout is None)."""
    return sys.stdout if sys.stdout is not None else NOWHERE


def stderr() -> TextIO:
    """Standard error, or nowhere when the process has none (`2>&-`: sys.stderr is None)."""
    return sys.stderr if sys.stderr is not None else NOWHERE


def steady_streams() -> None:
    """Make the standard streams safe for the whole process, once, before the command runs.

    - A stream the process was started without (`>&-`, `2>&-`; Python then makes it None) is
      opened on /dev/null, so every writer (typer, rich, the flush at exit) finds one. Its
      lines go nowhere, as to a reader that went away, and the run goes on as if they were
      read: the images are saved and recorded as such, and the exit code is the same.
    - A stream that would fail on text its encoding cannot carry (PYTHONIOENCODING=ascii, a
      C locale; Python's "strict") writes such characters as JSON's escapes (`\\u2026`), and
      a file name's bytes that are not UTF-8 (lone surrogates, as os.fsdecode gives them) as
      those bytes, so a path printed names the file. Python's stderr already backslashreplaces.
    """
    _register_escape()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            try:
                stream = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115 - for good
            except OSError:
                stream = NOWHERE
            setattr(sys, name, stream)
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors=ESCAPE)


def _register_escape() -> None:
    try:
        codecs.lookup_error(ESCAPE)
    except LookupError:
        codecs.register_error(ESCAPE, _escape)


def _escape(error: UnicodeError) -> tuple[str | bytes, int]:
    """Lone surrogates U+DC80-U+DCFF back to the bytes they stand for; anything else that the
    encoding cannot carry as a backslash escape. One run of either kind at a time: the codec
    asks again for the rest."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text, start, end = error.object, error.start, error.start
    surrogate = _is_escaped_byte(text[start])
    while end < error.end and _is_escaped_byte(text[end]) == surrogate:
        end += 1
    if surrogate:
        return bytes(ord(char) - 0xDC00 for char in text[start:end]), end
    # \uXXXX, astral characters as their UTF-16 pair: a --json line stays JSON, and reads back
    # as the text it holds (backslashreplace's \xe9 and \U0001f600 are no JSON).
    units = text[start:end].encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)), end


def _is_escaped_byte(char: str) -> bool:
    return "\udc80" <= char <= "\udcff"


def is_terminal(stream: object) -> bool:
    """STREAM is a terminal; a closed stream, or one with no file behind it, is not."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


def stdout_is_terminal() -> bool:
    return is_terminal(stdout())  # a function of its own: tests make stdout a terminal here


def stdin_is_terminal() -> bool:
    return is_terminal(sys.stdin)  # a function of its own: tests make stdin a terminal here


def use_rich(stream: TextIO, quiet: bool = False) -> bool:
    """Colour and animation only for a person: a terminal, no NO_COLOR, not --quiet, not dumb."""
    if quiet or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def paint(text: str, style: str, stream: TextIO) -> str:
    """TEXT in STYLE for a person at a terminal; as it is for anyone else."""
    if not use_rich(stream):
        return text
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m"


def print_error(error: DeerimgError, stream: TextIO | None = None, prefix: str = "") -> None:
    """`error: …` and `hint: …`, the one shape every failure takes on stderr."""
    stream = stream or stderr()
    text = f"{paint('error:', ERROR, stream)} {prefix}{error.line()}\n"
    if error.hint:
        text += f"{paint('hint:', HINT, stream)} {error.hint}\n"
    stream.write(text)
    stream.flush()


def warn(message: str, stream: TextIO | None = None) -> None:
    """`warning: …` on stderr (yellow for a person at a terminal), for commands without a Report."""
    stream = stream or stderr()
    stream.write(f"{paint('warning:', WARNING, stream)} {message}\n")
    stream.flush()


def note(text: str) -> None:
    """A plain line for people on stderr."""
    stream = stderr()
    stream.write(text + "\n")
    stream.flush()


def data(text: str) -> None:
    """A command's data on stdout: a value, a path, a JSON document."""
    stream = stdout()
    stream.write(text + "\n")
    stream.flush()


def retry_line(what: str, retry: Retrying) -> str:
    """retrying WHAT: 503 Service Unavailable, request id req_1; retry 1 of 3 in 0.5 s."""
    request_id = f", request id {retry.request_id}" if retry.request_id else ""
    return (
        f"retrying {what}{retry.reason}{request_id}; "
        f"retry {retry.attempt} of {retry.retries} in {retry.wait:.1f} s"
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table that is the command's data, on stdout: rich on a terminal, else aligned columns."""
    out = stdout()
    if use_rich(out):
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(header_style="bold", show_edge=False, box=None, pad_edge=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # Text: no markup in the cells
        Console(file=out, highlight=False).print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
    out.flush()


def stdout_to_devnull() -> None:
    """Standard output's reader went away: what is still written goes nowhere, quietly."""
    to_devnull(stdout())


def to_devnull(stream: TextIO) -> None:
    """Point STREAM's file at /dev/null, so the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind it (a test's buffer)
        pass


# -- the edges of rich's live display (report/run.py): rich has no API for them ---------------


def clear_frame(progress: Any) -> str:
    """The sequence that erases PROGRESS's frame (the cursor is at its end), as rich's next
    refresh begins; the frame is then forgotten, so that refresh draws it anew where the cursor
    is (below a line written meanwhile), erasing nothing above. "" when nothing is drawn."""
    render = getattr(getattr(progress, "live", None), "_live_render", None)
    if render is None or getattr(render, "_shape", None) is None:
        return ""
    text = str(render.position_cursor().segment.text)
    render._shape = None
    return text


@contextlib.contextmanager
def refreshes_held(progress: Any) -> Iterator[None]:
    """No refresh of PROGRESS's live display meanwhile (its refresh thread holds this lock)."""
    lock = getattr(getattr(progress, "live", None), "_lock", None)
    with lock if lock is not None else contextlib.nullcontext():
        yield


def stop_at_once(progress: Any, console: Any, stream: TextIO) -> None:
    """The second Ctrl-C, from a signal handler, just before os._exit: `interrupted again` on
    STREAM, with the cursor shown and no frame of PROGRESS left on the line.

    Not the live display's stop(), whose locks the interrupted thread or a worker may hold: its
    locks are taken if they come within a moment (no frame is half written then), its refresh
    thread is told to stop, CONSOLE goes quiet for the rest of the process (a worker's line
    would draw the frame again), and the frame is erased here.
    """
    text = "interrupted again: stopped at once\n"
    if console is None:
        stream.write("\n" + text)
        stream.flush()
        return
    live = getattr(progress, "live", None)
    locks = [getattr(live, "_lock", None), getattr(console, "_lock", None)]
    held = [lock for lock in locks if lock is not None and lock.acquire(timeout=0.5)]
    try:
        refresher = getattr(live, "_refresh_thread", None)
        if refresher is not None:
            refresher.stop()
        console.quiet = True
        stream.write(f"{clear_frame(progress)}{SHOW_CURSOR}{text}")
        stream.flush()
    finally:
        for lock in reversed(held):
            lock.release()
