"""`deerimg completion SHELL`: the shipped static completion script, printed for installing."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command (issue 10's bar; STYLE §2.9 aside).

from enum import Enum
from typing import Annotated

import typer


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(
    shell: Annotated[
        Shell,
        typer.Argument(help="One of: bash, zsh, fish.", show_default=False, metavar="SHELL"),
    ],
) -> None:
    """Print the completion script for SHELL. It is static: TAB never starts Python.

    Install it once (then open a new shell):

      bash: mkdir -p ~/.local/share/bash-completion/completions && deerimg completion bash > ~/.local/share/bash-completion/completions/deerimg

      zsh: mkdir -p ~/.zfunc && deerimg completion zsh > ~/.zfunc/_deerimg (and, in ~/.zshrc before compinit: fpath=(~/.zfunc $fpath))

      fish: deerimg completion fish > ~/.config/fish/completions/deerimg.fish

    Example: deerimg completion bash > deerimg.bash
    """  # noqa: E501 - each install line is one line to copy
    from deerimg.errors import DeerimgError
    from deerimg.report.terminal import data
    from deerimg.shipped import completion_script

    try:
        text = completion_script(shell.value).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        raise DeerimgError(
            f"the {shell.value} completion script is not installed with deerimg",
            hint="reinstall deerimg from its wheel, or generate it: python -m tools.gen",
        ) from None
    data(text.removesuffix("\n"))
