"""Prompt sources (argument, -, -f file, piped stdin, JSON lines) → a list of Jobs."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from deerimg.errors import usage_error
from deerimg.values import check_finite, is_count


@dataclass(slots=True)
class Job:
    prompt: str
    overrides: Mapping[str, Any] = field(default_factory=dict)  # request fields from a JSON line
    output: str | None = None  # a JSON line's "output"
    line: int | None = None  # where it came from, for messages
    source: str | None = None
    model: str | None = None  # the -m it runs on, when several are given (jobs/models.py)

    @property
    def where(self) -> str:
        """'prompts.txt line 3: ' for a prompt from a file's line, leading its messages; else ''.

        On one of several models, the model too: 'prompts.txt line 3, model dall-e-3: '.
        """
        line = f"{self.source} line {self.line}" if self.line is not None else ""
        model = f"model {self.model}" if self.model is not None else ""
        where = ", ".join(part for part in (line, model) if part)
        return f"{where}: " if where else ""


# A line ends at \n, \r\n or \r. str.splitlines() also breaks at U+2028, U+2029, U+0085, \x0b,
# \x0c and \x1c-\x1e, which a prompt or a JSON string may hold (json.dumps leaves U+2028 raw).
LINE_END = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    lines = LINE_END.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def check_utf8(text: str, where: str) -> str:
    """TEXT, unless it holds lone surrogates: bytes that were not UTF-8 (a Latin-1 terminal's
    argument, stdin read with surrogateescape, a JSON \\udcxx escape). No API can read them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise usage_error(
            f"{where} is not valid UTF-8 text", hint="convert it, for example with iconv -t UTF-8"
        ) from None
    return text


def read_jobs(
    prompt: str | None,
    file: str | None,
    stdin: TextIO | None,
    stdin_is_tty: bool,
    tell: Callable[[str], None],
) -> list[Job]:
    """The prompts of a run; STDIN is None when the process has none (started with <&-).

    TELL gets a line for the person at the terminal before standard input is read there.
    """
    if prompt is not None and file is not None:
        raise usage_error("give a PROMPT or --file, not both")
    if prompt == "-":
        _tell_how_to_end(stdin_is_tty, "the prompt", tell)
        text = check_utf8(_read_stream(stdin, "standard input").strip(), "standard input")
        if not text:
            raise usage_error("standard input holds no prompt")
        return [Job(text)]
    if prompt is not None:
        if not prompt.strip():
            raise usage_error("the prompt is empty")
        return [Job(check_utf8(prompt.strip(), "the prompt"))]
    if file is None:
        if stdin_is_tty or stdin is None:
            raise usage_error(
                "no prompt given",
                hint='deerimg generate "a paper boat at sunrise" -o boat.jpg, or -f prompts.txt',
            )
        file = "-"
    if file == "-":
        _tell_how_to_end(stdin_is_tty, "one prompt a line", tell)
        return parse_lines(split_lines(_read_stream(stdin, "standard input")), "standard input")
    path = Path(file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise usage_error(f"cannot read prompt file {file}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise usage_error(f"{file} line {line}: not UTF-8 text") from None
    return parse_lines(split_lines(text), file)


def _tell_how_to_end(stdin_is_tty: bool, what: str, tell: Callable[[str], None]) -> None:
    """At a terminal, `-` would wait in silence for the end of input: say what it waits for."""
    if stdin_is_tty:
        end = "Ctrl-Z then Enter" if sys.platform == "win32" else "Ctrl-D"
        tell(f"type {what}, then {end} on a line of its own")


def _read_stream(stream: TextIO | None, name: str) -> str:
    if stream is None:
        raise usage_error(f"{name} is closed: there is no prompt to read from it")
    try:
        text = stream.read()
    except UnicodeDecodeError:
        raise usage_error(f"{name} is not UTF-8 text") from None
    # A byte-order mark (Windows editors, PowerShell) is not part of the first prompt: as in
    # a --file, which is read as utf-8-sig, a first "# comment" stays a comment.
    return text.removeprefix("\ufeff")


def parse_lines(lines: Iterable[str], source: str) -> list[Job]:
    """One prompt a line; blank and # lines skipped; a line starting with { is a JSON object."""
    jobs: list[Job] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        check_utf8(line, f"{source} line {number}")
        if line.startswith("{"):
            jobs.append(_json_job(line, number, source))
        else:
            jobs.append(Job(line, line=number, source=source))
    if not jobs:
        raise usage_error(f"{source} holds no prompt (blank lines and # comments are skipped)")
    return jobs


def _json_job(line: str, number: int, source: str) -> Job:
    where = f"{source} line {number}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise usage_error(f"{where}: invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:  # [[[[… thousands deep
        raise usage_error(f"{where}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise usage_error(f"{where}: a JSON line must be an object")
    prompt = data.pop("prompt", None)
    if not isinstance(prompt, str) or not prompt.strip():
        raise usage_error(f'{where}: a JSON line needs a non-empty string "prompt"')
    output = data.pop("output", None)
    if output is not None and (not isinstance(output, str) or not output.strip()):
        raise usage_error(f'{where}: "output" must be a non-empty string path')
    if "n" in data and not is_count(data["n"]):
        raise usage_error(f'{where}: "n" must be a whole number from 1 to 10')
    if "model" in data and (not isinstance(data["model"], str) or not data["model"].strip()):
        raise usage_error(f'{where}: "model" must be a non-empty string')
    nulls = [key for key, value in data.items() if value is None]
    if nulls:
        raise usage_error(f"{where}: null is never sent ({', '.join(nulls)}); omit the field")
    check_finite(data, "", where)  # before json.dumps below turns 1e999 into Infinity
    check_utf8(json.dumps(data, ensure_ascii=False) + prompt + (output or ""), where)  # \udcxx
    return Job(prompt.strip(), overrides=data, output=output, line=number, source=source)
