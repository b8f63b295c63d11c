"""The only module that imports httpx: POST generations, GET models, url downloads, retries."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from deerimg import __version__, answers, retry, tls
from deerimg.config import KEY_RE as _KEY_RE
from deerimg.errors import DeerimgError, ExitCode
from deerimg.settings import Settings

if TYPE_CHECKING:
    import ssl

    import httpx

    from deerimg.inputs import InputImage

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-oneapi-request-id", "openai-request-id")
MAX_REDIRECTS = 5


@dataclass(slots=True)
class Retrying:
    """A retry about to happen, announced with the status (or the network error) and request id."""

    reason: str
    request_id: str | None
    wait: float
    attempt: int  # 1-based number of this retry
    retries: int
    status: int | None = None


@dataclass(slots=True)
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
            return answers.server_text(response.headers[name])[:200] or None
    return None


# Codes of an error that names the key, even in an answer whose status says 200 (some gateways).
_KEY_CODES = frozenset({"invalid_api_key", "invalid_authentication", "unauthorized"})


def _refused_key(
    message: str, code: str | None, request_id: str | None, status: int | None = None
) -> DeerimgError:
    """The key was refused: exit 3, and every prompt of a batch would fail alike."""
    return DeerimgError(
        message,
        ExitCode.CONFIG,
        status=status,
        code=code,
        request_id=request_id,
        hint="check the key: `deerimg config set api-key`, or DEERAPI_KEY",
    )


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of URL; a URL that cannot be parsed has no origin anyone shares."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number, or out of range
        return parts.scheme, "", -1
    return parts.scheme, (parts.hostname or "").lower(), port


def error_from_response(response: httpx.Response) -> DeerimgError:
    """The API's message and code from an OpenAI-style error body, else the start of the body."""
    status = response.status_code
    request_id = request_id_of(response)
    message, code = answers.error_fields(response.content)
    if message is None:
        message = response.reason_phrase or "error"
    # An HTML page's title often repeats the status ("502 Bad Gateway"); the line shows it once.
    message = message.removeprefix(f"{status} ").strip() or message
    if status in (401, 403):
        return _refused_key(message, code, request_id, status)
    hint = None
    if (code and "content_policy" in code) or "safety" in (message or "").lower():
        hint = "the prompt was refused by the content policy; rephrase it"
    return DeerimgError(message, status=status, code=code, request_id=request_id, hint=hint)


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
            verify=_tls_context(),
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 15.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"User-Agent": f"deerimg/{__version__}"},
            follow_redirects=False,
            trust_env=True,
        )

    def close(self) -> None:
        self._client.close()

    def _auth(self) -> dict[str, str]:
        key = self._settings.require_key()
        if not _KEY_RE.fullmatch(key):
            raise DeerimgError(
                "the API key holds a space, a control or a non-ASCII character",
                ExitCode.CONFIG,
                hint="set it again without the stray character: `deerimg config set api-key`, "
                "or DEERAPI_KEY",
            )
        return {"Authorization": f"Bearer {key}"}

    def generate(
        self,
        body: dict[str, Any],
        on_retry: Callable[[Retrying], None] | None = None,
        received: Callable[[], None] | None = None,
    ) -> ApiResult:
        """POST /images/generations. received() is called once the answer is in, before it is
        parsed: the runner lets the next request go then (issue 10)."""
        url = f"{self._settings.api_root}/images/generations"
        return self._images(url, body, (), on_retry, received)

    def edit(
        self,
        body: dict[str, Any],
        files: Sequence[tuple[str, InputImage]],
        on_retry: Callable[[Retrying], None] | None = None,
        received: Callable[[], None] | None = None,
    ) -> ApiResult:
        """POST /images/edits as multipart: the body's fields as text, each file as a part."""
        url = f"{self._settings.api_root}/images/edits"
        return self._images(url, body, files, on_retry, received)

    def _images(
        self,
        url: str,
        body: dict[str, Any],
        files: Sequence[tuple[str, InputImage]],
        on_retry: Callable[[Retrying], None] | None,
        received: Callable[[], None] | None = None,
    ) -> ApiResult:
        started = time.monotonic()
        response, answer = self._send("POST", url, body, on_retry or self._on_retry, uploads=files)
        if received is not None:
            received()
        _refuse_redirect(response)
        request_id = request_id_of(response)
        data = answers.lift_images(answer, request_id)
        if data is None:
            data = self._json(response, answer, request_id)
        if not isinstance(data, dict):
            raise DeerimgError("the response is not a JSON object", request_id=request_id)
        if "error" in data and not data.get("data"):
            message, code = answers.error_fields(answer)
            if code in _KEY_CODES:
                raise _refused_key(message or "error", code, request_id)
            raise DeerimgError(message or "error", code=code, request_id=request_id)
        items = data.get("data")
        if not isinstance(items, list):
            raise DeerimgError("the response has no data", request_id=request_id)
        items = [item for item in items if isinstance(item, dict)]
        if not items:
            raise DeerimgError("the response holds no image", request_id=request_id)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        fields = {
            k: data[k] for k in ("size", "quality", "output_format", "background") if k in data
        }
        return ApiResult(items, usage, request_id, time.monotonic() - started, fields)

    def list_models(self) -> list[dict[str, Any]]:
        response, answer = self._send(
            "GET", f"{self._settings.api_root}/models", None, self._on_retry
        )
        _refuse_redirect(response)
        request_id = request_id_of(response)
        data = self._json(response, answer, request_id)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise DeerimgError("the model list has no data", request_id=request_id)
        return [
            {k: answers.server_text(v) if isinstance(v, str) else v for k, v in item.items()}
            for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    def download(
        self, url: str, on_retry: Callable[[Retrying], None] | None = None
    ) -> bytes | bytearray:
        """GET an image URL; the key goes only to the API's own origin, checked at every redirect.

        The image is paid for already, so transient failures are retried as the API's are.
        """
        for _ in range(MAX_REDIRECTS + 1):
            try:
                parts = urlsplit(url)
                parts.port  # noqa: B018 - raises ValueError for a port out of range
            except ValueError:  # "http://[::1" (an unclosed IPv6 address), "http://h:99999"
                raise DeerimgError(f"image download failed: invalid URL {url[:100]!r}") from None
            if parts.scheme not in ("http", "https"):
                raise DeerimgError(f"image download failed: not an http(s) URL: {url[:100]!r}")
            netloc = parts.netloc

            def failed(response: httpx.Response, netloc: str = netloc) -> DeerimgError:
                return DeerimgError(
                    f"image download failed: HTTP {response.status_code} from {netloc}"
                )

            response, answer = self._send(
                "GET",
                url,
                None,
                on_retry or self._on_retry,
                auth=origin(url) == self._origin,
                make_error=failed,
                kind="image download",
                paid=True,
            )
            if response.is_redirect and "location" in response.headers:
                try:
                    url = urljoin(url, response.headers["location"])
                except ValueError:
                    raise failed(response) from None
                continue
            if response.status_code != 200:
                raise failed(response)
            return answer
        raise DeerimgError("image download failed: too many redirects")

    @staticmethod
    def _json(response: httpx.Response, answer: bytes | bytearray, request_id: str | None) -> Any:
        try:
            return json.loads(answer)
        except ValueError:
            kind = response.headers.get("content-type", "unknown type").split(";")[0]
            raise DeerimgError(
                f"the response is not JSON ({kind}, {len(answer)} bytes)",
                status=response.status_code,
                request_id=request_id,
            ) from None

    def _send(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        on_retry: Callable[[Retrying], None],
        *,
        auth: bool = True,
        make_error: Callable[[httpx.Response], DeerimgError] = error_from_response,
        kind: str | None = None,
        uploads: Sequence[tuple[str, InputImage]] = (),
        paid: bool = False,
    ) -> tuple[httpx.Response, bytes | bytearray]:
        """Send once, and again on transient failures: the same body, announced, back-off.

        Returns the answer and its body. kind names what is fetched when it is not the API
        ("image download"), in messages. paid: what is fetched is paid for already (an image
        URL), so a stop (Ctrl-C, --fail-fast) does not cancel it; a second Ctrl-C still does.
        """
        httpx = self._httpx
        retries = self._settings.retries
        headers = self._auth() if auth else {}
        content = None
        form = None
        if body is not None and uploads:
            form = _form_fields(body)
        elif body is not None:
            content = _encode_body(body)  # once: every try sends the same bytes
            headers["Content-Type"] = "application/json"
        failed = f"{kind} failed: " if kind else ""
        for attempt in range(retries + 1):
            if not paid:
                self.gate.wait()
                if self.stop.is_set():
                    raise Cancelled
            try:
                with contextlib.ExitStack() as opened:
                    if form is not None:
                        # Files are opened afresh for each try, so a retry sends them whole
                        # again; httpx streams them in 64 KB pieces, so -j edits of 16 large
                        # images do not each hold them all in memory.
                        parts = [
                            (field, (image.name, opened.enter_context(_open_upload(image)),
                                     image.content_type))
                            for field, image in uploads
                        ]  # fmt: skip
                        request = self._client.build_request(
                            method, url, data=form, files=parts, headers=headers
                        )
                    else:
                        request = self._client.build_request(
                            method, url, content=content, headers=headers
                        )
                    response, answer = self._receive(request)
            except _CutOff as cut:
                status = cut.response.status_code
                if status >= 400 and not retry.should_retry(status):
                    raise make_error(cut.response) from None  # its status says enough
                failure = DeerimgError(
                    f"{failed}network error: {_describe(cut.error)}",
                    request_id=request_id_of(cut.response),
                )
            except httpx.TimeoutException as exc:
                failure: httpx.Response | DeerimgError = DeerimgError(
                    f"{failed}no answer within {self._settings.timeout:g} s ({type(exc).__name__})",
                    hint="raise --timeout; large or high-quality images can take minutes",
                )
            except httpx.UnsupportedProtocol as exc:
                raise DeerimgError(f"{failed}{_describe(exc)}") from None  # no retry mends it
            except httpx.TransportError as exc:
                if self.stop.is_set() and not paid:
                    raise Cancelled from None
                failure = DeerimgError(f"{failed}network error: {_describe(exc)}")
            except httpx.InvalidURL as exc:
                raise DeerimgError(f"{failed}invalid URL: {_describe(exc)}") from None
            else:
                if response.status_code < 400:
                    return response, answer
                if not retry.should_retry(response.status_code):
                    raise make_error(response)
                failure = response
            if attempt == retries:
                if isinstance(failure, DeerimgError):
                    raise failure
                raise self._final_error(failure, make_error)
            self._wait_before_retry(failure, attempt, retries, on_retry, make_error, kind, paid)
        raise AssertionError("unreachable")  # pragma: no cover

    def _receive(self, request: httpx.Request) -> tuple[httpx.Response, bytes | bytearray]:
        """Send REQUEST and read its answer into one bytearray, grown chunk by chunk.

        httpx's own read keeps every chunk until it joins them: twice the answer at once, 8 MB
        for a 3 MB image in each of -j threads (issue 10). The bytearray also lets the base64 in
        it be decoded over itself (images.decode_in_place). Any other status comes back as a
        read response holding its body, for error_from_response; an answer cut off after its
        status and headers raises _CutOff, which keeps them.
        """
        httpx = self._httpx
        response = self._client.send(request, stream=True)
        answer = bytearray()
        try:
            for chunk in response.iter_bytes():
                answer += chunk
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:
            # The answer was cut off after its status and headers came: keep what they say.
            raise _CutOff(httpx, response, exc) from None
        finally:
            response.close()
            _unbind(response, httpx)
        if not 200 <= response.status_code < 300:
            return _whole(httpx, response, bytes(answer)), answer
        return response, answer

    @staticmethod
    def _final_error(
        response: httpx.Response, make_error: Callable[[httpx.Response], DeerimgError]
    ) -> DeerimgError:
        """The error for a transient failure no retry is left for; names a quota-sized wait."""
        error = make_error(response)
        asked = retry.retry_after(response.headers, time.time())
        if asked is not None and asked > retry.MAX_HONOURED_WAIT:
            error.hint = _quota_hint(asked)
        return error

    def _wait_before_retry(
        self,
        failure: httpx.Response | DeerimgError,
        attempt: int,
        retries: int,
        on_retry: Callable[[Retrying], None],
        make_error: Callable[[httpx.Response], DeerimgError],
        kind: str | None,
        paid: bool = False,
    ) -> None:
        if isinstance(failure, DeerimgError):
            wait = retry.backoff(attempt, self._rand())
            info = Retrying(failure.message, failure.request_id, wait, attempt + 1, retries)
        else:
            wait = retry.delay(attempt, failure.headers, time.time(), self._rand())
            request_id = request_id_of(failure)
            if wait > retry.MAX_HONOURED_WAIT:
                error = make_error(failure)
                error.hint = _quota_hint(wait)
                raise error
            reason = f"{failure.status_code} {answers.server_text(failure.reason_phrase)}".strip()
            if kind:
                reason = f"{kind}: {reason}"
            info = Retrying(reason, request_id, wait, attempt + 1, retries, failure.status_code)
            if failure.status_code == 429 and not paid:
                self.gate.pause(wait)  # the API's pool; an image host's limits are its own
        on_retry(info)
        if paid:
            time.sleep(wait)  # a stop does not throw a paid image away; a second Ctrl-C still can
        elif self.stop.wait(wait):
            raise Cancelled


def _tls_context() -> ssl.SSLContext:
    try:
        return tls.context()
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        cafile, capath = tls.bundle()
        raise DeerimgError(
            f"cannot load the TLS certificates ({cafile or capath}): {_describe(exc)}",
            ExitCode.CONFIG,
            hint="check SSL_CERT_FILE and SSL_CERT_DIR",
        ) from None


def _refuse_redirect(response: httpx.Response) -> None:
    """A redirect from the API is a base URL to fix (http to https, a moved gateway); following
    it would send the key and the body somewhere the user never named."""
    if response.is_redirect:
        where = response.headers.get("location", "nowhere")
        raise DeerimgError(
            f"the API redirects to {where[:200]}; deerimg does not follow it with the key",
            ExitCode.CONFIG,
            status=response.status_code,
            request_id=request_id_of(response),
            hint="set DEERIMG_BASE_URL (or `deerimg config set base-url`) to the right URL",
        )


class _CutOff(Exception):
    """An answer whose status and headers came but whose body was cut off."""

    def __init__(self, httpx: Any, response: httpx.Response, error: Exception) -> None:
        super().__init__(str(error))
        self.response = _whole(httpx, response, b"")  # the status and headers, no body
        self.error = error


def _whole(httpx: Any, response: httpx.Response, body: bytes) -> httpx.Response:
    """A read response holding BODY: what error_from_response and the retry logic read."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=body,
        request=response.request,
        extensions={"reason_phrase": response.extensions.get("reason_phrase", b"")},
    )


def _unbind(response: httpx.Response, httpx: Any) -> httpx.Response:
    """Let a read Response be freed with its last reference, not at the next garbage collection.

    httpx's Response and its stream (a BoundSyncStream) refer to each other, so only the cycle
    collector frees them, and large bytes objects do not trigger it: a batch kept every image's
    base64 body in memory (issue 10). The body is read and the stream closed by now.
    """
    response.stream = httpx.ByteStream(b"")
    return response


def _quota_hint(wait: float) -> str:
    return (
        f"the server asks to wait {wait:.0f} s, more than {retry.MAX_HONOURED_WAIT:.0f} s: "
        "likely an exhausted quota; try again later"
    )


def _encode_body(body: dict[str, Any]) -> bytes:
    """The JSON body as httpx would send it, but failing as a DeerimgError, not a traceback."""
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise DeerimgError(
            "the request holds a number JSON cannot carry (NaN or Infinity)",
            ExitCode.USAGE,
            hint="check the -p values and the prompt file's JSON lines",
        ) from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Bytes that were not UTF-8 (a prompt argument from a Latin-1 terminal) arrive as lone
        # surrogates; no API can read them.
        raise DeerimgError(
            "the request holds text that is not valid UTF-8 (bytes in another encoding?)",
            ExitCode.USAGE,
            hint="convert the prompt to UTF-8, for example with iconv",
        ) from None


def _open_upload(image: InputImage) -> BinaryIO:
    """An input, opened at send time: renamed or deleted since it was checked is one clear line."""
    try:
        return image.path.open("rb")
    except OSError as exc:
        raise DeerimgError(f"cannot read input {image.path}: {exc.strerror or exc}") from None


def _form_fields(body: dict[str, Any]) -> dict[str, str]:
    """Multipart text fields: strings as they are, everything else as JSON (2, true, [..])."""
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in body.items()
    }


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
