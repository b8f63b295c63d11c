"""Opening a file with the system's viewer (xdg-open, open, the default browser); never waits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def view(path: Path) -> bool:
    """Ask the system to show PATH: True when a viewer was started (not that it showed it)."""
    target = str(path.absolute())
    opener = shutil.which("open") if sys.platform == "darwin" else shutil.which("xdg-open")
    if sys.platform == "win32":  # pragma: no cover - Windows only
        try:
            os.startfile(target)  # type: ignore[attr-defined]  # noqa: S606
        except OSError:
            return False
        return True
    if opener:
        try:  # its own session: Ctrl-C on deerimg does not close the viewer
            subprocess.Popen(  # noqa: S603 - the system's opener, one file argument
                [opener, target], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except OSError:
            return False
        return True
    import webbrowser

    return webbrowser.open(Path(target).as_uri())
