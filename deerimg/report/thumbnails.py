"""The saved images' thumbnails of a run (--preview): each file's escape sequence, or why not."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

from deerimg.report import preview


class Thumbnails:
    """What --preview shows after each saved image, and the notes of what it cannot show: each
    note once a run. SOURCE is where the preview was asked (flag, env, config): a terminal not
    known to show images is told of only to --preview typed, not to a config's preview = true."""

    def __init__(self, source: str, env: Mapping[str, str] | None = None) -> None:
        self.source = source
        self.env = os.environ if env is None else env
        self._told: set[str] = set()
        self._lock = threading.Lock()  # workers save images at once: each note still once

    def of(self, path: str | None, pixels: tuple[int, int] | None) -> tuple[str | None, str | None]:
        """(the escape sequence that shows the file at PATH, or None; a note to give, or None)."""
        if path is None:  # -o -: the image went to standard output, no file to show
            return None, None
        if not preview.protocols(self.env) and self.source != "flag":
            return None, None  # a terminal with no images, and nothing to tell: no file read
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None, None
        sequence, why = preview.sequence_for(data, Path(path).name, pixels, self.env)
        if why is None or (why.startswith("this terminal") and self.source != "flag"):
            return sequence, None
        with self._lock:
            told = why in self._told
            self._told.add(why)
        return sequence, None if told else f"no preview: {why}"
