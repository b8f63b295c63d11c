"""The code's shape (STYLE §4): modules one sitting long, each saying its job; the flags' record.

The import order itself is checked by `lint-imports` (pyproject.toml, run by .ci/run); these are
what it cannot see.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "deerimg"
MAX_LINES = 300
# A module that passes MAX_LINES says why here, or it is split.
LONGER: dict[str, str] = {
    # Issue 17 asks for the family table as data in one module: its rows are read as a table,
    # one family after another, and split in two they would be two tables.
    "deerimg/families.py": "the one family table",
}

MODULES = sorted(PACKAGE.rglob("*.py"))


def name_of(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_the_walk_finds_the_packages() -> None:
    names = {name_of(path) for path in MODULES}
    assert {"deerimg/cli/__init__.py", "deerimg/wire/send.py", "deerimg/run/runner.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=name_of)
def test_a_module_is_read_in_one_sitting(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    limit = MAX_LINES if name_of(path) not in LONGER else lines
    assert lines <= limit, f"{name_of(path)} has {lines} lines: split it, or say why in LONGER"


@pytest.mark.parametrize("path", MODULES, ids=name_of)
def test_a_module_says_its_job_in_its_first_line(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    if path.name == "__init__.py" and not tree.body:
        return  # an empty package marker: the package's modules say their jobs
    assert docstring, f"{name_of(path)} has no docstring"
    first = docstring.splitlines()[0]
    assert first.endswith(".") and len(first) <= 100, f"{name_of(path)}: {first!r}"


def test_image_flags_are_the_commands_own_parameters() -> None:
    # ImageFlags.of(locals()) takes its fields from a command's parameters: a field neither
    # command has would silently keep its default, and a required one both must have.
    from deerimg.cli import images
    from deerimg.cli.flags import ImageFlags

    commands = [images.generate, images.edit]
    params = [set(inspect.signature(command).parameters) for command in commands]
    for name in ImageFlags.names():
        having = [name in names for names in params]
        if name not in ImageFlags.ONLY_ONE:
            assert all(having), f"{name} is required but not a parameter of every command"
        else:
            assert sum(having) == 1, f"{name} is a parameter of {sum(having)} commands, not one"
    shared = set.intersection(*params) - set(ImageFlags.names())
    assert shared == set(), f"parameters of both commands that ImageFlags leaves out: {shared}"
    flags = ImageFlags.of({name: name for name in ImageFlags.names()})
    assert (flags.model, flags.dry_run, flags.style) == ("model", "dry_run", "style")
    with pytest.raises(KeyError):
        ImageFlags.of({"model": None})
