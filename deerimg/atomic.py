"""Whole-file writes that are never seen half done: a 0600 temporary file beside, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, prefix: str = ".deerimg-") -> Path:
    """Write DATA to PATH: a temporary file in PATH's folder (mode 0600, synced), renamed over it.

    The folder must exist. A failure leaves PATH as it was and no temporary file; it raises
    OSError.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
