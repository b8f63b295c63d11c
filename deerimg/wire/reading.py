"""Reading one answer's body: a deadline for the whole of it, a size cap, and what broke.

Sender.attempt (send.py) sends a request and reads its answer here. Once the status and headers
came, a body that breaks (cut off, stalled, not whole by --timeout) raises CutOff, which keeps
them: a 2xx is then a paid answer lost, anything else a try to make again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Protocol

from deerimg.errors import DeerimgError
from deerimg.wire.responses import describe, request_id_of

if TYPE_CHECKING:
    import httpx


class Sink(Protocol):
    """Where a streamed answer's body goes as it comes, instead of one bytearray (streaming.py)."""

    def takes(self, response: httpx.Response) -> bool: ...  # this answer is the stream
    def feed(self, chunk: bytes) -> None: ...
    def ended(self) -> None: ...  # the body came whole
    def progress(self) -> str: ...  # how far it came, for the error that cuts it


class StreamEnded(DeerimgError):
    """A 2xx stream that ended whole but without its final image: likely paid, and no image."""


def receive(
    client: httpx.Client, request: httpx.Request, deadline: float, sink: Sink | None = None
) -> tuple[httpx.Response, bytearray]:
    """Send REQUEST and read its answer into one bytearray, grown chunk by chunk.

    httpx's own read keeps every chunk until it joins them: twice the answer at once, 8 MB
    for a 3 MB image in each of -j threads (issue 10). The bytearray also lets the base64 in
    it be decoded over itself (images.decode_in_place). Any other status comes back as a
    read response holding its body, for error_from_response; an answer cut off, stalled or
    not whole by DEADLINE after its status and headers raises CutOff, which keeps them.

    --timeout is a deadline for the whole answer: httpx's time-outs are per read, so a
    server that trickles a byte at a time would hold the run for ever (issue 16).

    SINK, where given, takes a stream's body chunk by chunk as it comes (an event may be
    megabytes; the answer is not held whole), when its status and type say it is the stream.
    """
    import httpx

    response = client.send(request, stream=True)
    answer = bytearray()
    watch = Deadline(response, deadline)
    last = time.monotonic()  # when the last bytes came
    stream = sink if sink is not None and sink.takes(response) else None
    size = 0
    try:
        if stream is None:
            refuse_size(response, response.headers.get("content-length"))
        for chunk in response.iter_bytes():
            size += len(chunk)
            if stream is not None:
                stream.feed(chunk)
            else:
                answer += chunk
                refuse_size(response, size)
            last = time.monotonic()
            if last >= deadline:
                raise CutOff(response, None, size, late=True, sink=stream)
        if stream is not None:
            stream.ended()
    except httpx.TransportError as exc:  # time-outs included
        # The answer broke after its status and headers came: keep what they say.
        now = time.monotonic()
        late = watch.passed or now >= deadline
        raise CutOff(response, exc, size, late=late, idle=now - last, sink=stream) from None
    finally:
        watch.stop()  # before the connection goes back to the pool
        response.close()
        unbind(response)
    if not 200 <= response.status_code < 300:
        return whole(response, bytes(answer)), answer
    return response, answer


class CutOff(Exception):
    """An answer whose status and headers came but whose body was cut off, stalled (ERROR is a
    time-out) or was not whole by the deadline (LATE)."""

    def __init__(
        self,
        response: httpx.Response,
        error: Exception | None,
        received: int,
        *,
        late: bool,
        idle: float = 0.0,
        sink: Sink | None = None,
    ) -> None:
        super().__init__(str(error))
        self.sink = sink  # the stream it cut, which says how far it came
        self.response = whole(response, b"")  # the status and headers, no body
        self.error = error
        self.received = received
        self.late = late
        self.idle = idle  # seconds since the last bytes came

    @property
    def timed_out(self) -> bool:
        import httpx

        return self.late or isinstance(self.error, httpx.TimeoutException)

    def how(self, timeout: float) -> str:
        """What happened to the body, for "the body …"."""
        got = f"{self.received:,} bytes"
        if self.late and self.idle < min(1.0, timeout / 4):
            return f"came too slowly: not whole within --timeout {timeout:g} s ({got} came)"
        if self.late:
            return f"stalled after {got}: not whole within --timeout {timeout:g} s"
        if self.timed_out:
            return f"stalled after {got}: nothing more within {timeout:g} s"
        detail = describe(self.error) if self.error is not None else "closed"
        return f"was cut off after {got} ({detail})"


class Deadline:
    """Cuts an answer's connection when its deadline passes, even in the middle of a read.

    httpx's read time-out restarts with every read, so a body that stalls after a trickle
    would outlive the deadline by up to --timeout again. A timer shuts the socket down (the
    one public handle httpcore gives, the network_stream extension); the read then ends at
    once and PASSED tells why. Without a socket, the check after each chunk still holds.
    """

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self.passed = False
        self._lock = threading.Lock()
        self._done = False
        self._timer: threading.Timer | None = None
        stream = response.extensions.get("network_stream")
        get = getattr(stream, "get_extra_info", None)
        self._socket = get("socket") if get is not None else None
        if isinstance(self._socket, socket.socket):
            self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._cut)
            self._timer.daemon = True
            self._timer.start()

    def _cut(self) -> None:
        with self._lock:
            if self._done:
                return  # the answer is read, and the connection may serve another request
            self.passed = True
            with contextlib.suppress(OSError, ValueError):
                # socket.socket's own shutdown: an SSLSocket's would unwrap TLS under the reader
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)  # type: ignore[arg-type]

    def stop(self) -> None:
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()


MAX_ANSWER_BYTES = 512 * 1024 * 1024  # ten 4K PNGs in base64 are well under it


def refuse_size(response: httpx.Response, size: int | str | None) -> None:
    """An answer over MAX_ANSWER_BYTES is refused as it is read, not after holding it all."""
    try:
        number = int(size) if size is not None else 0
    except ValueError:
        return  # a Content-Length that is not a number: the read itself tells
    if number > MAX_ANSWER_BYTES:
        raise DeerimgError(
            f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MB: refused",
            status=response.status_code,
            request_id=request_id_of(response),
            hint="check the base URL: no images answer is that large",
        )


def whole(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response holding BODY: what error_from_response and the retry logic read."""
    import httpx

    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=body,
        request=response.request,
        extensions={"reason_phrase": response.extensions.get("reason_phrase", b"")},
    )


def unbind(response: httpx.Response) -> httpx.Response:
    """Let a read Response be freed with its last reference, not at the next garbage collection.

    httpx's Response and its stream (a BoundSyncStream) refer to each other, so only the cycle
    collector frees them, and large bytes objects do not trigger it: a batch kept every image's
    base64 body in memory (issue 10). The body is read and the stream closed by now.
    """
    import httpx

    response.stream = httpx.ByteStream(b"")
    return response
