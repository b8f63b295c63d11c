"""The face: the Typer app, its commands registered in help order, and the run of the process."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from deerimg import _startup
from deerimg.cli import completion, gallery, images, listings, prices, tasks
from deerimg.cli.app import app, state
from deerimg.cli.config import config_app
from deerimg.errors import ExitCode

__all__ = ["app", "only", "run"]

app.command(rich_help_panel="Images")(images.generate)
app.command(rich_help_panel="Images")(images.edit)
app.command(rich_help_panel="Images")(listings.info)
app.command(rich_help_panel="Images")(listings.history)
app.command(rich_help_panel="Images")(tasks.tasks)
app.command(rich_help_panel="Images")(tasks.fetch)
app.command(rich_help_panel="Images")(gallery.gallery)
app.add_typer(config_app, name="config", rich_help_panel="Settings")
app.command("models", rich_help_panel="Settings")(listings.models_command)
app.command("prices", rich_help_panel="Settings")(prices.prices_command)
app.command(rich_help_panel="Settings")(completion.completion)


def run() -> None:
    """Run the app as the console script does."""
    from deerimg.report.terminal import steady_streams

    steady_streams()  # `>&-`, `2>&-`, PYTHONIOENCODING=ascii: no writer fails on them
    state.debug = state.debug or os.environ.get("DEERIMG_DEBUG", "") not in ("", "0")
    args, lifted = debug_lifted(sys.argv[1:])
    if lifted:  # `deerimg generate x --debug`, as `deerimg --debug generate x` (the contract)
        sys.argv[1:] = args
        state.debug = True
    # Ctrl-C is KeyboardInterrupt again once a command runs; before, it leaves at once (issue 16).
    groups = [app, *(g.typer_instance for g in app.registered_groups if g.typer_instance)]
    _startup.interrupts_within(
        c.callback for g in groups for c in g.registered_commands if c.callback
    )
    try:
        only(sys.argv[1] if len(sys.argv) > 1 else None)()
    except BrokenPipeError:
        # The reader of standard output (or error) went away (`| head`): leave quietly, like
        # other tools. A stdout closed from the start (`>&-`) is None, with nothing to redirect.
        if sys.stdout is not None:  # noqa: TID251 - only whether there is one
            from deerimg.report.terminal import stdout_to_devnull

            stdout_to_devnull()
        sys.exit(ExitCode.FAILURE)


def debug_lifted(args: list[str]) -> tuple[list[str], bool]:
    """ARGS without a --debug given after the command (and before `--`), and whether one was.
    Before the command, --debug is the app's own option and stays where it is."""
    command = next((k for k, arg in enumerate(args) if not arg.startswith("-")), None)
    end = args.index("--") if "--" in args else len(args)
    if command is None:
        return args, False
    kept = [a for k, a in enumerate(args) if not (command < k < end and a == "--debug")]
    return kept, len(kept) != len(args)


def only(name: str | None) -> typer.Typer:
    """The app with NAME as its one command, when NAME is one; else the whole app."""
    narrowed: typer.Typer = _startup.narrowed(app, name, _command_name)
    return narrowed


def _command_name(command: Any) -> str:
    """The name typer gives a registered command (typer.main.get_command_from_info's rule)."""
    from typer.main import get_command_name

    return command.name or (get_command_name(command.callback.__name__) if command.callback else "")
