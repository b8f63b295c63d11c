"""The image URLs of ``response_format: "url"``: a CDN-like files origin, and a redirect to it.

Each link is signed the way Volcengine's TOS signs Seedream's (research/model-families.md §2.1:
``X-Tos-Date`` and ``X-Tos-Expires=86400``, a day) and stops working when that time is over: a
403 ``AccessDenied`` "Request has expired", as TOS answers. ``FileStore.lifetime`` sets how long
new links live (0: expired at once; None: an unsigned link that never expires).
"""

from __future__ import annotations

import threading
import time
from http import HTTPStatus

from tests.fake.recorder import Recorded
from tests.fake.server import API, FILES, Exchange

FILES_PREFIX = "/files/"


class FileStore:
    """The images answers have handed out as URLs, by name; safe from every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self.clear()

    def clear(self) -> None:
        """Forget every file; names keep counting, so a stale URL never finds a new image."""
        with self._lock:
            self._files: dict[str, tuple[int, str, bytes]] = {}
            self._issued: dict[str, tuple[float, float | None]] = {}  # name: (signed, lifetime)
            self.lifetime: float | None = 86400.0  # seconds a new link lives (X-Tos-Expires)

    def put(self, fmt: str, data: bytes, content_type: str, status: int) -> str:
        """Keep DATA under a new name; a STATUS other than 200 is served with its phrase instead."""
        with self._lock:
            self._counter += 1
            name = f"img_{self._counter:06d}.{fmt}"
            if status != 200:
                data = f"{status} {HTTPStatus(status).phrase}".encode()
                content_type = "text/plain"
            self._files[name] = (status, content_type, data)
            self._issued[name] = (time.time(), self.lifetime)
        return name

    def query(self, name: str) -> str:
        """The signature part of NAME's link: when it was signed, and for how many seconds."""
        with self._lock:
            signed, lifetime = self._issued.get(name, (time.time(), self.lifetime))
        if lifetime is None:
            return ""
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed))
        return f"X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={date}&X-Tos-Expires={int(lifetime)}"

    def get(self, name: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) of a file, or None; a 403 once its link has expired."""
        with self._lock:
            stored = self._files.get(name)
            signed, lifetime = self._issued.get(name, (0.0, None))
        if stored is not None and lifetime is not None and time.time() >= signed + lifetime:
            return 403, "application/xml", EXPIRED
        return stored


EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


@FILES.route(None, FILES_PREFIX, prefix=True, auth=False)
def download(exchange: Exchange, recorded: Recorded) -> None:
    """A file, as a CDN serves it: no authentication; GET or HEAD only."""
    stored = exchange.context.files.get(recorded.path.removeprefix(FILES_PREFIX))
    if recorded.method not in ("GET", "HEAD") or stored is None:
        status = 404 if stored is None else 405
        exchange.send(status, HTTPStatus(status).phrase.encode(), "text/plain")
        return
    status, content_type, data = stored
    exchange.send(status, data, content_type)


@API.route("GET", FILES_PREFIX, prefix=True, auth=False)
def redirect(exchange: Exchange, recorded: Recorded) -> None:
    """An image URL on the API's own origin that redirects to the files server, as a gateway in
    front of a CDN does. It checks nothing (no auth), like a CDN link."""
    exchange.send(302, b"", "text/plain", {"Location": exchange.context.files_url + recorded.path})
