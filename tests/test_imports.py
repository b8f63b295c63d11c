"""Issue 10: start-up stays cheap. What each path imports, checked in a fresh interpreter.

`python -X importtime` lists every module a process imports, so these tests see exactly what
`deerimg --version`, `--help` and `import deerimg.cli` load, without timing anything: a timing
test would be flaky on a busy machine, an import that crept in is not. The figures themselves
come from `python tests/benchmarks/bench.py` (README, Performance).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Imported only where requests are sent (client.py) or progress is drawn (report.py).
SENDING = ("httpx", "httpcore", "h11", "anyio", "ssl", "certifi")
DRAWING = ("rich.progress", "rich.console", "rich.live")
# What typer.rich_utils imports at its top but deerimg's help never uses (deerimg/_startup.py).
HELP_UNUSED = ("rich.markdown", "markdown_it", "rich.traceback", "rich.syntax", "pygments")
# typer 0.29 builds pydantic adapters for every command (pyproject.toml pins typer < 0.29).
PYDANTIC = ("pydantic", "pydantic_core")


def imported(*args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules `python -X importtime ARGS` imported, and the finished process."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPROFILEIMPORTTIME",)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    modules.discard("imported package")  # the header line: "import time: self [us] | ..."
    return modules, done


def among(modules: set[str], names: tuple[str, ...]) -> set[str]:
    """The modules that are one of NAMES or inside one of them."""
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


def test_importtime_lists_modules() -> None:
    # The other tests pass vacuously if the parsing finds nothing: make sure it finds something.
    modules, done = imported("-c", "import deerimg.cli")
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"deerimg.cli", "typer"} <= modules


def test_cli_module_leaves_httpx_and_rich_out() -> None:
    modules, done = imported("-c", "import deerimg.cli")
    assert done.returncode == 0, done.stderr[-2000:]
    assert among(modules, SENDING + DRAWING + PYDANTIC) == set()


def test_version_answers_before_typer() -> None:
    from deerimg import __version__

    modules, done = imported("-m", "deerimg", "--version")
    assert (done.returncode, done.stdout) == (0, f"deerimg {__version__}\n")
    assert "deerimg" in modules  # runpy imports the package, then runs __main__ as a script
    assert among(modules, ("typer", "deerimg.cli", "rich", "platformdirs", *SENDING)) == set()


def test_version_imports_deerimg_and_its_start_up_module_only() -> None:
    # Issue 16's guards (signals, closed streams, every way out through leave) cost no import:
    # beyond what runpy itself brings, --version loads the package and _startup, nothing else.
    modules, done = imported("-m", "deerimg", "--version")
    baseline, _ = imported("-c", "import runpy")
    assert done.returncode == 0, done.stderr[-2000:]
    assert modules - baseline - {"__future__"} == {"deerimg", "deerimg._startup"}


@pytest.mark.parametrize(
    "args", [["--help"], ["generate", "--help"]], ids=["help", "generate-help"]
)
def test_help_sends_and_builds_nothing(args: list[str]) -> None:
    modules, done = imported("-m", "deerimg", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage" in done.stdout
    assert among(modules, (*SENDING, "rich.progress", "rich.live", *PYDANTIC)) == set()
    assert "typer.rich_utils" in modules  # the panels are drawn by typer, as before
    assert among(modules, HELP_UNUSED) == set()


def test_usage_error_leaves_markdown_and_pygments_out() -> None:
    modules, done = imported("-m", "deerimg", "generate", "x", "--no-such-option")
    assert done.returncode == 2
    assert "--no-such-option" in done.stderr and "Traceback" not in done.stderr
    assert "typer.rich_utils" in modules  # typer draws the usage error's panel
    assert among(modules, HELP_UNUSED) == set()


DEFERRED_SCRIPT = """
import sys
from deerimg import _startup
_startup.defer_help_imports()
import typer.rich_utils as ru
assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
assert type(ru.Markdown).__name__ == "_Deferred"
from rich.markdown import Markdown, Heading  # a later import gets the real module, whole
assert type(ru.Markdown("# title")) is Markdown
assert Heading.__module__ == "rich.markdown"
import rich.traceback
try:
    raise ValueError("boom")
except ValueError as exc:
    tb = ru.Traceback.from_exception(type(exc), exc, exc.__traceback__)
assert isinstance(tb, rich.traceback.Traceback) and isinstance(tb, ru.Traceback)
print("ok")
"""


def test_deferred_stand_ins_give_the_real_classes() -> None:
    # The stand-ins leave sys.modules once typer.rich_utils is loaded; using one imports the
    # real module, so markdown help or a rich traceback would still work if ever turned on.
    done = subprocess.run(
        [sys.executable, "-c", DEFERRED_SCRIPT],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr[-2000:]


MARKDOWN_APP = """
from deerimg import _startup
_startup.defer_help_imports()
import typer
app = typer.Typer(rich_markup_mode="markdown")
@app.command()
def hello(name: str = "x") -> None:
    \"\"\"Say **hello** to `NAME`.\"\"\"
app()
"""


def test_markdown_help_still_renders_after_the_deferral() -> None:
    done = subprocess.run(
        [sys.executable, "-c", MARKDOWN_APP, "--help"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
        env={**os.environ, "COLUMNS": "80", "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Say hello to NAME." in done.stdout  # rendered: no ** nor backticks left


LEAF_COMMANDS = ["generate", "edit", "info", "history", "models"]


@pytest.mark.parametrize("name", LEAF_COMMANDS)
@pytest.mark.parametrize("args", [["--help"], ["--no-such-option"]], ids=["help", "error"])
def test_one_command_app_shows_what_the_whole_app_shows(name: str, args: list[str]) -> None:
    # cli.run() builds only the command it runs (4 of typer's 6 ms): its help and its usage
    # errors must not change.
    from typer.testing import CliRunner

    from deerimg import cli

    narrowed = cli.only(name)
    assert narrowed is not cli.app
    assert [cli._command_name(c) for c in narrowed.registered_commands] == [name]
    env = {"COLUMNS": "100", "NO_COLOR": "1"}
    whole = CliRunner().invoke(cli.app, [name, *args], env=env, prog_name="deerimg")
    one = CliRunner().invoke(narrowed, [name, *args], env=env, prog_name="deerimg")
    assert (one.exit_code, one.output) == (whole.exit_code, whole.output)
    assert whole.exit_code == (0 if args == ["--help"] else 2)


def test_the_whole_app_where_one_command_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    from deerimg import cli

    for name in (None, "config", "--help", "--debug", "gen"):
        assert cli.only(name) is cli.app
    monkeypatch.setenv("_DEERIMG_COMPLETE", "bash_complete")
    assert cli.only("generate") is cli.app
