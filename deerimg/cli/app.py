"""The Typer app itself: its one error boundary, --version and --debug; commands register on it."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command, 5 ms of `deerimg --help` (issue 10's bar; STYLE §2.9 aside).

from typing import Annotated

import typer
from typer.core import TyperGroup

from deerimg import __version__, _startup
from deerimg.errors import DeerimgError, ExitCode

_startup.defer_help_imports()  # --help without markdown-it and pygments


class State:
    """What the whole process was told before the command: --debug (or DEERIMG_DEBUG=1)."""

    __slots__ = ("debug",)

    def __init__(self) -> None:
        self.debug = False


state = State()


class HelpGroup(TyperGroup):
    """A group that, given no command at all, shows its help and exits 0: a person asking what
    there is, as `gh` and `git remote` answer it. Click's no_args_is_help exits 2 (a usage
    error), which reads as a failure to a script that only wanted to look."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            from deerimg.report.terminal import data

            data(ctx.get_help())  # as --help does (rich prints it, and this its last newline)
            ctx.exit(0)
        return super().parse_args(ctx, args)


class _Group(HelpGroup):
    """The one place where errors become a message and an exit code (httpie's raw_main)."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]  # typer's Context
        try:
            return super().invoke(ctx)
        except DeerimgError as error:
            from deerimg.report.terminal import print_error

            if state.debug:  # the traceback, then the same line and exit code as without
                import traceback

                from deerimg.report.terminal import note

                note("".join(traceback.format_exception(error)).rstrip("\n"))
            print_error(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            if state.debug:
                raise
            from deerimg.report.terminal import note

            note("\ninterrupted")
            raise typer.Exit(ExitCode.INTERRUPTED) from None


app = typer.Typer(
    cls=_Group,
    name="deerimg",
    help="Turn text prompts into image files through DeerAPI.\n\nStart with `deerimg config "
    'set api-key`, then `deerimg generate "a paper boat" -o boat.jpg`.',
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,  # locals hold the key
    context_settings={"help_option_names": ["-h", "--help"]},
    # `deerimg completion SHELL` prints the shipped static scripts: Typer's dynamic completion
    # (--install-completion) started Python on every TAB.
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from deerimg.report.terminal import data

        data(f"deerimg {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show Python tracebacks (also DEERIMG_DEBUG=1).")
    ] = False,
) -> None:
    """Turn text prompts into image files through DeerAPI's images API.

    Start with `deerimg config set api-key`, then `deerimg generate "a paper boat" -o boat.jpg`.
    """
    state.debug = state.debug or debug
