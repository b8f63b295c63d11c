"""Entry point of the console script and `python -m deerimg`: bare --version, then the app."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # Answered before typer is imported: scripts call this often, and it costs ~0 ms this way.
        from deerimg import __version__

        sys.stdout.write(f"deerimg {__version__}\n")
        return
    from deerimg.cli import run

    run()


if __name__ == "__main__":
    main()
