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
        self._boxes: dict[int, tuple[int, int, int]] = {}  # task: a partial's rows, id, mark
        self._id_base = 1 + (os.getpid() % 4_000_000) * 1000  # Kitty's ids are the window's

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

    def partial(
        self, number: int, data: bytes, pixels: tuple[int, int] | None, mark: int
    ) -> str | None:
        """The sequence that shows a partial image of task NUMBER in a box of known rows, in
        place of its last partial when nothing was written since (MARK: the report's count of
        writes, which drawn() is told after). No note: the final image gives it."""
        if not preview.protocols(self.env):
            return None
        erase = self.erase(number, mark)
        image_id = self._id_base + number % 1000
        shown = preview.boxed(data, f"partial-{number}", pixels, self.env, image_id)
        if shown is None:
            return erase or None
        sequence, rows = shown
        self._boxes[number] = (rows, image_id, -1)
        return erase + sequence

    def drawn(self, number: int, mark: int) -> None:
        """Task NUMBER's partial was written, as the report's write number MARK."""
        if number in self._boxes:
            rows, image_id, _mark = self._boxes[number]
            self._boxes[number] = (rows, image_id, mark)

    def erase(self, number: int, mark: int) -> str:
        """The sequence that takes task NUMBER's last partial off the screen, if it is still the
        last thing written (MARK); "" otherwise (it has scrolled up with the run's lines)."""
        rows, image_id, last = self._boxes.pop(number, (0, 0, -2))
        return preview.erase_box(rows, image_id, self.env) if last == mark else ""
