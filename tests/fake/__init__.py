"""A fake DeerAPI: two real HTTP servers on 127.0.0.1 with scripted faults, for tests and benches.

The main server speaks the part of DeerAPI's OpenAI-compatible API that deerimg uses
(``POST /v1/images/generations``, ``POST /v1/images/edits`` with a ``multipart/form-data`` body,
``GET /v1/models``), Gemini's native ``POST /v1beta/models/{model}:generateContent``, and records
every request. A second server
on another port, so another origin, serves the images of ``response_format: "url"`` answers the
way a CDN would: without authentication, recording what it was sent.

Images are real PNG/JPEG/WebP bytes made with Pillow, deterministic and cached by
(format, pixel size, image_bytes), so a request costs little CPU. To stay fast, a requested size
above 1024x1024 pixels in area is scaled down proportionally to at most 1024*1024 pixels; the
answer's ``size`` field still echoes the size that was asked for.

Run standalone (a benchmark does)::

    python -m tests.fake --port 0 --latency 0.5 --image-bytes 1.5MB

It prints its base URL as the first line of stdout and serves until SIGTERM, SIGINT or EOF on
stdin (``--ignore-stdin`` serves until a signal only).

One concern a module:

- ``facade``: FakeDeerAPI, what tests hold: life cycle, the request log, scripting faults.
- ``faults``: Fault (one answer's fault, frozen) and FaultPlan (queue, always, rejections,
  random failures, gather), which the routes ask which fault a request takes.
- ``recorder``: Recorded requests and the Recorder that keeps them.
- ``server``: the ThreadingHTTPServer of each origin, its route table (Router), the Exchange.
- ``routes/``: one module per endpoint family, each registering its routes
  (``images``: generations and edits; ``gemini``: generateContent; ``models``; ``files``: the CDN
  origin and its redirect; the task APIs ``flux``, ``replicate``, ``midjourney``, ``kling``).
- ``tasks``: the task APIs' TaskBook: tasks that move on one state per poll, never by time.
- ``schema``: request bodies checked as OpenAI's images API checks them, error objects;
  ``seedream`` and ``gpt25``: the fields of Seedream and of OpenAI's November-2026 models;
  ``gemini``: Gemini's generateContent checks, answer shapes and errors.
- ``multipart``: ``multipart/form-data`` parsing; ``images``: the image bytes.
- ``__main__``: ``python -m tests.fake``.
"""

from __future__ import annotations

from tests.fake.facade import FakeDeerAPI
from tests.fake.faults import DEFAULT, FAULT_KEYS, Fault, FaultPlan, random_failure
from tests.fake.images import C2PA_DUMMY, make_image, png_with_chunk
from tests.fake.multipart import Part
from tests.fake.recorder import Recorded, Recorder
from tests.fake.routes.models import DEFAULT_MODELS, default_models

__all__ = [
    "C2PA_DUMMY",
    "DEFAULT",
    "DEFAULT_MODELS",
    "FAULT_KEYS",
    "FakeDeerAPI",
    "Fault",
    "FaultPlan",
    "Part",
    "Recorded",
    "Recorder",
    "default_models",
    "make_image",
    "png_with_chunk",
    "random_failure",
]
