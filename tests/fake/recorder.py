"""The request log: every request each origin received, the request ids, and handler errors."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tests.fake.multipart import Part


@dataclass
class Recorded:
    """One request a server received."""

    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes
    # The parsed JSON body, or None. For a multipart ``POST /v1/images/edits``: a dict of its
    # text fields (parts without a filename, other than image/image[]/mask), values as sent
    # (strings; the last of repeated names wins).
    json: Any | None
    time: float  # time.monotonic() when the request line and headers had arrived
    query: str = ""
    request_id: str = ""  # the x-request-id the main server answered with ("" on the files server)
    # Every part of a multipart ``POST /v1/images/edits`` body in order, or None (another
    # request, another content type, or a body that is not valid multipart).
    parts: list[Part] | None = None


class Recorder:
    """What the servers saw, in arrival order; safe to use from every handler thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._request_counter = 0
        self.clear()

    def clear(self) -> None:
        """Forget requests, downloads and errors; request ids keep counting, so stay unique."""
        with self._lock:
            self._requests: list[Recorded] = []
            self._downloads: list[Recorded] = []
            self._errors: list[str] = []

    def next_request_id(self) -> str:
        """``req_1``, ``req_2``...: the x-request-id of the API server's next answer."""
        with self._lock:
            self._request_counter += 1
            return f"req_{self._request_counter}"

    def record(self, recorded: Recorded, *, download: bool) -> None:
        """Log a request to the API server, or (DOWNLOAD) to the files server."""
        with self._lock:
            (self._downloads if download else self._requests).append(recorded)

    def note_error(self, text: str) -> None:
        """Keep an unexpected handler exception for tests to inspect (servers never print)."""
        with self._lock:
            self._errors.append(text)

    @property
    def requests(self) -> list[Recorded]:
        """A copy of every request the API server received."""
        with self._lock:
            return list(self._requests)

    @property
    def downloads(self) -> list[Recorded]:
        """A copy of every request the files server received."""
        with self._lock:
            return list(self._downloads)

    @property
    def errors(self) -> list[str]:
        """A copy of the handler errors noted."""
        with self._lock:
            return list(self._errors)
