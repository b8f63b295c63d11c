"""The generated files deerimg ships: where the installed package (or a source checkout) has them.

A wheel carries `completions/` as `deerimg/completions/` (package data) and the man page under
`share/man/man1/` (wheel data); both come from the repository's `completions/` and `man/`, which
`python -m tools.gen` writes and the tests keep in step with the app. In a source checkout (an
editable install) they are read from the repository itself.
"""

from __future__ import annotations

from pathlib import Path

SCRIPTS = {"bash": "deerimg.bash", "zsh": "_deerimg", "fish": "deerimg.fish"}


def completion_script(shell: str) -> Path:
    """The static completion script for SHELL (bash, zsh or fish)."""
    name = SCRIPTS[shell]
    package = Path(__file__).parent
    for folder in (package / "completions", package.parent / "completions"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)
