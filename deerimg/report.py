"""The only writer to the terminal: data on stdout; people on stderr (rich on a TTY, else plain)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from deerimg.errors import DeerimgError

if TYPE_CHECKING:
    from deerimg.client import Retrying
    from deerimg.runner import Event, Saved, Summary, Task


def is_terminal(stream: object) -> bool:
    """STREAM is a terminal; a closed stream, or one with no file behind it, is not."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


def use_rich(stream: TextIO, quiet: bool = False) -> bool:
    """Colour and animation only for a person: a terminal, no NO_COLOR, not --quiet, not dumb."""
    if quiet or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def print_error(error: DeerimgError, stream: TextIO | None = None, prefix: str = "") -> None:
    """`error: …` and `hint: …`, the one shape every failure takes on stderr."""
    stream = stream or sys.stderr
    text = f"error: {prefix}{error.line()}\n"
    if error.hint:
        text += f"hint: {error.hint}\n"
    if use_rich(stream):
        text = text.replace("error:", "\x1b[1;31merror:\x1b[0m", 1).replace(
            "hint:", "\x1b[2mhint:\x1b[0m", 1
        )
    stream.write(text)
    stream.flush()


_quiet = False  # --quiet: errors only, from the first warning on


def be_quiet() -> None:
    """--quiet, known before settings are read: their warnings are not shown either."""
    global _quiet
    _quiet = True


def warn(message: str, stream: TextIO | None = None) -> None:
    """`warning: …` on stderr (yellow for a person at a terminal), for commands without a Report."""
    if _quiet:
        return
    stream = stream or sys.stderr
    label = "\x1b[33mwarning:\x1b[0m" if use_rich(stream) else "warning:"
    stream.write(f"{label} {message}\n")
    stream.flush()


def note(text: str) -> None:
    """A plain line for people on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


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

    def num(key: str, source: dict[str, Any] = usage) -> int | None:
        value = source.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    parts = []
    if num("input_tokens") is not None:
        text = f"input {num('input_tokens'):,}"
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
    if num("output_tokens") is not None:
        parts.append(f"output {num('output_tokens'):,}")
    if num("total_tokens") is not None:
        parts.append(f"total {num('total_tokens'):,}")
    return "tokens: " + ", ".join(parts) if parts else None


def _where(task: Task) -> str:
    return task.job.where


class Report:
    """Turns the runner's events into lines; thread-safe, since workers emit them."""

    def __init__(
        self,
        *,
        json_lines: bool = False,
        quiet: bool = False,
        paths_on_stdout: bool = True,
        debug: bool = False,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.json_lines = json_lines
        self.quiet = quiet
        self.paths_on_stdout = paths_on_stdout
        self.debug = debug
        self.rich = use_rich(self.stderr, quiet)
        self._stdout_tty = is_terminal(self.stdout)
        self._stdout_gone = False  # its reader went away (| head -1): data goes nowhere now
        self._lock = threading.RLock()
        self._progress: Any = None
        self._bar: Any = None
        self._console: Any = None
        self._batch = False
        self._failed = 0
        self._told_c2pa = False

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, total: int, first_prompt: str, model: str) -> None:
        self._batch = total > 1
        if not self.rich:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._console = Console(file=self.stderr, highlight=False)
        if self._batch:
            columns = [
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
            ]
            description = f"Generating with {model}"
        else:
            columns = [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]
            shown = first_prompt if len(first_prompt) <= 50 else first_prompt[:49] + "…"
            description = f"Generating “{shown}” with {model}"
        self._progress = Progress(*columns, console=self._console, transient=True)
        self._bar = self._progress.add_task(description, total=total, failed="")
        self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    # -- output ----------------------------------------------------------------------------

    def _data(self, line: str) -> None:
        with self._lock:
            if self._console is not None and self._stdout_tty:
                # Both streams are this terminal: print above the live display, as rich's own
                # stdout redirection does, so the spinner does not tear the line.
                self._console.print(line, markup=False, highlight=False, soft_wrap=True)
                return
            if self._stdout_gone:
                return
            try:
                self.stdout.write(line + "\n")
                self.stdout.flush()
            except BrokenPipeError:
                # The images are still saved, counted and recorded: only their paths have no
                # reader any more. Not a failed prompt, and no error at exit.
                self._stdout_gone = True
                _to_devnull(self.stdout)

    def _say(self, text: str, style: str | None = None) -> None:
        if self.quiet:
            return
        with self._lock:
            if self._console is not None:
                self._console.print(text, style=style, markup=False, soft_wrap=True)
            else:
                self.stderr.write(text + "\n")
                self.stderr.flush()

    def warn(self, message: str) -> None:
        self._say(f"warning: {message}", "yellow")

    def error(self, error: DeerimgError, prefix: str = "") -> None:
        with self._lock:
            if self._console is not None:
                self._console.print(
                    f"error: {prefix}{error.line()}", style="bold red", markup=False, soft_wrap=True
                )
                if error.hint:
                    self._console.print(f"hint: {error.hint}", style="dim", markup=False)
            else:
                print_error(error, self.stderr, prefix)

    # -- events ----------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        from deerimg.runner import Failed, Note, NotRun, RetryEvent, Saved

        if isinstance(event, NotRun):
            if self.json_lines:  # a script that re-runs what has an "error" gets these too
                error = {"status": None, "message": event.reason, "code": "not_run",
                         "request_id": None}  # fmt: skip
                record = {"prompt": event.task.job.prompt, "error": error}
                self._data(json.dumps(record, ensure_ascii=False))
        elif isinstance(event, Note):
            self.warn(event.text)
        elif isinstance(event, Saved):
            self._saved(event)
        elif isinstance(event, RetryEvent):
            self._say(retry_line(_where(event.task), event.retry), "yellow")
        elif isinstance(event, Failed):
            with self._lock:
                self._failed += 1
                if self._progress is not None:
                    self._progress.update(self._bar, advance=1, failed=f"{self._failed} failed")
            if self.debug:
                import traceback

                with self._lock:
                    traceback.print_exception(event.error, file=self.stderr)
            self.error(event.error, _where(event.task))
            if self.json_lines:
                record = {"prompt": event.task.job.prompt, "error": event.error.as_dict()}
                self._data(json.dumps(record, ensure_ascii=False))

    def _saved(self, event: Saved) -> None:
        task, result = event.task, event.result
        if event.path is not None and self.paths_on_stdout:
            if self.json_lines:
                body = task.body
                record = {
                    "path": str(event.path),
                    "prompt": task.job.prompt,
                    "model": body.get("model"),
                    "size": result.fields.get("size", body.get("size")),
                    "quality": result.fields.get("quality", body.get("quality")),
                    "output_format": event.fmt,
                    "bytes": event.size,
                    "revised_prompt": event.revised_prompt,
                    "usage": result.usage,
                    "request_id": result.request_id,
                    "elapsed_s": round(result.elapsed, 3),
                }
                self._data(json.dumps(record, ensure_ascii=False))
            elif not (self._console is not None and self._stdout_tty):
                # On a terminal the "saved" line below names the path already.
                self._data(str(event.path))
        with self._lock:
            if self._progress is not None and event.first:
                self._progress.update(self._bar, advance=1)
        if event.warning:
            self.warn(event.warning)
        if event.c2pa and not self._told_c2pa:
            self._told_c2pa = True
            where = "a sidecar FILE.json" if event.provenance == "sidecar" else "no file"
            self.warn(
                "images with C2PA content credentials are saved exactly as sent (changing a byte "
                f"breaks the signature); deerimg's provenance went to {where}"
            )
        where = str(event.path) if event.path is not None else "standard output"
        pixels = f"{event.pixels[0]}x{event.pixels[1]}, " if event.pixels else ""
        mark = "✓ " if self.rich else ""
        self._say(
            f"{mark}saved {where} ({pixels}{event.size:,} bytes, {result.elapsed:.1f} s)", "green"
        )
        if event.revised_prompt:  # what was made, in a batch too (the contract's stderr)
            self._say(f"  revised prompt: {event.revised_prompt}", "dim")
        if self._batch:
            return  # the summary has the token totals
        if event.first:
            usage = format_usage(result.usage)
            if usage:
                self._say(f"  {usage}", "dim")

    def summary(self, summary: Summary) -> None:
        self.stop()
        if not (self._batch or summary.interrupted or summary.skipped):
            return
        parts = [f"{summary.images} image{'s' if summary.images != 1 else ''} saved"]
        if summary.failed:
            parts.append(f"{summary.failed} prompt{'s' if summary.failed != 1 else ''} failed")
        if summary.skipped:
            parts.append(f"{summary.skipped} skipped (already there)")
        if summary.not_run:
            parts.append(f"{summary.not_run} not run")
        tokens = summary.tokens
        text = ", ".join(parts)
        text += f"; tokens: input {tokens['input']:,}, output {tokens['output']:,}, "
        text += f"total {tokens['total']:,}; {summary.elapsed:.1f} s"
        head = "interrupted: " if summary.interrupted else "done: "
        self._say(head + text, "bold")

    def dry_run(self, requests: Iterable[dict[str, Any]]) -> None:
        for request in requests:
            self._data(json.dumps(request, ensure_ascii=False))


def _to_devnull(stream: TextIO) -> None:
    """Point STREAM's file at /dev/null, so the flush at exit does not fail on the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind it (a test's buffer)
        pass
