"""Writing to the terminal: data lines and tables on stdout; errors, warnings, notes on stderr.

The one palette: each kind of line has one style, drawn by rich where a run's live display owns
the terminal (report/run.py) and by the same SGR codes here where it does not.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
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
_SGR = {"bold red": "1;31", "dim": "2", "yellow": "33"}  # the styles the plain path draws


def is_terminal(stream: object) -> bool:
    """STREAM is a terminal; a closed stream, or one with no file behind it, is not."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


def stdout_is_terminal() -> bool:
    return is_terminal(sys.stdout)  # a function of its own: tests make stdout a terminal here


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
    stream = stream or sys.stderr
    text = f"{paint('error:', ERROR, stream)} {prefix}{error.line()}\n"
    if error.hint:
        text += f"{paint('hint:', HINT, stream)} {error.hint}\n"
    stream.write(text)
    stream.flush()


def warn(message: str, stream: TextIO | None = None) -> None:
    """`warning: …` on stderr (yellow for a person at a terminal), for commands without a Report."""
    stream = stream or sys.stderr
    stream.write(f"{paint('warning:', WARNING, stream)} {message}\n")
    stream.flush()


def note(text: str) -> None:
    """A plain line for people on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def data(text: str) -> None:
    """A command's data on stdout: a value, a path, a JSON document."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def retry_line(what: str, retry: Retrying) -> str:
    """retrying WHAT: 503 Service Unavailable, request id req_1; retry 1 of 3 in 0.5 s."""
    request_id = f", request id {retry.request_id}" if retry.request_id else ""
    return (
        f"retrying {what}{retry.reason}{request_id}; "
        f"retry {retry.attempt} of {retry.retries} in {retry.wait:.1f} s"
    )


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table that is the command's data, on stdout: rich on a terminal, else aligned columns."""
    if use_rich(sys.stdout):
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(header_style="bold", show_edge=False, box=None, pad_edge=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # Text: no markup in the cells
        Console(file=sys.stdout, highlight=False).print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        sys.stdout.write(line.rstrip() + "\n")
    sys.stdout.flush()


def format_usage(usage: dict[str, Any] | None) -> str | None:
    """tokens: input 16 (text 16, image 0), output 208, total 224."""
    if not usage:
        return None
    from deerimg.values import whole_number

    parts = []
    given_in = whole_number(usage.get("input_tokens"))
    if given_in is not None:
        text = f"input {given_in:,}"
        details = usage.get("input_tokens_details")
        if isinstance(details, dict):
            inner = [
                f"{k} {details[k]:,}"
                for k in ("text_tokens", "image_tokens")
                if isinstance(details.get(k), int)
            ]
            if inner:
                text += f" ({', '.join(inner).replace('_tokens', '')})"
        parts.append(text)
    for key in ("output_tokens", "total_tokens"):
        value = whole_number(usage.get(key))
        if value is not None:
            parts.append(f"{key.removesuffix('_tokens')} {value:,}")
    return "tokens: " + ", ".join(parts) if parts else None


def stdout_to_devnull() -> None:
    """Standard output's reader went away: what is still written goes nowhere, quietly."""
    to_devnull(sys.stdout)


def to_devnull(stream: TextIO) -> None:
    """Point STREAM's file at /dev/null, so the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind it (a test's buffer)
        pass
