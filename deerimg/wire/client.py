"""DeerAPI's endpoints: POST images/generations and images/edits, GET models, image downloads."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from deerimg import __version__
from deerimg.errors import DeerimgError, ExitCode
from deerimg.events import Retrying
from deerimg.routes import Endpoint, sent, url_of
from deerimg.settings.keys import KEY_RE as _KEY_RE
from deerimg.settings.resolve import Settings
from deerimg.wire import proxies, responses, tls
from deerimg.wire.payload import Payload, Uploads, encode, inline
from deerimg.wire.send import Answer, Fetch, Pacing, Sender

if TYPE_CHECKING:
    import httpx

    from deerimg.prices import Cost
    from deerimg.wire.reading import Sink

OnPartial = Callable[[int, bytes], None]  # a streamed partial image: its index and bytes

MAX_REDIRECTS = 5


@dataclass(slots=True)
class ApiResult:
    """One successful answer: the images' data items and what the API said about them."""

    data: list[dict[str, Any]]
    usage: dict[str, Any] | None
    request_id: str | None
    elapsed: float
    fields: dict[str, Any]  # size, quality, output_format, background as the API reports them
    svg_usage: dict[str, Any] | None = None  # the tokens of SVG output, beside usage
    received: float = field(default_factory=time.time)  # when the answer came: URL lifetimes
    task_id: str | None = None  # a task API's task, submitted then polled
    cost: Cost | None = None  # what the run found it cost, once it is counted
    streamed: bool = False  # the answer came as a stream (--partial-images)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of URL; a URL that cannot be parsed has no origin anyone shares."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number, or out of range
        return parts.scheme, "", -1
    return parts.scheme, (parts.hostname or "").lower(), port


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
        pacer: Pacing | None = None,
    ) -> None:
        import httpx

        self._settings = settings
        self._on_retry = on_retry or (lambda _r: None)
        self.stop = stop or threading.Event()
        self._origin = origin(settings.api_root)
        verify = tls.checked_context()
        try:
            self._client = httpx.Client(
                verify=verify,
                timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 15.0)),
                limits=httpx.Limits(
                    max_connections=connections, max_keepalive_connections=connections
                ),
                headers={"User-Agent": f"deerimg/{__version__}"},
                follow_redirects=False,
                trust_env=True,  # the proxy variables
            )
        except (httpx.InvalidURL, ValueError, ImportError) as exc:  # a proxy variable's URL
            raise proxies.setup_error(exc) from None
        self.sender = Sender(
            self._client,
            timeout=settings.timeout,
            retries=settings.retries,
            stop=self.stop,
            rand=sleep_rand,
            via=proxies.via,
            retry_timeouts=settings.retry_timeouts,
            pacer=pacer,
        )

    def close(self) -> None:
        self._client.close()

    @property
    def settings(self) -> Settings:
        return self._settings

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
        files: Uploads = (),
        on_retry: Callable[[Retrying], None] | None = None,
        received: Callable[[], None] | None = None,
        on_partial: OnPartial | None = None,
    ) -> ApiResult:
        """POST /images/generations, FILES inline as data URLs in the JSON `image` (Seedream's
        references). received() is called once the answer is in, before it is parsed: the
        runner lets the next request go then (issue 10). A body with `stream` is read as its
        events come, each partial image handed to on_partial (wire/streaming.py)."""
        return self._images("generations", body, files, on_retry, received, on_partial)

    def edit(
        self,
        body: dict[str, Any],
        files: Uploads,
        on_retry: Callable[[Retrying], None] | None = None,
        received: Callable[[], None] | None = None,
        on_partial: OnPartial | None = None,
    ) -> ApiResult:
        """POST /images/edits as multipart: the body's fields as text, each file as a part."""
        return self._images("edits", body, files, on_retry, received, on_partial)

    def gemini(
        self,
        body: dict[str, Any],
        files: Uploads = (),
        on_retry: Callable[[Retrying], None] | None = None,
        received: Callable[[], None] | None = None,
    ) -> ApiResult:
        """POST Google's generateContent for BODY's model, FILES as inline_data parts; the
        answer read in the images endpoints' terms (wire/gemini.py)."""
        from deerimg.wire import gemini  # imported where used: most runs need none of it

        started = time.monotonic()
        url = url_of(self._settings.api_root, "gemini", str(body.get("model")))
        payload = encode(gemini.with_inline_data(sent("gemini", body), files))
        answer, request_id = self._post(url, payload, on_retry, received)
        items, usage = gemini.images_of(_json(answer, request_id), request_id)
        return ApiResult(items, usage or None, request_id, time.monotonic() - started, {})

    def _images(
        self,
        endpoint: Endpoint,
        body: dict[str, Any],
        files: Uploads,
        on_retry: Callable[[Retrying], None] | None,
        received: Callable[[], None] | None = None,
        on_partial: OnPartial | None = None,
    ) -> ApiResult:
        started = time.monotonic()
        url = url_of(self._settings.api_root, endpoint, str(body.get("model")))
        payload = encode(body, files) if endpoint == "edits" else encode(inline(body, files))
        stream = None
        if body.get("stream") in (True, "true"):  # --partial-images, or -p stream=true
            from deerimg.wire.streaming import ImageStream  # most runs stream nothing

            stream = ImageStream(on_partial)
        answer, request_id = self._post(url, payload, on_retry, received, stream)
        if stream is not None and stream.streamed:
            items, usage, fields = stream.result()
            elapsed = time.monotonic() - started
            return ApiResult(items, usage, request_id, elapsed, fields, streamed=True)
        data = responses.lift_images(answer.body, request_id)
        if data is None:
            data = _json(answer, request_id)
        items, usage, svg_usage, fields = responses.images_of(data, answer.body, request_id)
        return ApiResult(
            items, usage, request_id, time.monotonic() - started, fields, svg_usage=svg_usage
        )

    def _post(
        self,
        url: str,
        payload: Payload,
        on_retry: Callable[[Retrying], None] | None,
        received: Callable[[], None] | None,
        sink: Sink | None = None,
    ) -> tuple[Answer, str | None]:
        """POST PAYLOAD (retried as send.py says); received() once the answer is in."""
        fetch = Fetch("POST", url, payload, self._auth(), sink=sink)
        answer = self.sender.send(fetch, on_retry or self._on_retry)
        if received is not None:
            received()
        responses.refuse_redirect(answer.response)
        return answer, responses.request_id_of(answer.response)

    def post_json(
        self, url: str, payload: Payload, on_retry: Callable[[Retrying], None] | None = None
    ) -> tuple[Any, str | None]:
        """POST PAYLOAD to one of the API's own URLs; its JSON answer and request id."""
        answer, request_id = self._post(url, payload, on_retry, None)
        return _json(answer, request_id), request_id

    def get_json(self, url: str, on_retry: Callable[[Retrying], None] | None = None) -> Any:
        """GET one of the API's own URLs that costs nothing to ask again (a task's poll); its
        JSON answer. A stop does not cancel it: what it asks about is paid for."""
        fetch = Fetch("GET", url, headers=self._auth(), kind="task poll", paid=True, charges=False)
        answer = self.sender.send(fetch, on_retry or self._on_retry)
        responses.refuse_redirect(answer.response)
        return _json(answer, responses.request_id_of(answer.response))

    def list_models(self) -> list[dict[str, Any]]:
        fetch = Fetch(
            "GET", f"{self._settings.api_root}/models", headers=self._auth(), charges=False
        )
        answer = self.sender.send(fetch, self._on_retry)
        responses.refuse_redirect(answer.response)
        request_id = responses.request_id_of(answer.response)
        data = _json(answer, request_id)
        items = data.get("data") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise DeerimgError("the model list has no data", request_id=request_id)
        return [
            {k: responses.server_text(v) if isinstance(v, str) else v for k, v in item.items()}
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

            headers = self._auth() if origin(url) == self._origin else {}
            fetch = Fetch(
                "GET",
                url,
                headers=headers,
                kind="image download",
                paid=True,
                charges=False,  # paid already: a download cut off is fetched again
                make_error=failed,
            )
            answer = self.sender.send(fetch, on_retry or self._on_retry)
            response = answer.response
            if response.is_redirect and "location" in response.headers:
                try:
                    url = urljoin(url, response.headers["location"])
                except ValueError:
                    raise failed(response) from None
                continue
            if response.status_code != 200:
                raise failed(response)
            return answer.body
        raise DeerimgError("image download failed: too many redirects")


def _json(answer: Answer, request_id: str | None) -> Any:
    return responses.json_of(answer.response, answer.body, request_id)
