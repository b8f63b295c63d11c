"""A run's events drawn for people and scripts: a spinner or bar, saved lines, --json records."""

from __future__ import annotations

import json
import threading
from typing import Any, TextIO

from deerimg.errors import DeerimgError
from deerimg.events import (
    DryRun,
    Event,
    Failed,
    Finished,
    Note,
    NotRun,
    Paced,
    Partial,
    RetryEvent,
    Saved,
    Starting,
    StoppedAtOnce,
    Summary,
    TaskUpdate,
)
from deerimg.report import terminal
from deerimg.report.saved import saved_lines
from deerimg.report.summary import pace_record, summary_lines
from deerimg.report.terminal import (
    DETAIL,
    ERROR,
    HINT,
    SUMMARY,
    WARNING,
    is_terminal,
    print_error,
    retry_line,
    to_devnull,
    use_rich,
)
from deerimg.report.thumbnails import Thumbnails


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
        preview: str | None = None,
    ) -> None:
        # A process started without them (`>&-`) has None: a reader that went away (terminal.py).
        self.stdout = stdout or terminal.stdout()
        self.stderr = stderr or terminal.stderr()
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
        self._notes: set[str] = set()  # the notes told once a run
        self._writes = 0  # lines and pictures on the terminal: a partial written last is replaced
        # --preview, PREVIEW naming where it was asked (flag, env, config): on a terminal only
        shown = preview is not None and not quiet and terminal.is_terminal(self.stderr)
        self._thumbnails = Thumbnails(preview) if preview is not None and shown else None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, total: int, first_prompt: str, model: str) -> None:
        self._batch = total > 1
        if not self.rich:
            return
        from rich.console import Console

        from deerimg.report.progress import live_display

        self._console = Console(file=self.stderr, highlight=False)
        self._progress, self._bar = live_display(self._console, total, first_prompt, model)
        self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()  # a live display never outlives the run, however it ends

    # -- output ----------------------------------------------------------------------------

    def _data(self, line: str) -> None:
        with self._lock:
            self._writes += self._stdout_tty  # a line on the terminal: a partial scrolls up
            if self._console is not None and self._stdout_tty:
                # Both streams are this terminal: print above the live display, as rich's own
                # stdout redirection does, so the spinner does not tear the line.
                self._console.print(line, markup=False, highlight=False, soft_wrap=True)
                return
            if self._stdout_gone:
                return
            # With the live display on stderr's terminal, what is piped (`| cat`, `| tee`) may
            # reach that terminal too, at the end of the frame: the frame is erased first, and
            # no refresh draws it again until the line is written (then below it).
            try:
                with terminal.refreshes_held(self._progress):
                    erase = terminal.clear_frame(self._progress)
                    if erase:
                        self.stderr.write(erase)
                        self.stderr.flush()
                    self.stdout.write(line + "\n")
                    self.stdout.flush()
            except (BrokenPipeError, ValueError):  # a pipe whose reader left; a closed file
                # The images are still saved, counted and recorded: only their paths have no
                # reader any more. Not a failed prompt, and no error at exit.
                self._stdout_gone = True
                to_devnull(self.stdout)

    def _say(self, text: str, style: str | None = None) -> None:
        if self.quiet:
            return
        with self._lock:
            self._writes += 1
            if self._console is not None:
                self._console.print(text, style=style, markup=False, soft_wrap=True)
            else:
                self.stderr.write(text + "\n")
                self.stderr.flush()

    def warn(self, message: str) -> None:
        self._say(f"warning: {message}", WARNING)

    def error(self, error: DeerimgError, prefix: str = "") -> None:
        with self._lock:
            self._writes += 1
            if self._console is not None:
                self._console.print(
                    f"error: {prefix}{error.line()}", style=ERROR, markup=False, soft_wrap=True
                )
                if error.hint:
                    self._console.print(f"hint: {error.hint}", style=HINT, markup=False)
            else:
                print_error(error, self.stderr, prefix)

    # -- events ----------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        if isinstance(event, Saved):
            self._saved(event)
        elif isinstance(event, RetryEvent):
            self._say(retry_line(event.where, event.retry), WARNING)
        elif isinstance(event, TaskUpdate):
            self._task(event)
        elif isinstance(event, Failed):
            self._failed_prompt(event)
        elif isinstance(event, NotRun):
            if self.json_lines:  # a script that re-runs what has an "error" gets these too
                error = {"status": None, "message": event.reason, "code": event.code,
                         "request_id": None}  # fmt: skip
                self._failure_record(event.prompt, event.model, error)
        elif isinstance(event, Partial):
            self._partial(event)
        elif isinstance(event, Note):
            self._note(event)
        elif isinstance(event, Starting):
            self.start(event.total, event.first_prompt, event.model)
        elif isinstance(event, DryRun):
            self._data(json.dumps(event.request, ensure_ascii=False))
        elif isinstance(event, Finished):
            self.summary(event.summary)
        elif isinstance(event, Paced) and self._progress is not None:
            with self._lock:
                self._progress.update(self._bar, rate=f"{event.per_minute:.0f}/min")
        elif isinstance(event, StoppedAtOnce):
            # From a signal handler: not this report's lock, which the interrupted thread or a
            # worker may hold for as long as a slow terminal takes.
            terminal.stop_at_once(self._progress, self._console, self.stderr)

    def _note(self, note: Note) -> None:
        if note.once and note.text in self._notes:
            return  # told already this run
        self._notes.add(note.text)
        if note.plain:
            self._say(note.text, DETAIL)
        else:
            self.warn(note.text)

    def _task(self, event: TaskUpdate) -> None:
        if event.status is None:
            self._say(f"{event.where}task {event.task_id} submitted; polling it", DETAIL)
        elif self._progress is not None and not self._batch:
            state = " ".join(filter(None, (event.status, event.progress)))
            with self._lock:
                self._progress.update(self._bar, description=f"Task {event.task_id}: {state}")

    def _failed_prompt(self, event: Failed) -> None:
        with self._lock:
            self._failed += 1
            if self._progress is not None:
                self._progress.update(self._bar, advance=1, failed=f"{self._failed} failed")
        if self.debug:
            import traceback

            with self._lock:
                traceback.print_exception(event.error, file=self.stderr)
        self.error(event.error, event.where)
        if self.json_lines:
            self._failure_record(event.prompt, event.model, event.error.as_dict())

    def _failure_record(self, prompt: str, model: str | None, error: dict[str, Any]) -> None:
        """A failed (or not run) prompt's --json record: its prompt, model and error."""
        record = {"prompt": prompt, **({"model": model} if model is not None else {})}
        self._data(json.dumps({**record, "error": error}, ensure_ascii=False))

    def _saved(self, event: Saved) -> None:
        record = event.record
        if record.path is not None and self.paths_on_stdout:
            if self.json_lines:
                self._data(json.dumps(record.as_json(), ensure_ascii=False))
            elif not (self._console is not None and self._stdout_tty):
                # On a terminal the "saved" line below names the path already.
                self._data(record.path)
        thumbnails = self._thumbnails
        shown, note = thumbnails.of(record.path, event.pixels) if thumbnails else (None, None)
        with self._lock:  # its lines together, never split by another image's (one lock hold)
            erase = thumbnails.erase(event.task, self._writes) if thumbnails else ""
            if erase:  # its last partial, shown just before: the image takes its place
                self._show(erase, end="")
            if self._progress is not None and event.first:
                self._progress.update(self._bar, advance=1)
            self._saved_lines(event)
            if note:
                self._say(note, DETAIL)
            if shown:
                self._show(shown)

    def _show(self, sequence: str, end: str = "\n") -> None:
        """SEQUENCE on stderr's terminal as _data writes a line: the live frame erased first."""
        self._writes += 1
        with terminal.refreshes_held(self._progress):
            self.stderr.write(terminal.clear_frame(self._progress) + sequence + end)
            self.stderr.flush()

    @property
    def previewing(self) -> bool:
        """--preview shows pictures here: partial images then go only to the screen."""
        return self._thumbnails is not None

    def _partial(self, event: Partial) -> None:
        """A streamed partial image, in place of the task's last one (--preview)."""
        if self._thumbnails is None:
            return
        with self._lock:
            shown = self._thumbnails.partial(event.number, event.data, event.pixels, self._writes)
            if shown:
                self._show(shown, end="")
                self._thumbnails.drawn(event.number, self._writes)

    def _saved_lines(self, event: Saved) -> None:
        tell_c2pa = event.c2pa and not self._told_c2pa
        self._told_c2pa = self._told_c2pa or event.c2pa
        for text, style in saved_lines(event, rich=self.rich, batch=self._batch, c2pa=tell_c2pa):
            self._say(text, style)

    def summary(self, summary: Summary) -> None:
        self.stop()
        record = pace_record(summary)  # -j auto's: the rate, after the images' records
        if self.json_lines and self.paths_on_stdout and record is not None:
            self._data(json.dumps(record, ensure_ascii=False))
        if not (self._batch or summary.interrupted or summary.skipped or summary.budget_stopped):
            return
        for line in summary_lines(summary):
            self._say(line, SUMMARY)
