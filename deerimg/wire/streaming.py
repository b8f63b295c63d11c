"""An images answer streamed as server-sent events (--partial-images), read as it comes.

Each partial image is handed on as it comes, the final image taken from the `completed` event.

OpenAI's stream (openai-images-openapi.json, ImageGenStreamEvent and ImageEditStreamEvent;
peers.md §4.3): `image_generation.partial_image` / `image_edit.partial_image` events carry
`b64_json` and a 0-based `partial_image_index`; `image_generation.completed` and
`image_edit.completed` carry the final `b64_json`, `usage`, `size`, `quality`, `background`
and `output_format`. Relays differ: the event's name may be missing (its JSON `type` then
says it), a `data: [DONE]` may end the stream, and an `error` event may come instead of the
image. A partial is never the final image: a stream that ends without `completed` is a
failure of a request that was likely paid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from deerimg.errors import DeerimgError
from deerimg.imaging import images
from deerimg.wire.reading import MAX_ANSWER_BYTES, StreamEnded
from deerimg.wire.responses import KEY_CODES, error_fields, refused_key, request_id_of
from deerimg.wire.sse import EventReader, OverLimit

if TYPE_CHECKING:
    import httpx

STREAM_TYPE = "text/event-stream"
PAID_HINT = (
    "the API answered 200, so the request was likely charged; it is not sent again, since "
    "another try would pay again (--retry-timeouts sends it again); --skip-existing re-runs it"
)


class ImageStream:
    """What reading.receive feeds a 2xx text/event-stream answer to (its Sink)."""

    def __init__(self, on_partial: Callable[[int, bytes], None] | None = None) -> None:
        self._on_partial = on_partial or (lambda _index, _data: None)
        self._reader = EventReader(self._event, limit=MAX_ANSWER_BYTES)
        self.streamed = False  # the answer was a stream (a relay may answer plain JSON)
        self.request_id: str | None = None
        self.partials = 0  # partial images received
        self.unreadable = 0  # partial images that were not an image: not shown, no failure
        self.completed: list[dict[str, Any]] = []

    # -- the Sink of reading.receive -----------------------------------------------------------

    def takes(self, response: httpx.Response) -> bool:
        """Whether RESPONSE's body is this stream: a 2xx answer of type text/event-stream."""
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not 200 <= response.status_code < 300 or kind != STREAM_TYPE:
            return False
        self.streamed = True
        self.request_id = request_id_of(response)
        return True

    def feed(self, chunk: bytes) -> None:
        try:
            self._reader.feed(chunk)
        except OverLimit as over:
            raise DeerimgError(
                f"one event of the stream is larger than {MAX_ANSWER_BYTES // 2**20} MB: refused",
                request_id=self.request_id,
                hint="check the base URL: no image is that large",
            ) from over

    def ended(self) -> None:
        """The body ended whole: StreamEnded unless the final image came."""
        self._reader.close()
        if not self.completed:
            raise StreamEnded(
                f"the stream ended {self.progress()}",
                request_id=self.request_id,
                hint=PAID_HINT,
            )

    def progress(self) -> str:
        """How far the stream came, for the error that ends it early."""
        return f"after {self.partials} partial image(s), without the final image"

    # -- the events ------------------------------------------------------------------------------

    def _event(self, name: str, data: bytes) -> None:
        if data.strip() == b"[DONE]":
            return
        try:
            payload = json.loads(data)
        except ValueError:
            raise DeerimgError(
                f"the stream's {name[:60]} event is not JSON ({len(data):,} bytes)",
                request_id=self.request_id,
                hint=PAID_HINT,
            ) from None
        if not isinstance(payload, dict):
            return
        given = payload.get("type")
        kind = given if isinstance(given, str) else name
        if kind == "error" or name == "error" or isinstance(payload.get("error"), (dict, str)):
            message, code = error_fields(data)
            if code in KEY_CODES:
                raise refused_key(message or "error", code, self.request_id)
            raise DeerimgError(
                f"the stream ended in an error: {message or 'error'}",
                code=code,
                request_id=self.request_id,
                hint="the request may have been charged; --skip-existing re-runs it",
            )
        if kind.endswith(".partial_image"):
            self._partial(payload)
        elif kind.endswith(".completed") and ("b64_json" in payload or "url" in payload):
            self.completed.append(payload)
        # Anything else (a relay's progress, a keep-alive) is not for deerimg to read.

    def _partial(self, payload: dict[str, Any]) -> None:
        index = payload.get("partial_image_index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            index = self.partials
        self.partials += 1
        b64 = payload.get("b64_json")
        try:
            data = images.decode(b64) if isinstance(b64, str) else None
        except DeerimgError:
            data = None
        if data is None:
            self.unreadable += 1  # a preview lost: the final image is what is paid for
            return
        self._on_partial(index, bytes(data))

    def result(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any]]:
        """The final images as data items, the usage, and what the API says of the images."""
        items = [
            {k: v for k, v in event.items() if k in ("b64_json", "url", "revised_prompt")}
            for event in self.completed
        ]
        usages = [e["usage"] for e in self.completed if isinstance(e.get("usage"), dict)]
        last = self.completed[-1]
        said = ("size", "quality", "output_format", "background")
        fields = {k: last[k] for k in said if k in last}
        return items, (usages[-1] if usages else None), fields
