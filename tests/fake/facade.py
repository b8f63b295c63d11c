"""FakeDeerAPI: the two servers' life cycle, what they saw, and the faults tests script."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tests.fake import gemini, routes  # noqa: F401 - importing routes registers every route
from tests.fake.faults import Fault, FaultPlan
from tests.fake.images import cached_image, pixel_size
from tests.fake.ratelimit import RateLimit
from tests.fake.recorder import Recorded, Recorder
from tests.fake.routes.files import FileStore
from tests.fake.routes.images import EDITS_PATH, GENERATIONS_PATH
from tests.fake.routes.models import default_models
from tests.fake.schema import SIZE_RE
from tests.fake.server import API, FILES, Server
from tests.fake.tasks import Task, TaskBook


class FakeDeerAPI:
    """A fake DeerAPI on 127.0.0.1 (see the package docstring); a context manager.

    ``latency``, ``image_bytes`` and ``models`` are plain attributes: change them at any time;
    ``reset()`` puts back the values given to the constructor. ``faults`` (a FaultPlan),
    ``recorder`` (a Recorder), ``files`` (a FileStore) and ``taskbook`` (the task APIs' TaskBook)
    are what the routes use.
    """

    def __init__(
        self,
        api_key: str = "test-key",
        *,
        latency: float = 0.0,
        image_bytes: int | None = None,
        models: list[dict[str, Any]] | None = None,
        port: int = 0,
        files_port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.api_key = api_key
        self.tls = tls  # a server context: both servers speak https
        self.latency = latency
        self.image_bytes = image_bytes
        self.models: list[dict[str, Any]] = models if models is not None else default_models()
        self._initial = (latency, image_bytes, [dict(m) for m in self.models])
        self._ports = (port, files_port)
        self.faults = FaultPlan()
        self.recorder = Recorder()
        self.files = FileStore()
        self.taskbook = TaskBook()
        self.limiter: RateLimit | None = None  # rate_limit(): a token bucket on paid routes
        self._servers: list[Server] = []
        self._threads: list[threading.Thread] = []
        self._base_url = ""
        self._files_url = ""

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> FakeDeerAPI:
        """Bind both servers on 127.0.0.1 and serve them from daemon threads."""
        if self._servers:
            return self
        self.faults.start()
        main = Server(self, API, self._ports[0])
        files = Server(self, FILES, self._ports[1])
        self._servers = [main, files]
        scheme = "http"
        if self.tls is not None:
            scheme = "https"
            for server in self._servers:
                # The handshake happens in the handler's thread, on its first read.
                server.socket = self.tls.wrap_socket(
                    server.socket, server_side=True, do_handshake_on_connect=False
                )
        self._base_url = f"{scheme}://127.0.0.1:{main.server_address[1]}"
        self._files_url = f"{scheme}://127.0.0.1:{files.server_address[1]}"
        for server in self._servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},  # so stop() returns quickly
                name=f"fake-{server.role}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, wake up delayed answers and close every open connection."""
        self.faults.stop()
        servers, self._servers = self._servers, []
        # shutdown() waits up to a poll interval: wait for both servers at once.
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in servers:
            server.server_close()
        for server in servers:
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> FakeDeerAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the API server (no ``/v1``)."""
        if not self._base_url:
            raise RuntimeError("FakeDeerAPI is not started")
        return self._base_url

    @property
    def files_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the files server, another origin than base_url."""
        if not self._files_url:
            raise RuntimeError("FakeDeerAPI is not started")
        return self._files_url

    # -- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """A copy of every request the API server received, in arrival order."""
        return self.recorder.requests

    @property
    def downloads(self) -> list[Recorded]:
        """A copy of every request the files server received."""
        return self.recorder.downloads

    def generation_requests(self) -> list[Recorded]:
        """Only the ``POST /v1/images/generations`` requests."""
        return [r for r in self.requests if r.method == "POST" and r.path == GENERATIONS_PATH]

    def gemini_requests(self) -> list[Recorded]:
        """Only the ``POST /v1beta/models/{model}:generateContent`` requests (body in ``json``;
        ``gemini.model_of(r.path)`` is the model)."""
        return [r for r in self.requests if r.method == "POST" and gemini.model_of(r.path)]

    def edit_requests(self) -> list[Recorded]:
        """Only the ``POST /v1/images/edits`` requests (see ``Recorded.parts`` and ``json``)."""
        return [r for r in self.requests if r.method == "POST" and r.path == EDITS_PATH]

    @property
    def tasks(self) -> list[Task]:
        """Snapshots of every task submitted since reset(), in order: ``route``, ``id``, ``body``
        (the submit's JSON), ``model``, ``polls`` (seen so far), ``phase``, ``outcome``, ``urls``
        and ``images`` (the result's links and bytes, once ended well), ``extra``."""
        return self.taskbook.tasks

    def task(self, task_id: str) -> Task | None:
        """A snapshot of one task (a poll is not counted), or None."""
        return self.taskbook.get(task_id)

    @property
    def max_in_flight(self) -> int:
        """The most generation, edit, Gemini and task requests that were being handled at once."""
        return self.faults.max_in_flight

    @property
    def in_flight(self) -> int:
        """How many generation, edit, Gemini and task requests are being handled now."""
        return self.faults.in_flight

    @property
    def errors(self) -> list[str]:
        """Unexpected exceptions in handlers (the servers never print them)."""
        return self.recorder.errors

    def expected_image(self, fmt: str = "png", size: str = "1024x1024") -> bytes:
        """The exact bytes a fault-free generation or edit answers for this format and size."""
        size = "1024x1024" if size == "auto" else size
        match = SIZE_RE.fullmatch(size)
        if match is None:
            raise ValueError(f"bad size: {size!r}")
        width, height = pixel_size(int(match.group(1)), int(match.group(2)))
        return cached_image(fmt, width, height, self.image_bytes)[0]

    def expected_gemini_image(
        self, aspect_ratio: str = "1:1", image_size: str = "1K", fmt: str = "png"
    ) -> bytes:
        """The exact bytes a fault-free Gemini answer carries for this aspect ratio and size."""
        width, height = pixel_size(*gemini.pixels(aspect_ratio, image_size))
        return cached_image(fmt, width, height, self.image_bytes)[0]

    # -- scripting -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget requests, downloads, faults and counters; restore the constructor's settings.

        Request ids keep counting, so they stay unique for the server's life.
        """
        self.recorder.clear()
        self.faults.clear()
        self.files.clear()
        self.taskbook.clear()
        self.limiter = None
        self.latency, self.image_bytes, models = self._initial
        self.models = [dict(m) for m in models]

    def rate_limit(
        self,
        per_minute: float,
        *,
        burst: float = 2.0,
        headers: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> RateLimit:
        """Let PER_MINUTE generations, edits, Gemini or task requests through a minute (a token
        bucket of BURST), answering the rest 429 with Retry-After (and retry-after-ms) at once;
        HEADERS: every such answer carries x-ratelimit-limit/-remaining/-reset-requests. Until
        reset(); the bucket's log says when each request came and whether it got through."""
        self.limiter = RateLimit(per_minute, burst, headers, clock or time.monotonic)
        return self.limiter

    def queue(self, *faults: Mapping[str, Any] | Fault) -> None:
        """Faults for the next requests, one each, in order (``{}`` is a normal answer).

        A queued fault is taken by the next generation, edit, Gemini, models or task request,
        unless it names a ``route`` ("generations", "edits", "gemini", "models", a task API's
        submits "flux", "replicate", "midjourney", "kling" or its polls "flux-poll", …): then
        only a request to that route takes it. A poll's fault that ends a task also bends its
        result (url_status, redirect_url, not_image, wrong_format, images, c2pa). Each is a
        Fault or a mapping of Fault's fields. On "gemini" an error status is answered in Google's
        error body, and ``gemini_answer`` shapes one answer.
        """
        self.faults.queue(*(f if isinstance(f, Fault) else Fault.of(f) for f in faults))

    def always(self, **fault: Any) -> None:
        """A fault for every request (generation, edit, Gemini, models, or its ``route``) until
        reset()."""
        self.faults.always(Fault.of(fault))

    def gemini_answer(self, variant: str) -> None:
        """Answer every Gemini request in the shape VARIANT names until reset() (which puts back
        "inlineData"); ValueError for a name not in tests.fake.gemini.VARIANTS."""
        self.faults.gemini_answer = variant

    def reject_prompts(
        self,
        substring: str,
        status: int = 400,
        message: str = "Your request was rejected by the safety system.",
        code: str = "content_policy_violation",
        *,
        error_type: str = "invalid_request_error",
    ) -> None:
        """Answer every generation, edit or Gemini request whose prompt contains ``substring``."""
        fault = Fault(status=status, message=message, code=code, type=error_type)
        self.faults.reject(substring, fault)

    def gather(self, count: int, timeout: float = 10.0) -> None:
        """Hold generations, edits and Gemini requests until COUNT are in flight, then answer all.

        Once COUNT were in flight together (or TIMEOUT seconds passed), nothing is held any
        more. A test of concurrency synchronises on this instead of on a latency long enough
        for the client's threads to overlap.
        """
        self.faults.gather(count, timeout)

    def fail_randomly(self, rate: float, seed: int, status: int = 503) -> None:
        """Fail each generation, edit or Gemini request with probability ``rate`` (seeded).

        Each failure has retry-after-ms 1.

        Whether the n-th sending of a prompt fails is drawn from (seed, prompt, n) alone
        (random_failure), so however a client's threads interleave, the same prompts fail
        the same number of times. Drawing in arrival order instead let a prompt whose retries
        happened to land on a fixed seed's cluster of failures fail for good, 1 run in 50.
        """
        self.faults.fail_randomly(rate, seed, status)

    # -- the task APIs (tests/fake/tasks.py) ---------------------------------------------------

    def task_polls(self, polls: int) -> None:
        """Tasks submitted from now on end at poll POLLS + 1 (0: the first poll ends them);
        the polls before are "queued" (the first, if POLLS >= 2) then "running". reset(): 2."""
        self.taskbook.set_polls(polls)

    def task_outcome(self, route: str, outcome: str = "ok", match: str | None = None) -> None:
        """How ROUTE's tasks submitted from now on end (those whose prompt contains MATCH, if
        given), until reset() or another call: "ok", or flux "Error", "Failed", "Content
        Moderated", "Request Moderated"; replicate "failed", "canceled"; midjourney "FAILURE";
        kling "failed". ValueError for another route or outcome."""
        self.taskbook.set_outcome(route, outcome, match)

    def mj_submit_code(self, *codes: int) -> None:
        """The next Midjourney submits (imagine or action), one each, answer with these codes:
        1 submitted, 21 exists, 22 queued (these three make a task), 23 queue full, 24 sensitive
        prompt, 4 error (no task). Afterwards, 1."""
        self.taskbook.queue_mj_codes(codes)

    def replicate_output(self, shape: str | None) -> None:
        """A succeeded prediction's ``output``: "list" of URLs, or "string" (the first URL);
        None (reset()'s): a string for the "-turbo" models, a list for the others."""
        if shape not in ("list", "string", None):
            raise ValueError("shape must be 'list', 'string' or None")
        self.taskbook.replicate_output = shape
