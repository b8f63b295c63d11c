"""Entry point of the console script and `python -m deerimg`: bare --version, then the app."""

from __future__ import annotations

import os
import sys

_SENDS = frozenset({"generate", "edit", "models"})  # the commands that make an HTTP client
_HELP = frozenset({"-h", "--help"})


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # Answered before typer is imported: scripts call this often, and it costs ~0 ms this way.
        from deerimg import __version__

        sys.stdout.write(f"deerimg {__version__}\n")
        _leave(0)
    if _SENDS.intersection(sys.argv[1:]) and _HELP.isdisjoint(sys.argv[1:]):
        from deerimg import tls

        tls.warm()  # certificates load on the other core while typer and httpx are imported
    from deerimg.cli import run

    try:
        run()
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code: object) -> None:  # never returns; typing.NoReturn would cost an import
    """Exit now, without tearing the interpreter down, which takes 20-25 ms (issue 10).

    Every file deerimg writes is closed and in place by now and nothing is registered with
    atexit, so what is left is flushing the standard streams. The code means what it means to
    sys.exit(): None is 0, a number is the status, anything else is printed and is 1.
    """
    status = code if isinstance(code, int) else 0 if code is None else 1
    if not isinstance(code, int) and code is not None:
        sys.stderr.write(f"{code}\n")
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # the reader went away; a stream already closed
        status = status or 1
    os._exit(status)


if __name__ == "__main__":
    main()
