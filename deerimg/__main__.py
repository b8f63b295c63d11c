"""Entry point of the console script and `python -m deerimg`: bare --version, then the app."""

from __future__ import annotations

import sys

from deerimg import _startup
from deerimg._startup import leave

_SENDS = frozenset({"generate", "edit", "models", "fetch"})  # the commands that make an HTTP client
_HELP = frozenset({"-h", "--help"})


def main() -> None:
    """Run deerimg; every way out ends in leave(), never in the interpreter's own exit (issue 16).

    The certificate thread may still be loading when a run ends (a usage error, Ctrl-C): an
    interpreter that finalises under it crashes in OpenSSL's exit handler or prints an import's
    traceback, which os._exit never does.
    """
    _startup.guard_start()
    if sys.argv[1:] == ["--version"]:
        # Answered before typer is imported: scripts call this often, and it costs ~0 ms this way.
        from deerimg import __version__

        if sys.stdout is None:  # `>&-`: the answer cannot be given, which is a failure (exit 1)
            leave(f"error: standard output is closed; deerimg {__version__} not printed")
        try:
            sys.stdout.write(f"deerimg {__version__}\n")
        except (OSError, ValueError):  # the reader went away (`| true`): quietly, as run() does
            leave(1)
        leave(0)
    if _SENDS.intersection(sys.argv[1:]) and _HELP.isdisjoint(sys.argv[1:]):
        from deerimg.wire import tls

        tls.warm()  # certificates load on the other core while typer and httpx are imported
    try:
        from deerimg.cli import run

        run()
    except SystemExit as done:
        leave(done.code)
    except KeyboardInterrupt:  # outside the commands' own handling (--debug re-raises it)
        leave(_startup.INTERRUPTED)
    except BaseException:  # noqa: BLE001 - a bug: shown as Python shows it, then leave()
        _show_traceback()
        leave(1)
    leave(0)


def _show_traceback() -> None:
    import contextlib

    with contextlib.suppress(BaseException):  # no standard error to show it on: the status tells
        sys.excepthook(*sys.exc_info())


if __name__ == "__main__":
    main()
