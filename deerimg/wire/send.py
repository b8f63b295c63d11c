"""One request sent until it is answered: one attempt at a time, then the retry loop around it.

`Sender.attempt` makes one try of a `Fetch` (its payload encoded once, in payload.py) and says
how it went: an `Answer`, a `Refused` status worth another try, a `Broken` connection, or a final
error raised. `Sender.send` is the loop: the shared 429 pause, the stop, the announced wait, the
error when no retry is left. httpx layers its own sending the same way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deerimg.errors import DeerimgError, concealed
from deerimg.events import Retrying
from deerimg.wire import retry
from deerimg.wire.gate import Cancelled, Gate, Pacing
from deerimg.wire.payload import Payload, open_upload
from deerimg.wire.reading import CutOff, Sink, StreamEnded, receive
from deerimg.wire.responses import describe, error_from_response, request_id_of, server_text

if TYPE_CHECKING:
    import httpx

_SLOW_HINT = "raise --timeout; large or high-quality images can take minutes"
_TWICE = "possibly billed: this retry may pay twice (--retry-timeouts)"


@dataclass(slots=True)
class Fetch:
    """One request and how its failures are told: KIND names what is fetched when it is not the
    API ("image download"); PAID means it is paid for already (an image URL), so a stop (Ctrl-C,
    --fail-fast) does not cancel it and its 429s do not pause the API's pool."""

    method: str
    url: str
    payload: Payload = field(default_factory=Payload)
    headers: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    paid: bool = False
    # A 2xx answer means the request was charged (a generation, an edit): a body that is then
    # cut off, stalls or misses the deadline fails for good, as another try would pay again.
    # False for what costs nothing to ask again: the model list, an image download.
    charges: bool = True
    make_error: Callable[[httpx.Response], DeerimgError] = error_from_response
    sink: Sink | None = None  # a streamed answer's body goes here as it comes (--partial-images)

    def failed(self) -> str:
        return f"{self.kind} failed: " if self.kind else ""


@dataclass(slots=True)
class Answer:
    response: httpx.Response
    body: bytearray


@dataclass(slots=True)
class Refused:
    """A status worth another try (408, 409, 429, 5xx)."""

    response: httpx.Response


@dataclass(slots=True)
class Broken:
    """No usable answer: a time-out, a dropped or cut-off connection."""

    error: DeerimgError
    billed: bool = False  # a paid request sent whole, then no answer: it may have been charged


class Sender:
    """Sends Fetches over one httpx client, shared by every worker thread."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        timeout: float,
        retries: int,
        stop: threading.Event,
        rand: Callable[[], float],
        via: Callable[[str], str] = lambda _url: "",
        retry_timeouts: bool = False,
        pacer: Pacing | None = None,
    ) -> None:
        self.client = client
        self.pacer = pacer  # -j auto: it spaces the API's requests, and 429s do not pause all
        self.via = via  # " via proxy P (VARIABLE)" for a URL sent through a proxy
        self.timeout = timeout
        self.retries = retries
        self.retry_timeouts = retry_timeouts  # --retry-timeouts: a billed time-out is sent again
        self.stop = stop
        self.gate = Gate(stop)
        self._rand = rand

    def send(self, fetch: Fetch, on_retry: Callable[[Retrying], None]) -> Answer:
        """Send FETCH once, and again on transient failures: the same body, announced, back-off."""
        for attempt in range(self.retries + 1):
            paced = self.pacer if not fetch.paid else None
            started = 0.0
            if not fetch.paid:
                self.gate.wait()
                started = self._paced(paced)
                if self.stop.is_set():
                    raise Cancelled
            outcome = self.attempt(fetch)
            if paced is not None and isinstance(outcome, (Answer, Refused)):
                response = outcome.response
                paced.observed(
                    started, retry.rate_signal(response.status_code, response.headers, time.time())
                )
            if isinstance(outcome, Answer):
                return outcome
            if attempt == self.retries:
                raise self._final_error(outcome, fetch)
            self._wait(outcome, attempt, fetch, on_retry)
        raise AssertionError("unreachable")  # pragma: no cover

    def _paced(self, pacer: Pacing | None) -> float:
        """Wait for the pacer's turn (-j auto); the start's time on its clock."""
        while pacer is not None:
            ready, value = pacer.reserve()
            if ready:
                return value
            if self.stop.wait(value):
                raise Cancelled
        return 0.0

    def attempt(self, fetch: Fetch) -> Answer | Refused | Broken:
        """One try; an error no retry can mend is raised."""
        import httpx

        failed = fetch.failed()
        deadline = time.monotonic() + self.timeout
        try:
            with contextlib.ExitStack() as opened:
                request = self._request(fetch, opened)
                response, body = receive(self.client, request, deadline, fetch.sink)
        except CutOff as cut:
            return self._cut_off(cut, fetch)
        except StreamEnded as ended:  # whole, but no final image: as a cut-off body is
            if not self.retry_timeouts:
                raise
            return Broken(ended, billed=True)
        except httpx.TimeoutException as exc:
            return self._timed_out(exc, fetch)
        except httpx.UnsupportedProtocol as exc:
            raise DeerimgError(f"{failed}{describe(exc)}") from None  # no retry mends it
        except httpx.TransportError as exc:
            if self.stop.is_set() and not fetch.paid:
                raise Cancelled from None
            return Broken(
                DeerimgError(f"{failed}network error: {describe(exc)}{self.via(fetch.url)}")
            )
        except httpx.InvalidURL as exc:
            raise DeerimgError(f"{failed}invalid URL: {describe(exc)}") from None
        if response.status_code < 400:
            return Answer(response, body)
        if not retry.should_retry(response.status_code):
            raise fetch.make_error(response)
        return Refused(response)

    def _timed_out(self, exc: httpx.TimeoutException, fetch: Fetch) -> Broken:
        """No answer in time; final, unless --retry-timeouts, when a paid request was sent.

        A read time-out comes after the request went out whole: the server may be making the
        image and charge for it (OpenAI takes no idempotency key), so another try could pay
        twice. A connect, pool or write time-out comes before the request was whole: retried.
        """
        import httpx

        message = (
            f"{fetch.failed()}no answer within {self.timeout:g} s ({type(exc).__name__})"
            f"{self.via(fetch.url)}"
        )
        billed = fetch.charges and isinstance(exc, httpx.ReadTimeout)
        if billed and not self.retry_timeouts:
            raise DeerimgError(
                f"{message}: the request was sent, so it may have been billed; it is not sent "
                "again, since another try could pay twice; --skip-existing re-runs the prompt",
                hint=f"{_SLOW_HINT}; --retry-timeouts sends such a request again, which may "
                "pay twice",
            )
        return Broken(DeerimgError(message, hint=_SLOW_HINT), billed=billed)

    def _cut_off(self, cut: CutOff, fetch: Fetch) -> Broken:
        """An answer whose body broke after its status: final when it was charged for."""
        status = cut.response.status_code
        request_id = request_id_of(cut.response)
        how = cut.how(self.timeout)
        if cut.sink is not None:  # a stream of partial images, then the final one
            how = f"{how}, {cut.sink.progress()}"
        if 200 <= status < 300 and fetch.charges and cut.sink is not None and self.retry_timeouts:
            return Broken(DeerimgError(f"{fetch.failed()}the stream {how}"), billed=True)
        if 200 <= status < 300 and fetch.charges:
            raise DeerimgError(
                f"{fetch.failed()}{'the stream' if cut.sink else 'the body'} {how}",
                status=status,
                request_id=request_id,
                hint=f"the API answered {status}, so the request was likely charged; it is not "
                "sent again, since another try would pay again",
            )
        if status >= 400 and not retry.should_retry(status):
            raise fetch.make_error(cut.response) from None  # its status says enough
        failed = fetch.failed()
        if cut.timed_out or cut.error is None:
            return Broken(
                DeerimgError(
                    f"{failed}{status} answer incomplete: the body {how}",
                    request_id=request_id,
                    hint=_SLOW_HINT,
                )
            )
        return Broken(
            DeerimgError(f"{failed}network error: {describe(cut.error)}", request_id=request_id)
        )

    def _request(self, fetch: Fetch, opened: contextlib.ExitStack) -> httpx.Request:
        payload = fetch.payload
        if payload.form is not None:
            # Files are opened afresh for each try, so a retry sends them whole again; httpx
            # streams them in 64 KB pieces, so -j edits of 16 large images do not each hold them
            # all in memory.
            parts = [
                (name, (image.name, opened.enter_context(open_upload(image)), image.content_type))
                for name, image in payload.uploads
            ]
            return self.client.build_request(
                fetch.method, fetch.url, data=payload.form, files=parts, headers=fetch.headers
            )
        headers = fetch.headers
        if payload.content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        return self.client.build_request(
            fetch.method, fetch.url, content=payload.content, headers=headers
        )

    def _final_error(self, outcome: Refused | Broken, fetch: Fetch) -> DeerimgError:
        """The error for a transient failure no retry is left for; names a quota-sized wait."""
        if isinstance(outcome, Broken):
            return outcome.error
        error = fetch.make_error(outcome.response)
        asked = retry.retry_after(outcome.response.headers, time.time())
        if asked is not None and asked > retry.MAX_HONOURED_WAIT:
            error.hint = retry.quota_hint(asked, time.time())
        return error

    def _wait(
        self,
        outcome: Refused | Broken,
        attempt: int,
        fetch: Fetch,
        on_retry: Callable[[Retrying], None],
    ) -> None:
        """Announce retry ATTEMPT + 1 and wait for it; a 429 from the API pauses every worker."""
        if isinstance(outcome, Broken):
            wait = retry.backoff(attempt, self._rand())
            error = outcome.error
            reason = f"{error.message}, {_TWICE}" if outcome.billed else error.message
            info = Retrying(
                reason, error.request_id, wait, attempt + 1, self.retries, billed=outcome.billed
            )
        else:
            failure = outcome.response
            wait = retry.delay(attempt, failure.headers, time.time(), self._rand())
            if wait > retry.MAX_HONOURED_WAIT:
                error = fetch.make_error(failure)
                error.hint = retry.quota_hint(wait, time.time())
                raise error
            reason = f"{failure.status_code} {server_text(failure.reason_phrase)}".strip()
            if fetch.kind:
                reason = f"{fetch.kind}: {reason}"
            info = Retrying(  # the server's words, which may quote the key
                concealed(reason) or "",
                concealed(request_id_of(failure)),
                wait,
                attempt + 1,
                self.retries,
                failure.status_code,
            )
            if failure.status_code == 429 and not fetch.paid and self.pacer is None:
                self.gate.pause(wait)  # the API's pool; an image host's limits are its own
        on_retry(info)
        if fetch.paid:
            time.sleep(wait)  # a stop does not throw a paid image away; a second Ctrl-C still can
        elif self.stop.wait(wait):
            raise Cancelled
