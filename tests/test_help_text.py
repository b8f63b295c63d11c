"""What --help and the man page say of arguments and options (issue 16, finding 20)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT
from tools import gen

LEAVES = [cmd.path for cmd in gen.command_tree().walk() if cmd.path and not cmd.subcommands]


@pytest.mark.parametrize("path", LEAVES, ids=[" ".join(p) for p in LEAVES])
def test_no_option_reads_as_a_python_type(path: tuple[str, ...]) -> None:
    from deerimg.cli import app

    shown = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert shown.exit_code == 0, shown.output
    options = [line for line in shown.output.splitlines() if re.match(r"[│|]\s+-", line)]
    assert options, shown.output
    typed = [line.strip("│ ") for line in options if re.search(r"<\w+>", line)]
    assert typed == [], "an option's value reads as <str>/<int>: give it a metavar"


def test_the_man_synopsis_brackets_only_what_may_be_left_out() -> None:
    synopsis = (ROOT / "man" / "deerimg.1").read_text().split("\n.SH SYNOPSIS\n")[1]
    synopsis = synopsis.split("\n.SH ")[0]
    edit = [line for line in synopsis.splitlines() if line.startswith(r"\fBdeerimg edit\fR")]
    assert edit == [
        r"\fBdeerimg edit\fR [\fIOPTIONS\fR] \fIIMAGE\fR... \fIPROMPT\fR",
        r"\fBdeerimg edit\fR [\fIOPTIONS\fR] \fB\-f\fR \fIFILE\fR [\fIIMAGE\fR...]",
    ]
    assert r"\fBdeerimg generate\fR [\fIOPTIONS\fR] [\fIPROMPT\fR]" in synopsis  # piped: none
    assert r"\fBdeerimg config set\fR [\fIOPTIONS\fR] \fIKEY\fR [\fIVALUE\fR]" in synopsis
