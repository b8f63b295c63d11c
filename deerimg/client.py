"""The only module that imports httpx: POST generations, GET models, url downloads, the retry loop."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from deerimg import __version__, retry
from deerimg.errors import DeerimgError, ExitCode
from deerimg.settings import Settings

if TYPE_CHECKING:
    import httpx

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-oneapi-request-id", "openai-request-id")
MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Retrying:
    """A retry about to happen, announced with the status (or the network error) and request id."""

    reason: str
    request_id: str | None
    wait: float
    attempt: int  # 1-based number of this retry
    retries: int
    status: int | None = None


@dataclass(frozen=True, slots=True)
class ApiResult:
    """One successful answer: the images' data items and what the API said about them."""

    data: list[dict[str, Any]]
    usage: dict[str, Any] | None
    request_id: str | None
    elapsed: float
    fields: dict[str, Any]  # size, quality, output_format, background as the API reports them


class Cancelled(Exception):
    """The run was stopped (Ctrl-C, --fail-fast, an authentication failure) while waiting."""


class Gate:
    """One pause shared by every worker: a 429 stops the whole pool, not just one request."""

    def __init__(self, stop: threading.Event) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._stop = stop

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                remaining = self._until - time.monotonic()
            if remaining <= 0:
                return
            if self._stop.wait(remaining):
                raise Cancelled


def request_id_of(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return response.headers[name]
    return None


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def error_from_response(response: httpx.Response) -> DeerimgError:
    """The API's message and code from an OpenAI-style error body, else the start of the body."""
    status = response.status_code
    request_id = request_id_of(response)
    message, code = _error_fields(response.content)
    if message is None:
        message = response.reason_phrase or "error"
    if status in (401, 403):
        return DeerimgError(
            message,
            ExitCode.CONFIG,
            status=status,
            code=code,
            request_id=request_id,
            hint="check the key: `deerimg config set api-key`, or DEERAPI_KEY",
        )
    hint = None
    if code and "content_policy" in code or "safety" in (message or "").lower():
        hint = "the prompt was refused by the content policy; rephrase it"
    return DeerimgError(message, status=status, code=code, request_id=request_id, hint=hint)


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
        text = " ".join(text.split())[:200]
        return (text or None), None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        return str(error.get("message") or "error"), (str(code) if code else None)
    if isinstance(error, str):
        return error, None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"], None
    return None, None


class ApiClient:
    """One httpx client shared by every worker thread, with the retry loop around each request."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_retry: Callable[[Retrying], None] | None = None,
        stop: threading.Event | None = None,
        connections: int = 4,
        sleep_rand: Callable[[], float] = random.random,
    ) -> None:
        import httpx

        self._httpx = httpx
        self._settings = settings
        self._on_retry = on_retry or (lambda _r: None)
        self.stop = stop or threading.Event()
        self.gate = Gate(self.stop)
        self._rand = sleep_rand
        self._origin = origin(settings.api_root)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 15.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"User-Agent": f"deerimg/{__version__}"},
            follow_redirects=False,
            trust_env=True,
        )

    def close(self) -> None:
        self._client.close()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._settings.require_key()}"}

    def generate(
        self, body: dict[str, Any], on_retry: Callable[[Retrying], None] | None = None
    ) -> ApiResult:
        started = time.monotonic()
        url = f"{self._settings.api_root}/images/generations"
        response = self._send("POST", url, body, on_retry or self._on_retry)
        request_id = request_id_of(response)
        data = self._json(response, request_id)
        if not isinstance(data, dict):
            raise DeerimgError("the response is not a JSON object", request_id=request_id)
        if "error" in data and not data.get("data"):
            message, code = _error_fields(response.content)
            raise DeerimgError(message or "error", code=code, request_id=request_id)
        items = data.get("data")
        if not isinstance(items, list):
            raise DeerimgError("the response has no data", request_id=request_id)
        items = [item for item in items if isinstance(item, dict)]
        if not items:
            raise DeerimgError("the response holds no image", request_id=request_id)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        fields = {k: data[k] for k in ("size", "quality", "output_format", "background") if k in data}
        return ApiResult(items, usage, request_id, time.monotonic() - started, fields)

    def list_models(self) -> list[dict[str, Any]]:
        response = self._send("GET", f"{self._settings.api_root}/models", None, self._on_retry)
        request_id = request_id_of(response)
        data = self._json(response, request_id)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise DeerimgError("the model list has no data", request_id=request_id)
        return [item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]

    def download(self, url: str) -> bytes:
        """GET an image URL; the key goes only to the API's own origin, checked at every redirect."""
        httpx = self._httpx
        for _ in range(MAX_REDIRECTS + 1):
            headers = self._auth() if origin(url) == self._origin else {}
            try:
                response = self._client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                raise DeerimgError(f"image download failed: {_describe(exc)}") from None
            if response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code >= 400:
                raise DeerimgError(
                    f"image download failed: HTTP {response.status_code} from {urlsplit(url).netloc}"
                )
            return response.content
        raise DeerimgError("image download failed: too many redirects")

    @staticmethod
    def _json(response: httpx.Response, request_id: str | None) -> Any:
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "unknown type").split(";")[0]
            raise DeerimgError(
                f"the response is not JSON ({kind}, {len(response.content)} bytes)",
                status=response.status_code,
                request_id=request_id,
            ) from None

    def _send(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        on_retry: Callable[[Retrying], None],
    ) -> httpx.Response:
        """Send once, and again on transient failures: the same body, announced, back-off."""
        httpx = self._httpx
        retries = self._settings.retries
        headers = self._auth()
        for attempt in range(retries + 1):
            self.gate.wait()
            if self.stop.is_set():
                raise Cancelled
            try:
                response = self._client.request(method, url, json=body, headers=headers)
            except httpx.TimeoutException as exc:
                failure: httpx.Response | DeerimgError = DeerimgError(
                    f"no answer within {self._settings.timeout:g} s ({type(exc).__name__})",
                    hint="raise --timeout; large or high-quality images can take minutes",
                )
            except httpx.TransportError as exc:
                if self.stop.is_set():
                    raise Cancelled from None
                failure = DeerimgError(f"network error: {_describe(exc)}")
            else:
                if response.status_code < 400:
                    return response
                if not retry.should_retry(response.status_code):
                    raise error_from_response(response)
                failure = response
            if attempt == retries:
                if isinstance(failure, DeerimgError):
                    raise failure
                raise error_from_response(failure)
            self._wait_before_retry(failure, attempt, retries, on_retry)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_before_retry(
        self,
        failure: httpx.Response | DeerimgError,
        attempt: int,
        retries: int,
        on_retry: Callable[[Retrying], None],
    ) -> None:
        if isinstance(failure, DeerimgError):
            wait = retry.backoff(attempt, self._rand())
            info = Retrying(failure.message, None, wait, attempt + 1, retries)
        else:
            wait = retry.delay(attempt, failure.headers, time.time(), self._rand())
            request_id = request_id_of(failure)
            if wait > retry.MAX_HONOURED_WAIT:
                error = error_from_response(failure)
                error.hint = (
                    f"the server asks to wait {wait:.0f} s, more than {retry.MAX_HONOURED_WAIT:.0f}"
                    " s: likely an exhausted quota; try again later"
                )
                raise error
            reason = f"{failure.status_code} {failure.reason_phrase}".strip()
            info = Retrying(reason, request_id, wait, attempt + 1, retries, failure.status_code)
            if failure.status_code == 429:
                self.gate.pause(wait)
        on_retry(info)
        if self.stop.wait(wait):
            raise Cancelled


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
