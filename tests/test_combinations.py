"""Refused before sending: combinations a JSON line makes with the flags, an empty model, -o - on
a terminal. Each is exit 2 with nothing sent and nothing written."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from tests.helpers import names_in


def refused(fake_api, result, message: str) -> None:
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert fake_api.requests == []
    assert [name for name in names_in() if name != "prompts.txt"] == []


@pytest.mark.parametrize(
    ("line", "args", "message"),
    [
        (
            {"prompt": "c", "output_format": "jpeg"},
            ["--background", "transparent"],
            "standard input line 1: --background transparent needs png or webp",
        ),
        (
            {"prompt": "c", "background": "transparent"},
            ["--format", "jpeg"],
            'standard input line 1: "background" transparent needs png or webp',
        ),
        (
            {"prompt": "a", "model": "gpt-image-1"},
            ["-m", "dall-e-3", "--response-format", "url"],
            "standard input line 1: --response-format is not accepted by gpt-image-1",
        ),
        (
            {"prompt": "a", "response_format": "url"},
            [],
            'standard input line 1: "response_format" is not accepted by gpt-image-2',
        ),
        (
            {"prompt": "a", "output_format": "png"},
            ["--format", "jpeg", "--compression", "50"],
            "standard input line 1: --compression applies to jpeg and webp only",
        ),
        (
            {"prompt": "a", "output_compression": 50},
            [],
            'standard input line 1: "output_compression" applies to jpeg and webp only',
        ),
        (
            {"prompt": "a", "output": "a.jpg"},
            ["--background", "transparent"],
            "standard input line 1: --background transparent needs png or webp",
        ),
    ],
)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_line_with_the_flags_makes_a_refused_combination(
    fake_api, invoke, line, args, message, dry_run
):
    text = '{"prompt": "fine"}\n' + json.dumps(line) + "\n"
    extra = ["--dry-run"] if dry_run else []
    result = invoke("generate", *args, *extra, input=text)
    refused(fake_api, result, message.replace("line 1", "line 2"))
    assert "-p " in result.stderr  # the escape is named


def test_a_prompt_file_line_is_named(fake_api, invoke):
    Path("prompts.txt").write_text('a fox\n\n{"prompt": "c", "output_format": "jpeg"}\n')
    result = invoke("generate", "-f", "prompts.txt", "--background", "transparent", "--dry-run")
    refused(fake_api, result, "prompts.txt line 3: ")


@pytest.mark.parametrize(
    ("line", "args"),
    [
        # the line's model takes url; the flag's GPT model is not what is sent
        ({"prompt": "a", "model": "dall-e-3"}, ["-m", "gpt-image-1", "--response-format", "url"]),
        # the line asks for jpeg, so the flag's png is not what is sent
        ({"prompt": "a", "output_format": "jpeg"}, ["--format", "png", "--compression", "50"]),
        (
            {"prompt": "a", "output_format": "webp"},
            ["--format", "jpeg", "--background", "transparent"],
        ),
        # values outside the tables still pass through a line, as before
        ({"prompt": "a", "quality": "ultra", "output_format": "avif"}, ["--compression", "50"]),
    ],
)
def test_a_line_can_also_lift_a_combination(fake_api, invoke, line, args):
    result = invoke("generate", *args, "--dry-run", input=json.dumps(line) + "\n")
    assert result.exit_code == 0, result
    body = json.loads(result.stdout)["body"]
    assert {k: body[k] for k in line if k != "prompt"} == {
        k: v for k, v in line.items() if k != "prompt"
    }


def test_p_is_still_the_way_to_send_a_combination_anyway(fake_api, invoke):
    for args in (
        ["--compression", "50", "-p", "output_format=jpeg"],
        ["--format", "jpeg", "-p", "background=transparent"],
        ["-m", "gpt-image-1", "-p", "response_format=url"],
    ):
        result = invoke("generate", "a fox", *args, "--dry-run")
        assert result.exit_code == 0, (args, result)


@pytest.mark.parametrize("model", ["", " ", "\t"])
def test_an_empty_model_is_refused(fake_api, invoke, model):
    for extra in ([], ["--dry-run"]):
        result = invoke("generate", "x", "-m", model, *extra)
        refused(fake_api, result, "every request names a model")
    escaped = invoke("generate", "x", "-p", f"model={json.dumps(model)}", "--dry-run")
    refused(fake_api, escaped, "the model is empty")


@pytest.mark.parametrize("model", ["", "  "])
def test_an_empty_model_on_a_line_is_refused(fake_api, invoke, model):
    result = invoke("generate", input=json.dumps({"prompt": "x", "model": model}) + "\n")
    refused(fake_api, result, 'standard input line 1: "model" must be a non-empty string')


def test_stdout_bytes_on_a_terminal_are_refused(fake_api, invoke, monkeypatch):
    from deerimg.report import terminal

    # CliRunner swaps sys.stdout for a pipe-like stream during the run, so the check is made to
    # see a terminal; test_terminal_check_reads_stdout shows what it reads.
    monkeypatch.setattr(terminal, "stdout_is_terminal", lambda: True)
    result = invoke("generate", "a boat", "-o", "-")
    refused(fake_api, result, "-o - writes the image's bytes to standard output")
    assert "hint: redirect it (-o - > out.png) or pipe it" in result.stderr
    assert result.stdout_bytes == b""
    # --dry-run sends nothing and prints the plan, so it still works on a terminal
    dry = invoke("generate", "a boat", "-o", "-", "--dry-run")
    assert dry.exit_code == 0, dry
    assert json.loads(dry.stdout)["outputs"] == ["-"]
    assert fake_api.requests == []
    # a file on stdout is no terminal
    assert invoke("generate", "a boat", "-o", "out.png").exit_code == 0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_check_reads_stdout(monkeypatch):
    from deerimg.report import terminal

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert terminal.stdout_is_terminal()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not terminal.stdout_is_terminal()
    closed = io.StringIO()
    closed.close()  # isatty() on a closed stream raises ValueError
    monkeypatch.setattr(sys, "stdout", closed)
    assert not terminal.stdout_is_terminal()
