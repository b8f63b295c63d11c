"""The image URLs of ``response_format: "url"``: a CDN-like files origin, and a redirect to it.

Each link is signed the way Volcengine's TOS signs Seedream's (research/model-families.md §2.1:
``X-Tos-Date`` and ``X-Tos-Expires=86400``, a day) and stops working when that time is over: a
403 ``AccessDenied`` "Request has expired", as TOS answers. ``FileStore.lifetime`` sets how long
new links live (0: expired at once; None: an unsigned link that never expires). A route whose
links live less (FLUX's ``sample``, about 10 minutes, §2.4) puts them with ``longest``, and
``sas`` signs them as an Azure SAS (``se=`` the end, ``sig=``), the way BFL's are.
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
            # name: (signed, lifetime, Azure SAS rather than TOS)
            self._issued: dict[str, tuple[float, float | None, bool]] = {}
            self.lifetime: float | None = 86400.0  # seconds a new link lives (X-Tos-Expires)

    def put(
        self,
        fmt: str,
        data: bytes,
        content_type: str,
        status: int,
        *,
        longest: float | None = None,
        sas: bool = False,
    ) -> str:
        """Keep DATA under a new name; a STATUS other than 200 is served with its phrase instead.

        LONGEST: the link lives at most this long, whatever ``lifetime`` says (None there too).
        """
        with self._lock:
            self._counter += 1
            name = f"img_{self._counter:06d}.{fmt}"
            if status != 200:
                data = f"{status} {HTTPStatus(status).phrase}".encode()
                content_type = "text/plain"
            self._files[name] = (status, content_type, data)
            lifetime = self.lifetime
            if longest is not None:
                lifetime = longest if lifetime is None else min(lifetime, longest)
            self._issued[name] = (time.time(), lifetime, sas)
        return name

    def query(self, name: str) -> str:
        """The signature part of NAME's link: when it was signed, and for how many seconds."""
        with self._lock:
            signed, lifetime, sas = self._issued.get(name, (time.time(), self.lifetime, False))
        if lifetime is None:
            return ""
        if sas:
            end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(signed + lifetime))
            return f"se={end}&sp=r&sv=2024-11-04&sr=b&sig=ZmFrZS1zaWduYXR1cmU%3D"
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed))
        return f"X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Date={date}&X-Tos-Expires={int(lifetime)}"

    def get(self, name: str) -> tuple[int, str, bytes] | None:
        """(status, content type, body) of a file, or None; a 403 once its link has expired."""
        with self._lock:
            stored = self._files.get(name)
            signed, lifetime, _ = self._issued.get(name, (0.0, None, False))
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
