"""What the generated files share: the do-not-edit HEADER, and the filling of templates/*.in."""

from __future__ import annotations

import re
from pathlib import Path

HEADER = "Generated from the Typer app by `python -m tools.gen`; do not edit."
TEMPLATES = Path(__file__).parent / "templates"
# @@NAME@@ occurs in no bash, zsh or fish code. Alone on its line it stands for whole lines: that
# line, newline and all, becomes the value, which is lines that each end in a newline (or nothing).
_PLACEHOLDER = re.compile(r"^@@([A-Z_]+)@@\n|@@([A-Z_]+)@@", re.MULTILINE)


def fill(name: str, **values: str) -> str:
    """templates/NAME with each @@KEY@@ replaced by values[KEY]: all of them given, no others."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    found = {block or inline for block, inline in _PLACEHOLDER.findall(text)}
    if found != set(values):
        raise ValueError(f"{name} holds {sorted(found)}, the values given are {sorted(values)}")

    def value(match: re.Match[str]) -> str:
        block, inline = match.groups()
        text = values[block or inline]
        if block and text and not text.endswith("\n"):
            raise ValueError(f"{name}: @@{block}@@ stands for whole lines, {text[-20:]!r} is not")
        return text

    return _PLACEHOLDER.sub(value, text)
