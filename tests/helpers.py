"""What the test files share: the ledger, a folder's names, stderr lines, pixels, ports, modes."""

from __future__ import annotations

import fnmatch
import io
import json
import os
import socket
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

if TYPE_CHECKING:
    from tests.fake import FakeDeerAPI


class _Printed(Protocol):
    stderr: str


def ledger_path() -> Path:
    """The history ledger of the test's environment (isolated_env sets DEERIMG_DATA_DIR)."""
    return Path(os.environ["DEERIMG_DATA_DIR"]) / "history.jsonl"


def ledger_text() -> str:
    """The ledger's text, or "" when nothing wrote one."""
    path = ledger_path()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def ledger_entries() -> list[dict[str, Any]]:
    """The ledger's entries, one per line, or [] when nothing wrote one."""
    return [json.loads(line) for line in ledger_text().splitlines()]


def write_ledger(*lines: str) -> Path:
    """A ledger of these LINES (a newline after each), in place of any there was."""
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def names_in(folder: Path | str = ".", pattern: str = "*") -> list[str]:
    """The sorted names in FOLDER that match PATTERN, dot files (temporary files) included."""
    return sorted(p.name for p in Path(folder).iterdir() if fnmatch.fnmatchcase(p.name, pattern))


def error_lines(output: str | _Printed) -> list[str]:
    """The `error:` lines of a run's stderr (an outcome, or its stderr text)."""
    stderr = output if isinstance(output, str) else output.stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def pixels(image: Path | bytes) -> bytes:
    """The decoded pixels: deerimg may add metadata (provenance), never change the image."""
    with Image.open(image if isinstance(image, Path) else io.BytesIO(image)) as opened:
        return opened.tobytes()


def free_port() -> int:
    """A port nothing listens on (bound then closed), for `connection refused`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mode(path: Path) -> int:
    """The permission bits of PATH, e.g. 0o600."""
    return stat.S_IMODE(path.stat().st_mode)


def prompts_sent(fake_api: FakeDeerAPI) -> list[str]:
    """The prompts of every generation the fake received, sorted."""
    return sorted(r.json["prompt"] for r in fake_api.generation_requests())
