"""A streamed request's partial images (--partial-images), kept until the final image is in place.

Each one is written beside its target as NAME.partial-K.EXT (or only shown, with --preview) and
told as it comes; every one is removed once the final image is in place, or the request has
failed. A partial is never the final image."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from deerimg.errors import DeerimgError
from deerimg.events import Event, Note, Partial
from deerimg.imaging import images, writer
from deerimg.imaging.formats import EXTENSION, sniff_any
from deerimg.jobs.paths import Target, partial_path


class Partials:
    """The on_partial of one streamed request (client.generate and edit): thread-confined."""

    def __init__(
        self,
        number: int,
        target: Target,
        emit: Callable[[Event], None],
        *,
        files: bool,
        force: bool,
        limit: int,
    ) -> None:
        self.number = number
        self.limit = limit  # the partials asked for: a server's index past them is not a name
        self.target = target
        self.emit = emit
        self.files = files and target.path is not None  # -o -: no file beside standard output
        self.force = force
        self.written: list[Path] = []

    def __call__(self, index: int, data: bytes) -> None:
        if index >= self.limit:
            return  # more than was asked for: no file named by a server's number, no disk filled
        fmt = sniff_any(data)
        if fmt is None or fmt == "svg":
            return  # not an image a partial can be: the final image is what is paid for
        path = self._write(index, data, EXTENSION[fmt]) if self.files else None
        pixels = images.pixel_size(data[: 1 << 16])
        self.emit(Partial(self.number, index, data, str(path) if path else None, pixels))

    def _write(self, index: int, data: bytes, ext: str) -> Path | None:
        assert self.target.path is not None  # noqa: S101 - self.files says so
        path = partial_path(self.target.path, index + 1, ext)
        ours = path in self.written  # a retry's stream (--retry-timeouts) writes it again
        try:
            final, _size = writer.write_file(
                [data], path, replace=ours or self.force, rename_on_clash=False
            )
        except DeerimgError as error:  # a file of someone else's there: it is left alone
            self.emit(Note(f"partial image not written: {error.message}", once=True))
            return None
        if not ours:
            self.written.append(final)
            writer.passing(final)  # gone too if the run is stopped at once (a second Ctrl-C)
        return final

    def remove(self) -> None:
        """Every partial file gone: the final image is in place, or there will be none."""
        for path in self.written:
            with contextlib.suppress(OSError):
                path.unlink()
            writer.passing(path, gone=True)
        self.written.clear()
