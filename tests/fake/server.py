"""The HTTP side: a ThreadingHTTPServer per origin, its route table, and the Exchange routes use."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from tests.fake.faults import NO_FAULT, Fault
from tests.fake.multipart import Part, multipart_boundary, parse_multipart
from tests.fake.recorder import Recorded, Recorder
from tests.fake.schema import error_body

if TYPE_CHECKING:
    from tests.fake.faults import FaultPlan
    from tests.fake.routes.files import FileStore
    from tests.fake.tasks import TaskBook


class Context(Protocol):
    """What routes see of the fake: its settings and its state (FakeDeerAPI is one)."""

    api_key: str
    latency: float
    image_bytes: int | None
    models: list[dict[str, Any]]
    faults: FaultPlan
    recorder: Recorder
    files: FileStore
    taskbook: TaskBook

    @property
    def base_url(self) -> str: ...

    @property
    def files_url(self) -> str: ...


Answer = Callable[["Exchange", Recorded], None]


@dataclass(frozen=True)
class Route:
    """One endpoint: the requests it answers, and what the server does before it answers."""

    method: str | None  # None: any method (the route refuses what it must); GET takes HEAD too
    path: str
    answer: Answer
    prefix: bool = False  # PATH is a folder of resources ("/files/"), not one endpoint
    auth: bool = True  # 401 without "Authorization: Bearer <api_key>"
    counted: bool = False  # in flight (max_in_flight, gather) from arrival until it answers
    # A multipart/form-data body: its parts are recorded, and this turns them into Recorded.json.
    form: Callable[[list[Part]], dict[str, Any]] | None = None

    def matches(self, path: str) -> bool:
        return path.startswith(self.path) if self.prefix else path == self.path

    def allows(self, method: str) -> bool:
        return self.method in (None, method) or (self.method == "GET" and method == "HEAD")


class Router:
    """One origin's routes; the modules in routes/ add theirs with ``@API.route(...)``."""

    def __init__(self, name: str, refuse: Callable[[Exchange, Recorded, str | None], None]):
        self.name = name
        # Answers what no route takes, given the one method the path takes (None: no endpoint).
        self.refuse = refuse
        self.routes: list[Route] = []

    def route(
        self,
        method: str | None,
        path: str,
        *,
        prefix: bool = False,
        auth: bool = True,
        counted: bool = False,
        form: Callable[[list[Part]], dict[str, Any]] | None = None,
    ) -> Callable[[Answer], Answer]:
        """Register the decorated function as the answer to METHOD PATH."""

        def register(answer: Answer) -> Answer:
            self.routes.append(Route(method, path, answer, prefix, auth, counted, form))
            return answer

        return register

    def find(self, method: str, path: str) -> tuple[Route | None, str | None]:
        """The route for METHOD PATH; or None and the method PATH takes (None: no endpoint).

        A prefix is a folder of resources, not an endpoint: another method there is a 404.
        """
        allowed = None
        for route in self.routes:
            if route.matches(path):
                if route.allows(method):
                    return route, None
                if not route.prefix:
                    allowed = route.method
        return None, allowed


def _refuse_json(exchange: Exchange, recorded: Recorded, allowed: str | None) -> None:
    method, path = recorded.method, recorded.path
    if allowed is None:
        message = f"Invalid URL ({method} {path})"
        exchange.send_json(404, error_body(404, message, code="unknown_url"))
        return
    message = f"Method {method} is not allowed for {path}."
    exchange.send_json(405, error_body(405, message, code="method_not_allowed"), {"Allow": allowed})


def _refuse_text(exchange: Exchange, recorded: Recorded, allowed: str | None) -> None:
    exchange.send(404, HTTPStatus(404).phrase.encode(), "text/plain")


API = Router("main", _refuse_json)  # the API server: JSON errors, request ids, requests
FILES = Router("files", _refuse_text)  # the files server, another origin: downloads


class Server(ThreadingHTTPServer):
    """One origin on 127.0.0.1, answering through ROUTER, with every connection tracked."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # a benchmark opens many connections at once; 5 would drop SYNs

    def __init__(self, context: Context, router: Router, port: int) -> None:
        self.context = context
        self.router = router
        self.role = router.name
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), Exchange)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print. A client hanging up is normal; anything else is kept for tests to inspect.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            self.context.recorder.note_error(f"{self.role}: {error!r}")

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every connection still open (call after server_close)."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


def _dumps(payload: Any) -> bytes:
    """json.dumps(payload).encode(), with each large b64_json spliced in rather than escaped.

    Base64 needs no escaping, and escaping 2 MB costs the fake about 3 ms an answer: the
    benchmark's eight answers at once queue behind each other on this process's lock.
    """
    items = payload.get("data") if isinstance(payload, dict) else None
    spliced: list[bytes] = []
    if isinstance(items, list):
        items = [dict(item) if isinstance(item, dict) else item for item in items]
        for item in items:
            value = item.get("b64_json") if isinstance(item, dict) else None
            if isinstance(value, str) and len(value) > 65536 and value.isascii():
                item["b64_json"] = f"\x00splice{len(spliced)}"
                spliced.append(value.encode("ascii"))
        payload = {**payload, "data": items}
    body = json.dumps(payload).encode()
    for k, value in enumerate(spliced):
        body = body.replace(b'\\u0000splice%d"' % k, value + b'"', 1)
    return body


class Drop(Exception):
    """Close the connection without answering."""


class Exchange(BaseHTTPRequestHandler):
    """One connection's requests: recorded, then routed; routes answer through send()."""

    protocol_version = "HTTP/1.1"
    _answered: Callable[[], None] = staticmethod(lambda: None)  # ends a counted route's count
    _limit_headers: dict[str, str] | None = None  # the rate limit's x-ratelimit-* for this answer
    server_version = "FakeDeerAPI/1.0"
    sys_version = ""
    # Headers and body are separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # peer's delayed ACK hold each small body back about 40 ms.
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, *args: Any) -> None:
        """Never print (BaseHTTPRequestHandler logs every request to stderr)."""

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    # -- what routes use -----------------------------------------------------------------------

    @property
    def context(self) -> Context:
        return self.server.context

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        fault: Fault = NO_FAULT,
    ) -> None:
        """Answer, delivered as FAULT says (truncate, stall, trickle, reason, request_id); a
        counted route stops counting."""
        self._answered()  # in flight until its answer starts, not until the client has read it
        self.send_response(status, fault.reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        request_id = self._request_id if fault.request_id is None else fault.request_id
        if request_id:
            self.send_header("x-request-id", request_id)
        for name, value in {**(self._limit_headers or {}), **(headers or {})}.items():
            self.send_header(name, value)
        if fault.truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            half = len(body) // 2 if fault.truncate or fault.stall else len(body)
            self._write(body[:half], fault)
            if fault.stall:
                self.wait(float(fault.stall))
            if not fault.truncate:
                self._write(body[half:], fault)
        if fault.truncate:
            self.wfile.flush()
            self.close_connection = True

    def _write(self, data: bytes, fault: Fault) -> None:
        """DATA at once, or trickle_bytes at a time, trickle seconds apart."""
        if not fault.trickle:
            self.wfile.write(data)
            return
        step = max(1, int(fault.trickle_bytes))
        for start in range(0, len(data), step):
            self.wfile.write(data[start : start + step])
            self.wait(float(fault.trickle))

    def send_events(
        self,
        events: Iterable[bytes],
        headers: dict[str, str] | None = None,
        *,
        gap: float = 0.0,
        cut: bool = False,
    ) -> None:
        """A 200 text/event-stream answer, each of EVENTS a chunk of a chunked body, GAP seconds
        apart; CUT drops the connection after the last one instead of ending the body."""
        self._answered()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        if self._request_id:
            self.send_header("x-request-id", self._request_id)
        for name, value in {**(self._limit_headers or {}), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        for k, event in enumerate(events):
            if k and gap:
                self.wait(gap)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        if cut:
            raise Drop
        self.wfile.write(b"0\r\n\r\n")

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        fault: Fault = NO_FAULT,
    ) -> None:
        self.send(status, _dumps(payload), "application/json", headers, fault=fault)

    def wait(self, seconds: float) -> None:
        """Sleep SECONDS; if the fake stops meanwhile, drop the connection instead of answering."""
        if self.context.faults.wait(seconds):
            raise Drop

    def answer_fault(self, fault: Fault) -> bool:
        """Apply the faults that replace the answer (delay, drop, body, status): True if so."""
        self.wait(float(fault.delay or 0))
        if fault.drop:
            raise Drop
        replaced = fault.replaced_answer()
        if replaced is None:
            return False
        status, body, content_type = replaced
        self.send(status, body, content_type, fault.response_headers(), fault=fault)
        return True

    # -- plumbing ------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        arrival = time.monotonic()
        router = self.server.router
        main = router is API
        self._request_id = self.context.recorder.next_request_id() if main else ""
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self.send_json(400, error_body(400, "Malformed request body.", code="bad_body"))
            return
        try:
            parsed: Any | None = json.loads(body) if body else None
        except ValueError:
            parsed = None
        split = urlsplit(self.path)
        route, allowed = router.find(self.command, split.path)
        parts: list[Part] | None = None
        if route is not None and route.form is not None:
            boundary = multipart_boundary(self.headers.get("Content-Type", ""))
            if boundary is not None:
                try:
                    parts = parse_multipart(body, boundary)
                except ValueError:
                    parts = None
                else:
                    parsed = route.form(parts)
        recorded = Recorded(
            method=self.command,
            path=split.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            json=parsed,
            time=arrival,
            query=split.query,
            request_id=self._request_id,
            parts=parts,
        )
        self.context.recorder.record(recorded, download=not main)
        try:
            if route is None:
                router.refuse(self, recorded, allowed)
            elif route.counted:
                with self.context.faults.answering() as self._answered:
                    self._authorized_then(route, recorded)
            else:
                self._authorized_then(route, recorded)
        except Drop:
            self.close_connection = True

    # Every method goes through the route table, which answers 405 or 404 for those it lacks.
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def _authorized_then(self, route: Route, recorded: Recorded) -> None:
        if route.auth and recorded.headers.get("authorization") != f"Bearer {self.context.api_key}":
            self.send_json(401, error_body(401))
            return
        limiter = getattr(self.context, "limiter", None)
        self._limit_headers = None
        if route.counted and limiter is not None:
            prompt = recorded.json.get("prompt") if isinstance(recorded.json, dict) else None
            accepted, self._limit_headers = limiter.take(prompt if isinstance(prompt, str) else "")
            if not accepted:
                message = "Rate limit reached for requests. Please try again later."
                self.send_json(429, error_body(429, message, code="rate_limit_exceeded"))
                return
        route.answer(self, recorded)
