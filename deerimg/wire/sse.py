"""Server-sent events read as their bytes arrive: pure, with no cap on one event's size.

The rules are the WHATWG event-stream format's: lines end at CRLF, LF or CR; a line starting
with ":" is a comment; `event:` names the event, each `data:` line adds to its data (joined by
"\\n"); a blank line dispatches it; one space after the colon is dropped. An image's partial is
megabytes of base64 on one `data:` line (httpx2's EventSource refuses events over 1 MiB by
default; peers-2026-12.md §0.5), so a line is gathered in one growing buffer and searched only
where new bytes came: no copy per chunk, no cap but the whole answer's (reading.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_END = re.compile(rb"[\r\n]")  # CR or LF, in one pass over the new bytes


class EventReader:
    """Feed it the body's chunks; ON_EVENT(name, data) is called with each whole event."""

    def __init__(self, on_event: Callable[[str, bytes], None], limit: int | None = None) -> None:
        self._on_event = on_event
        self._limit = limit  # bytes one pending event may hold; None: no cap
        self._buffer = bytearray()
        self._searched = 0  # where in the buffer the next line end may be
        self._skip_lf = False  # the last line ended at CR: an LF next belongs to it
        self._name = ""
        self._data: list[bytes] = []
        self.events = 0  # dispatched so far

    @property
    def pending(self) -> int:
        """Bytes held for an event not yet whole: the buffer and the data lines read."""
        return len(self._buffer) + sum(len(part) for part in self._data)

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        if not chunk:
            return
        self._buffer += chunk
        start = 0
        buffer = self._buffer
        while True:
            if self._skip_lf and start < len(buffer):
                self._skip_lf = False
                if buffer[start] == 0x0A:
                    start += 1
                    continue
            end = _line_end(buffer, max(start, self._searched))
            if end < 0:
                break
            with memoryview(buffer) as view:
                line = bytes(view[start:end])  # one copy of a megabyte line, not two
            self._skip_lf = buffer[end] == 0x0D
            start = end + 1
            self._searched = start
            self._line(line)
        if start:
            del buffer[:start]
            self._searched = max(0, self._searched - start)
        self._searched = max(self._searched, len(buffer))
        if self._limit is not None and self.pending > self._limit:
            raise OverLimit(self.pending)

    def close(self) -> None:
        """The body has ended: an event not closed by a blank line is dropped, as the format
        says (a stream cut after its data line has not sent that event whole)."""
        self._buffer.clear()
        self._data = []
        self._name = ""

    def _line(self, line: bytes) -> None:
        if not line:
            if self._data:
                data = b"\n".join(self._data)
                name = self._name or "message"
                self._data = []
                self._name = ""
                self.events += 1
                self._on_event(name, data)
            else:
                self._name = ""
            return
        if line[:1] == b":":
            return  # a comment: a keep-alive
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            self._data.append(value)
        elif field == b"event":
            self._name = value.decode("utf-8", "replace")
        # "id" and "retry" are for reconnecting, which a paid request never does


class OverLimit(Exception):
    """One event held more than the reader's limit."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def _line_end(buffer: bytearray, start: int) -> int:
    """The index of the first CR or LF in BUFFER from START, or -1."""
    found = _END.search(buffer, start)
    return found.start() if found is not None else -1


__all__ = ["EventReader", "OverLimit"]
