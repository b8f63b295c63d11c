"""completions/* and man/deerimg.1 from typer.main.get_command(app); --check reports drift.

`python -m tools.gen` writes completions/deerimg.bash, completions/_deerimg (zsh),
completions/deerimg.fish and man/deerimg.1; `python -m tools.gen --check` writes nothing and
exits 1 naming each file that differs (tests/test_shipped.py runs it). Every command, option, help
text and value set comes from the app, request.VALUE_SETS and config.KEYS, so a new flag reaches
the shells and the man page by running the one command. The scripts are static words: pressing TAB
never starts Python (issue 5). The one value only the program knows, the model ids, is read from the
cache that `deerimg models` keeps (catalog.cache_path: image-model ids, one a line); without it,
the ids of the family table (families.Family.ids) are offered.
Output is deterministic: no dates, no machine paths, code order kept where it means something.

tree.py walks the app into plain data; bash.py, zsh.py and fish.py fill the scripts of templates/
(template.py), man.py writes the roff with the prose of text.py. app.py is the one module that
imports deerimg. Not part of the installed package: run it from a clone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.gen.bash import render_bash
from tools.gen.fish import render_fish
from tools.gen.man import render_man
from tools.gen.tree import (
    Command,
    command_tree,
    config_key_values,
    config_keys,
    known_model_ids,
)
from tools.gen.zsh import render_zsh

__all__ = [
    "FILES",
    "ROOT",
    "Command",
    "command_tree",
    "config_key_values",
    "config_keys",
    "known_model_ids",
    "main",
    "render",
]

ROOT = Path(__file__).resolve().parents[2]
FILES = (
    "completions/deerimg.bash",
    "completions/_deerimg",
    "completions/deerimg.fish",
    "man/deerimg.1",
)

# Each script looks for the model ids where catalog.cache_path() keeps them: inside
# $DEERIMG_CONFIG_DIR/cache when that is set, else platformdirs' user cache folder (Linux:
# $XDG_CACHE_HOME or ~/.cache; macOS: ~/Library/Caches). tests/test_shipped.py checks all three.


def render() -> dict[str, str]:
    """Every shipped file, by its path relative to the repository."""
    tree = command_tree()
    texts = (render_bash(tree), render_zsh(tree), render_fish(tree), render_man(tree))
    return dict(zip(FILES, texts, strict=True))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--check"]):
        print("usage: python -m tools.gen [--check]", file=sys.stderr)
        return 2
    if not (ROOT / "pyproject.toml").is_file():
        print(f"{ROOT} is not the project folder: run this from a clone", file=sys.stderr)
        return 2
    drift = []
    for name, text in render().items():
        path = ROOT / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args:
            drift.append(name)
            print(f"{name} differs from what the app generates now", file=sys.stderr)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {name}", file=sys.stderr)
    if drift:
        print("run `python -m tools.gen` and commit the result", file=sys.stderr)
        return 1
    return 0
