"""A fake DeerAPI: two real HTTP servers on 127.0.0.1 with scripted faults, for tests and benches.

The main server speaks the part of DeerAPI's OpenAI-compatible API that deerimg uses
(``POST /v1/images/generations``, ``POST /v1/images/edits`` with a ``multipart/form-data`` body,
``GET /v1/models``) and records every request. A second server
on another port, so another origin, serves the images of ``response_format: "url"`` answers the
way a CDN would: without authentication, recording what it was sent.

Images are real PNG/JPEG/WebP bytes made with Pillow, deterministic and cached by
(format, pixel size, image_bytes), so a request costs little CPU. To stay fast, a requested size
above 1024x1024 pixels in area is scaled down proportionally to at most 1024*1024 pixels; the
answer's ``size`` field still echoes the size that was asked for.

Run standalone (a benchmark does)::

    python -m tests.fakeapi --port 0 --latency 0.5 --image-bytes 1.5MB

It prints its base URL as the first line of stdout and serves until SIGTERM, SIGINT or EOF on
stdin (``--ignore-stdin`` serves until a signal only).
"""

from __future__ import annotations

import argparse
import base64
import email.parser
import email.policy
import io
import json
import math
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_KEYS",
    "FakeDeerAPI",
    "Part",
    "Recorded",
    "make_image",
    "png_with_chunk",
]

GENERATIONS_PATH = "/v1/images/generations"
EDITS_PATH = "/v1/images/edits"
MODELS_PATH = "/v1/models"
MAX_PIXELS = 1024 * 1024  # larger sizes are scaled down to this area (see the module docstring)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_SIZE_RE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")

NOT_AN_IMAGE = b"hello, not an image"
INVALID_B64 = "!!!notbase64***"
# A stand-in for a C2PA manifest store: a JUMBF box header and zeros. Only its chunk type matters.
C2PA_DUMMY = (
    b"\x00\x00\x00\x28jumb\x00\x00\x00\x1ejumdc2pa\x00\x11\x00\x10\x80\x00\xaa\x008\x9bq"
    + (b"\x00" * 8)
)

FAULT_KEYS = frozenset(
    {
        "route",  # "generations", "edits" or "models": only that route takes it (default: any)
        "status",
        "message",
        "code",
        "type",
        "param",
        "retry_after",
        "retry_after_ms",
        "headers",
        "drop",
        "delay",
        "truncate",
        "body",
        "content_type",
        "no_data",
        "empty_data",
        "invalid_b64",
        "not_image",
        "error_200",
        "url_status",
        "redirect_url",
        "c2pa",
        "wrong_format",
        "revised_prompt",
        "usage",
    }
)
_ROUTES = {"generations", "edits", "models"}
_IMAGE_ROUTES = {"generations", "edits"}  # the routes reject_prompts and fail_randomly apply to
IMAGE_FIELDS = ("image", "image[]")  # the multipart names of an edit's input images
MAX_EDIT_IMAGES = 16
IMAGE_TOKENS_PER_INPUT = 1000  # usage.input_tokens_details.image_tokens per input image

# Defaults for an error body by status: (message, type, code), as OpenAI-compatible gateways send.
_ERROR_DEFAULTS: dict[int, tuple[str, str, str | None]] = {
    400: ("The request was invalid.", "invalid_request_error", "invalid_request_error"),
    401: ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
    402: ("Your account balance is insufficient.", "insufficient_quota", "insufficient_quota"),
    403: ("You do not have access to this model.", "invalid_request_error", "permission_denied"),
    404: ("The model does not exist.", "invalid_request_error", "model_not_found"),
    408: ("The request timed out.", "timeout", "timeout"),
    409: ("The request conflicted with another one.", "invalid_request_error", "conflict"),
    413: ("The request is too large.", "invalid_request_error", "request_too_large"),
    429: ("Rate limit reached for requests.", "requests", "rate_limit_exceeded"),
    500: ("The server had an error processing your request.", "server_error", "server_error"),
    502: ("Bad gateway.", "server_error", "bad_gateway"),
    503: ("The service is temporarily overloaded.", "server_error", "service_unavailable"),
    504: ("The upstream model timed out.", "server_error", "gateway_timeout"),
}

DEFAULT_MODELS: tuple[tuple[str, int, str], ...] = (
    ("gpt-4o", 1715367049, "openai"),
    ("gpt-4o-mini", 1721172741, "openai"),
    ("text-embedding-3-small", 1705948997, "openai"),
    ("whisper-1", 1677532384, "openai"),
    ("tts-1", 1681940951, "openai"),
    ("claude-sonnet-4", 1747872000, "anthropic"),
    ("gpt-image-1", 1745517030, "openai"),
    ("gpt-image-2", 1776729600, "openai"),
    ("chatgpt-image-latest", 1765152000, "openai"),
    ("dall-e-3", 1698785189, "openai"),
    ("flux-kontext-pro", 1748908800, "black-forest-labs"),
    ("flux.1-dev", 1722470400, "black-forest-labs"),
    ("midjourney", 1712000000, "midjourney"),
    ("doubao-seedream-4-5-251128", 1764288000, "volcengine"),
    ("imagen-4.0-generate-preview", 1749168000, "vertex-ai"),
    ("ideogram-v3", 1743033600, "ideogram"),
    ("recraft-v3", 1730419200, "recraft"),
    ("stable-diffusion-3.5-large", 1729555200, "stability-ai"),
    ("qwen-image", 1754265600, "alibaba"),
    ("gemini-2.5-flash-image", 1756166400, "google"),
    ("gemini-2.5-pro", 1750118400, "google"),
    ("deepseek-chat", 1735689600, "deepseek"),
)


def default_models() -> list[dict[str, Any]]:
    """A fresh copy of the mixed chat/embedding/audio/image list ``GET /v1/models`` answers."""
    return [
        {"id": ident, "object": "model", "created": created, "owned_by": owner}
        for ident, created, owner in DEFAULT_MODELS
    ]


@dataclass
class Part:
    """One part of a ``multipart/form-data`` body, as sent."""

    name: str  # the Content-Disposition name, e.g. "image[]", "mask", "prompt"
    filename: str | None  # None for a text field
    content_type: str | None  # the part's Content-Type header, or None without one
    data: bytes  # the exact bytes between the part's headers and the next boundary


@dataclass
class Recorded:
    """One request a server received."""

    method: str
    path: str  # without the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes
    # The parsed JSON body, or None. For a multipart ``POST /v1/images/edits``: a dict of its
    # text fields (parts without a filename, other than image/image[]/mask), values as sent
    # (strings; the last of repeated names wins).
    json: Any | None
    time: float  # time.monotonic() when the request line and headers had arrived
    query: str = ""
    request_id: str = ""  # the x-request-id the main server answered with ("" on the files server)
    # Every part of a multipart ``POST /v1/images/edits`` body in order, or None (another
    # request, another content type, or a body that is not valid multipart).
    parts: list[Part] | None = None


# --------------------------------------------------------------------------------------------
# Images


def normalize_format(fmt: str) -> str:
    """``png``, ``jpeg`` or ``webp`` for a format name (``jpg`` and upper case accepted)."""
    name = fmt.lower()
    name = "jpeg" if name == "jpg" else name
    if name not in _PIL_FORMATS:
        raise ValueError(f"unsupported image format: {fmt!r}")
    return name


def sniff_format(data: bytes) -> str | None:
    """The format of encoded image bytes, or None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def pixel_size(width: int, height: int) -> tuple[int, int]:
    """The pixel size the fake makes for a requested size: at most MAX_PIXELS in area."""
    if width * height <= MAX_PIXELS:
        return width, height
    scale = math.sqrt(MAX_PIXELS / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _gradient(width: int, height: int) -> Image.Image:
    vertical = Image.linear_gradient("L").resize((width, height))
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    return Image.merge("RGB", (horizontal, vertical, Image.new("L", (width, height), 150)))


def _with_noise_rows(image: Image.Image, rows: int, seed: int) -> Image.Image:
    rows = min(max(rows, 0), image.height)
    if rows == 0:
        return image
    # Seeded, so the same (format, size, image_bytes) always gives the same bytes.
    noise = random.Random(seed).randbytes(image.width * rows * 3)
    out = image.copy()
    out.paste(Image.frombytes("RGB", (image.width, rows), noise), (0, 0))
    return out


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=1)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=85)
    else:
        image.save(buffer, "WEBP", quality=80, method=0)
    return buffer.getvalue()


def png_with_chunk(png: bytes, chunk_type: bytes, data: bytes, *, after: bytes = b"IHDR") -> bytes:
    """``png`` plus a chunk (valid length and CRC) right after its first ``after`` chunk."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    if len(chunk_type) != 4:
        raise ValueError("a PNG chunk type is 4 bytes")
    chunk = (
        len(data).to_bytes(4, "big")
        + chunk_type
        + data
        + zlib.crc32(chunk_type + data).to_bytes(4, "big")
    )
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        end = pos + 12 + length
        if png[pos + 4 : pos + 8] == after:
            return png[:end] + chunk + png[end:]
        pos = end
    raise ValueError(f"no {after!r} chunk in the PNG")


def _jpeg_with_comments(jpeg: bytes, size: int) -> bytes:
    """``jpeg`` with COM segments totalling about ``size`` bytes right after SOI."""
    segments = []
    while size >= 4:
        length = min(65533, size - 4)  # the length field counts itself, and is 16 bits
        segments.append(b"\xff\xfe" + (length + 2).to_bytes(2, "big") + b"\x00" * length)
        size -= length + 4
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def _webp_with_chunk(webp: bytes, width: int, height: int, size: int) -> bytes:
    """``webp`` in the extended (VP8X) layout plus an unknown chunk of about ``size`` bytes.

    Readers ignore unknown chunks of the extended layout (WebP container spec, "Unknown Chunks").
    """
    chunks = webp[12:]
    if chunks[:4] != b"VP8X":
        flags = b"\x00\x00\x00\x00"
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = b"VP8X" + (10).to_bytes(4, "little") + flags + canvas + chunks
        size -= 18
    length = max(size - 8, 0)
    length -= length % 2  # chunk payloads are padded to even sizes; keep it even
    if size >= 8:
        chunks += b"npAd" + length.to_bytes(4, "little") + b"\x00" * length
    return b"RIFF" + (len(chunks) + 4).to_bytes(4, "little") + b"WEBP" + chunks


def _pad(data: bytes, fmt: str, width: int, height: int, size: int) -> bytes:
    if size <= 0:
        return data
    if fmt == "png":
        # "npAd": ancillary, private, safe to copy (PNG spec 5.4): every decoder skips it.
        return png_with_chunk(data, b"npAd", b"\x00" * max(size - 12, 0)) if size >= 12 else data
    if fmt == "jpeg":
        return _jpeg_with_comments(data, size)
    return _webp_with_chunk(data, width, height, size)


def make_image(fmt: str, width: int, height: int, *, noise_bytes: int | None = None) -> bytes:
    """Real, deterministic image bytes in ``fmt`` (png, jpeg or webp) of ``width`` x ``height``.

    Without ``noise_bytes`` the image is a small gradient. With it, rows of seeded noise (which
    does not compress) and an ignorable chunk or segment make the file about that many bytes.
    """
    fmt = normalize_format(fmt)
    image = _gradient(width, height)
    if not noise_bytes:
        return _encode(image, fmt)
    seed = zlib.crc32(f"{fmt}:{width}x{height}:{noise_bytes}".encode())
    if fmt == "png":
        per_row = 3 * width + 1.0  # filtered RGB noise stores at about its raw size
        budget = 0.97
    else:
        sample = min(height, 32)
        top = image.crop((0, 0, width, sample))
        plain = len(_encode(top, fmt))
        noisy = len(_encode(_with_noise_rows(top, sample, seed), fmt))
        per_row = max(1.0, (noisy - plain) / sample)
        budget = 0.9
    rows = int(noise_bytes * budget / per_row)
    data = _encode(_with_noise_rows(image, rows, seed), fmt)
    for _ in range(3):  # the estimate overshot: fewer rows
        if len(data) <= noise_bytes or rows == 0:
            break
        rows = int(rows * noise_bytes / len(data) * 0.95)
        data = _encode(_with_noise_rows(image, rows, seed), fmt)
    return _pad(data, fmt, width, height, noise_bytes - len(data))


_image_cache: dict[tuple[str, int, int, int | None], tuple[bytes, str]] = {}
_image_cache_lock = threading.Lock()


def cached_image(fmt: str, width: int, height: int, image_bytes: int | None) -> tuple[bytes, str]:
    """``(bytes, base64 text)`` of make_image, made once per process for each key."""
    key = (normalize_format(fmt), width, height, image_bytes or None)
    found = _image_cache.get(key)
    if found is not None:
        return found
    # One lock for all keys: concurrent first requests wait instead of all encoding at once.
    with _image_cache_lock:
        found = _image_cache.get(key)
        if found is None:
            data = make_image(key[0], width, height, noise_bytes=key[3])
            found = (data, base64.b64encode(data).decode("ascii"))
            _image_cache[key] = found
    return found


def random_failure(rate: float, seed: int, prompt: str | None, sending: int) -> bool:
    """Whether fail_randomly fails the SENDING-th (0-based) sending of PROMPT: a draw of its own."""
    return random.Random(f"{seed}\x00{prompt}\x00{sending}").random() < rate


def error_body(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    error_type: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    """An OpenAI-style error object; defaults follow the status."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    default = _ERROR_DEFAULTS.get(
        status, (phrase + ".", "server_error" if status >= 500 else "invalid_request_error", None)
    )
    return {
        "error": {
            "message": default[0] if message is None else message,
            "type": default[1] if error_type is None else error_type,
            "code": default[2] if code is None else code,
            "param": param,
        }
    }


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None, code: str) -> None:
        super().__init__(message)
        self.body = error_body(
            400, message, code=code, error_type="invalid_request_error", param=param
        )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _BadRequest(
        f"Invalid type for '{name}': expected a string, but got {_json_kind(value)} instead.",
        name,
        "invalid_type",
    )


@dataclass
class _Generation:
    prompt: str
    model: str
    n: int
    fmt: str
    size: str
    width: int
    height: int
    quality: str
    background: str
    url: bool


def _parse_generation(body: Any) -> _Generation:
    if not isinstance(body, dict):
        raise _BadRequest(
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            None,
            "invalid_json",
        )
    for name in ("prompt", "model"):
        if body.get(name) is None:
            raise _BadRequest(
                f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
        _optional_string(body, name)
    if not body["prompt"]:
        raise _BadRequest("Invalid 'prompt': empty string.", "prompt", "empty_string")
    n = body.get("n", 1)
    n = 1 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool):
        raise _BadRequest(
            f"Invalid type for 'n': expected an integer, but got {_json_kind(n)} instead.",
            "n",
            "invalid_type",
        )
    if not 1 <= n <= 10:
        raise _BadRequest(
            f"Invalid 'n': expected a value between 1 and 10, but got {n} instead.",
            "n",
            "invalid_value",
        )
    fmt = _optional_string(body, "output_format") or "png"
    if fmt not in _PIL_FORMATS:
        raise _BadRequest(
            f"Invalid value: '{fmt}'. Supported values are: 'png', 'jpeg', and 'webp'.",
            "output_format",
            "invalid_value",
        )
    size = _optional_string(body, "size") or "auto"
    size = "1024x1024" if size == "auto" else size
    match = _SIZE_RE.fullmatch(size)
    if match is None:
        raise _BadRequest(
            f"Invalid value: '{size}'. Expected 'auto' or '<width>x<height>'.",
            "size",
            "invalid_value",
        )
    response_format = _optional_string(body, "response_format") or "b64_json"
    if response_format not in ("b64_json", "url"):
        raise _BadRequest(
            f"Invalid value: '{response_format}'. Supported values are: 'url' and 'b64_json'.",
            "response_format",
            "invalid_value",
        )
    return _Generation(
        prompt=body["prompt"],
        model=body["model"],
        n=n,
        fmt=fmt,
        size=size,
        width=int(match.group(1)),
        height=int(match.group(2)),
        quality=_optional_string(body, "quality") or "auto",
        background=_optional_string(body, "background") or "opaque",
        url=response_format == "url",
    )


# --------------------------------------------------------------------------------------------
# Multipart and edits


def multipart_boundary(content_type: str) -> str | None:
    """The boundary of a ``multipart/form-data`` Content-Type header value, or None."""
    header = EmailMessage(policy=email.policy.HTTP)
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        return None
    return header.get_boundary() or None


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):  # no headers at all
        head, data = b"", raw[2:]
    else:
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without the blank line after its headers")
    # Clients send non-ASCII filenames as raw UTF-8 (httpx, browsers).
    text = head.decode("utf-8", errors="replace")
    headers = email.parser.Parser(policy=email.policy.HTTP).parsestr(
        text + "\r\n\r\n", headersonly=True
    )
    disposition = headers["content-disposition"]
    if disposition is None or disposition.content_disposition != "form-data":
        raise ValueError("a part without 'Content-Disposition: form-data'")
    name = disposition.params.get("name")
    if name is None:
        raise ValueError("a part without a name")
    filename = disposition.params.get("filename")
    content_type = headers["content-type"]
    return Part(
        name=str(name),
        filename=None if filename is None else str(filename),
        content_type=None if content_type is None else str(content_type),
        data=data,
    )


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body (RFC 7578, 2046 5.1.1), bytes kept exactly.

    Raises ValueError when the body is not well formed (no opening or closing delimiter, a
    part without Content-Disposition or name).
    """
    delimiter = b"--" + boundary.encode("latin-1")

    def is_delimiter(at: int) -> bool:
        # A delimiter line is followed by "--" (the last one), or optional blanks then CRLF.
        after = body[at + len(delimiter) : at + len(delimiter) + 2]
        if after == b"--":
            return True
        end = body.find(b"\r\n", at + len(delimiter))
        return end >= 0 and not body[at + len(delimiter) : end].strip(b" \t")

    def find_delimiter(start: int) -> int:
        # The position of the next "--boundary" that starts a line, at or after ``start``.
        at = start
        while True:
            at = body.find(b"\r\n" + delimiter, at)
            if at < 0:
                raise ValueError("no closing multipart delimiter")
            if is_delimiter(at + 2):
                return at
            at += 2

    if body.startswith(delimiter) and is_delimiter(0):
        pos = len(delimiter)
    else:
        pos = find_delimiter(0) + 2 + len(delimiter)  # after a preamble
    parts: list[Part] = []
    while body[pos : pos + 2] != b"--":
        start = body.find(b"\r\n", pos) + 2
        end = find_delimiter(start)
        parts.append(_parse_part(body[start:end]))
        pos = end + 2 + len(delimiter)
    return parts


def _edit_text_fields(parts: list[Part]) -> dict[str, str]:
    return {
        part.name: part.data.decode("utf-8", errors="replace")
        for part in parts
        if part.filename is None and part.name not in (*IMAGE_FIELDS, "mask")
    }


def _parse_edit(recorded: Recorded) -> tuple[_Generation, int]:
    """The edit request as a generation, and its number of input images (or _BadRequest)."""
    parts = recorded.parts
    if parts is None:
        content_type = recorded.headers.get("content-type", "")
        if multipart_boundary(content_type) is None:
            raise _BadRequest(
                f"Invalid Content-Type header ({content_type or 'none'}), expected "
                "multipart/form-data.",
                None,
                "invalid_content_type",
            )
        raise _BadRequest(
            "We could not parse the multipart/form-data body of your request.",
            None,
            "invalid_multipart",
        )
    images = [part for part in parts if part.name in IMAGE_FIELDS]
    if not images:
        raise _BadRequest(
            "Missing required parameter: 'image'.", "image", "missing_required_parameter"
        )
    fields: dict[str, Any] = dict(recorded.json or {})
    for name in ("prompt", "model"):
        if name not in fields:
            raise _BadRequest(
                f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
    if len(images) > MAX_EDIT_IMAGES:
        raise _BadRequest(
            f"Invalid 'image': expected at most {MAX_EDIT_IMAGES} images, "
            f"but got {len(images)} instead.",
            "image",
            "invalid_value",
        )
    for part in images:
        if sniff_format(part.data) is None:
            raise _BadRequest(
                f"Invalid file '{part.filename or part.name}': unsupported image format. "
                "Supported formats are 'png', 'jpeg', and 'webp'.",
                "image",
                "invalid_image_format",
            )
    for part in parts:
        if part.name == "mask" and sniff_format(part.data) != "png":
            raise _BadRequest(
                f"Invalid file '{part.filename or part.name}': the mask must be a PNG image.",
                "mask",
                "invalid_image_format",
            )
    # Form fields are text: an empty optional field is as good as absent, n is an integer.
    for name, value in list(fields.items()):
        if value == "" and name not in ("prompt", "model"):
            del fields[name]
    if "n" in fields:
        try:
            fields["n"] = int(fields["n"])
        except ValueError:
            raise _BadRequest(
                "Invalid type for 'n': expected an integer, but got a string instead.",
                "n",
                "invalid_type",
            ) from None
    return _parse_generation(fields), len(images)


# --------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # a benchmark opens many connections at once; 5 would drop SYNs

    def __init__(self, api: FakeDeerAPI, role: str, port: int) -> None:
        self.api = api
        self.role = role
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Never print. A client hanging up is normal; anything else is kept for tests to inspect.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            self.api._note_error(f"{self.role}: {error!r}")


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


class _Drop(Exception):
    """Close the connection without answering."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    _answered: Callable[[], None] = staticmethod(lambda: None)  # ends a generation's count
    server_version = "FakeDeerAPI/1.0"
    sys_version = ""
    # Headers and body are separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # peer's delayed ACK hold each small body back about 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, *args: Any) -> None:
        """Never print (BaseHTTPRequestHandler logs every request to stderr)."""

    def setup(self) -> None:
        super().setup()
        self.server.api._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.api._track(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

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

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        truncate: bool = False,
    ) -> None:
        self._answered()  # in flight until its answer starts, not until the client has read it
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self._request_id:
            self.send_header("x-request-id", self._request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body[: len(body) // 2] if truncate else body)
        if truncate:
            self.wfile.flush()
            self.close_connection = True

    def _send_json(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        truncate: bool = False,
    ) -> None:
        body = _dumps(payload)
        self._send(status, body, "application/json", headers, truncate=truncate)

    def _dispatch(self) -> None:
        arrival = time.monotonic()
        api = self.server.api
        main = self.server.role == "main"
        self._request_id = api._next_request_id() if main else ""
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send_json(400, error_body(400, "Malformed request body.", code="bad_body"))
            return
        try:
            parsed: Any | None = json.loads(body) if body else None
        except ValueError:
            parsed = None
        split = urlsplit(self.path)
        parts: list[Part] | None = None
        if main and self.command == "POST" and split.path == EDITS_PATH:
            boundary = multipart_boundary(self.headers.get("Content-Type", ""))
            if boundary is not None:
                try:
                    parts = parse_multipart(body, boundary)
                except ValueError:
                    parts = None
                else:
                    parsed = _edit_text_fields(parts)
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
        api._record(recorded, main=main)
        try:
            if main:
                self._main(recorded)
            else:
                self._files(recorded)
        except _Drop:
            self.close_connection = True

    # -- files server --------------------------------------------------------------------------

    def _files(self, recorded: Recorded) -> None:
        api = self.server.api
        name = recorded.path.removeprefix("/files/")
        stored = api._file(name) if recorded.path.startswith("/files/") else None
        if recorded.method not in ("GET", "HEAD") or stored is None:
            status = 404 if stored is None else 405
            self._send(status, HTTPStatus(status).phrase.encode(), "text/plain")
            return
        status, content_type, data = stored
        self._send(status, data, content_type)

    # -- main server ---------------------------------------------------------------------------

    def _main(self, recorded: Recorded) -> None:
        api = self.server.api
        path, method = recorded.path, recorded.method
        if path.startswith("/files/") and method in ("GET", "HEAD"):
            # An image URL on the API's own origin that redirects to the files server, as a
            # gateway in front of a CDN does. It checks nothing (no auth), like a CDN link.
            self._send(302, b"", "text/plain", {"Location": api.files_url + path})
            return
        routes = {GENERATIONS_PATH: "POST", EDITS_PATH: "POST", MODELS_PATH: "GET"}
        if path not in routes:
            message = f"Invalid URL ({method} {path})"
            self._send_json(404, error_body(404, message, code="unknown_url"))
            return
        if method != routes[path] and not (path == MODELS_PATH and method == "HEAD"):
            message = f"Method {method} is not allowed for {path}."
            self._send_json(
                405, error_body(405, message, code="method_not_allowed"), {"Allow": routes[path]}
            )
            return
        if path == GENERATIONS_PATH:
            with api._in_flight() as self._answered:
                self._authorized_then(recorded, self._generate)
        elif path == EDITS_PATH:
            with api._in_flight() as self._answered:
                self._authorized_then(recorded, self._edit)
        else:
            self._authorized_then(recorded, self._models)

    def _authorized_then(self, recorded: Recorded, handle: Any) -> None:
        api = self.server.api
        if recorded.headers.get("authorization") != f"Bearer {api.api_key}":
            self._send_json(401, error_body(401))
            return
        handle(recorded)

    def _fault_headers(self, fault: dict[str, Any]) -> dict[str, str]:
        headers = {str(k): str(v) for k, v in (fault.get("headers") or {}).items()}
        if fault.get("retry_after") is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        if fault.get("retry_after_ms") is not None:
            headers["retry-after-ms"] = str(fault["retry_after_ms"])
        return headers

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.server.api._stopping.wait(seconds):
            raise _Drop  # stop() was called: give up on this answer

    def _transport_fault(self, fault: dict[str, Any]) -> bool:
        """Apply the faults that replace the answer (drop, raw body, error status): True if so."""
        self._wait(float(fault.get("delay") or 0))
        if fault.get("drop"):
            raise _Drop
        headers = self._fault_headers(fault)
        truncate = bool(fault.get("truncate"))
        if fault.get("body") is not None:
            body = fault["body"]
            body = body.encode() if isinstance(body, str) else bytes(body)
            content_type = fault.get("content_type") or "text/html; charset=utf-8"
            self._send(
                int(fault.get("status") or 200), body, content_type, headers, truncate=truncate
            )
            return True
        if fault.get("status") is not None:
            status = int(fault["status"])
            payload = error_body(
                status,
                fault.get("message"),
                code=fault.get("code"),
                error_type=fault.get("type"),
                param=fault.get("param"),
            )
            self._send_json(status, payload, headers, truncate=truncate)
            return True
        return False

    def _models(self, recorded: Recorded) -> None:
        api = self.server.api
        fault = api._pick_fault("models", None)
        if self._transport_fault(fault):
            return
        payload = {"object": "list", "data": api.models}
        self._send_json(
            200, payload, self._fault_headers(fault), truncate=bool(fault.get("truncate"))
        )

    def _generate(self, recorded: Recorded) -> None:
        self._images(recorded, "generations")

    def _edit(self, recorded: Recorded) -> None:
        self._images(recorded, "edits")

    def _images(self, recorded: Recorded, route: str) -> None:
        """Answer a generation or an edit: faults first, then validation, then the images."""
        api = self.server.api
        body = recorded.json
        prompt = body.get("prompt") if isinstance(body, dict) else None
        fault = api._pick_fault(route, prompt if isinstance(prompt, str) else None)
        api._gathered()
        self._wait(api.latency)
        if self._transport_fault(fault):
            return
        headers = self._fault_headers(fault)
        truncate = bool(fault.get("truncate"))
        if fault.get("error_200"):
            payload = error_body(
                500,
                fault.get("message") or "The upstream returned an error.",
                code=fault.get("code"),
                error_type=fault.get("type"),
            )
            self._send_json(200, payload, headers, truncate=truncate)
            return
        image_tokens = 0
        try:
            if route == "edits":
                request, inputs = _parse_edit(recorded)
                image_tokens = IMAGE_TOKENS_PER_INPUT * inputs
            else:
                request = _parse_generation(body)
        except _BadRequest as bad:
            self._send_json(400, bad.body, headers)
            return
        payload = self._images_payload(request, fault, image_tokens)
        self._send_json(200, payload, headers, truncate=truncate)

    def _images_payload(
        self, request: _Generation, fault: dict[str, Any], image_tokens: int = 0
    ) -> dict[str, Any]:
        api = self.server.api
        fmt = normalize_format(fault.get("wrong_format") or request.fmt)
        width, height = pixel_size(request.width, request.height)
        data, b64 = cached_image(fmt, width, height, api.image_bytes)
        if fault.get("c2pa") and fmt == "png":
            data = png_with_chunk(data, b"caBX", C2PA_DUMMY)
            b64 = base64.b64encode(data).decode("ascii")
        if fault.get("not_image"):
            data = NOT_AN_IMAGE
            b64 = base64.b64encode(data).decode("ascii")
        url_status = fault.get("url_status")
        as_url = (request.url or url_status is not None or fault.get("redirect_url")) and not (
            fault.get("invalid_b64")
        )
        revised = fault.get("revised_prompt", "Revised: " + request.prompt)
        items: list[dict[str, Any]] = []
        for _ in range(request.n):
            item: dict[str, Any]
            if as_url:
                name = api._store_file(
                    request.fmt,
                    data,
                    CONTENT_TYPES.get(sniff_format(data) or "", "text/plain"),
                    int(url_status) if url_status is not None else 200,
                )
                origin = api.base_url if fault.get("redirect_url") else api.files_url
                item = {"url": f"{origin}/files/{name}"}
            else:
                item = {"b64_json": INVALID_B64 if fault.get("invalid_b64") else b64}
            if revised is not None:
                item["revised_prompt"] = revised
            items.append(item)
        payload: dict[str, Any] = {
            "created": int(time.time()),
            "background": request.background,
            "output_format": request.fmt,
            "quality": request.quality,
            "size": request.size,
        }
        usage = fault.get(
            "usage",
            {
                "input_tokens": 16 + image_tokens,
                "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": 16},
                "output_tokens": 208 * request.n,
                "total_tokens": 16 + image_tokens + 208 * request.n,
            },
        )
        if usage is not None:
            payload["usage"] = usage
        if fault.get("empty_data"):
            payload["data"] = []
        elif not fault.get("no_data"):
            payload["data"] = items
        return payload


# --------------------------------------------------------------------------------------------
# The fake


class FakeDeerAPI:
    """A fake DeerAPI on 127.0.0.1 (see the module docstring); a context manager.

    ``latency``, ``image_bytes`` and ``models`` are plain attributes: change them at any time;
    ``reset()`` puts back the values given to the constructor.
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
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified when a generation starts
        self._stopping = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._request_counter = 0
        self._file_counter = 0
        self._base_url = ""
        self._files_url = ""
        self._clear()

    def _clear(self) -> None:
        self._requests: list[Recorded] = []
        self._downloads: list[Recorded] = []
        self._files: dict[str, tuple[int, str, bytes]] = {}
        self._queue: list[dict[str, Any]] = []
        self._always: dict[str, Any] | None = None
        self._rejections: list[tuple[str, dict[str, Any]]] = []
        self._random: tuple[float, int, int] | None = None
        self._sent: Counter[str | None] = Counter()  # how often each prompt came, for fail_randomly
        self._in_flight_now = 0
        self._max_in_flight = 0
        self._gather: tuple[int, float] | None = None
        self._errors: list[str] = []

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> FakeDeerAPI:
        """Bind both servers on 127.0.0.1 and serve them from daemon threads."""
        if self._servers:
            return self
        self._stopping.clear()
        main = _Server(self, "main", self._ports[0])
        files = _Server(self, "files", self._ports[1])
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
                name=f"fakeapi-{server.role}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving, wake up delayed answers and close every open connection."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        servers, self._servers = self._servers, []
        # shutdown() waits up to a poll interval: wait for both servers at once.
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in servers:
            server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
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
        with self._lock:
            return list(self._requests)

    @property
    def downloads(self) -> list[Recorded]:
        """A copy of every request the files server received."""
        with self._lock:
            return list(self._downloads)

    def generation_requests(self) -> list[Recorded]:
        """Only the ``POST /v1/images/generations`` requests."""
        return [r for r in self.requests if r.method == "POST" and r.path == GENERATIONS_PATH]

    def edit_requests(self) -> list[Recorded]:
        """Only the ``POST /v1/images/edits`` requests (see ``Recorded.parts`` and ``json``)."""
        return [r for r in self.requests if r.method == "POST" and r.path == EDITS_PATH]

    @property
    def max_in_flight(self) -> int:
        """The most generation and edit requests that were being handled at the same moment."""
        with self._lock:
            return self._max_in_flight

    @property
    def in_flight(self) -> int:
        """How many generation and edit requests are being handled now."""
        with self._lock:
            return self._in_flight_now

    @property
    def errors(self) -> list[str]:
        """Unexpected exceptions in handlers (the servers never print them)."""
        with self._lock:
            return list(self._errors)

    def expected_image(self, fmt: str = "png", size: str = "1024x1024") -> bytes:
        """The exact bytes a fault-free generation or edit answers for this format and size."""
        size = "1024x1024" if size == "auto" else size
        match = _SIZE_RE.fullmatch(size)
        if match is None:
            raise ValueError(f"bad size: {size!r}")
        width, height = pixel_size(int(match.group(1)), int(match.group(2)))
        return cached_image(fmt, width, height, self.image_bytes)[0]

    # -- scripting -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget requests, downloads, faults and counters; restore the constructor's settings.

        Request ids keep counting, so they stay unique for the server's life.
        """
        with self._lock:
            in_flight = self._in_flight_now
            self._clear()
            self._in_flight_now = in_flight
            self.latency, self.image_bytes, models = self._initial
            self.models = [dict(m) for m in models]

    @staticmethod
    def _check_fault(fault: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fault) - FAULT_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        if fault.get("route") not in (None, *_ROUTES):
            raise ValueError(f"route must be one of {sorted(_ROUTES)}")
        return dict(fault)

    def queue(self, *faults: dict[str, Any]) -> None:
        """Faults for the next requests, one each, in order (``{}`` is a normal answer).

        A queued fault is taken by the next generation, edit or models request, unless it names
        a ``route`` ("generations", "edits" or "models"): then only a request to that route
        takes it.
        """
        checked = [self._check_fault(fault) for fault in faults]
        with self._lock:
            self._queue.extend(checked)

    def always(self, **fault: Any) -> None:
        """A fault for every request (generation, edit, models, or its ``route``) until reset()."""
        checked = self._check_fault(fault)
        with self._lock:
            self._always = checked

    def reject_prompts(
        self,
        substring: str,
        status: int = 400,
        message: str = "Your request was rejected by the safety system.",
        code: str = "content_policy_violation",
        *,
        error_type: str = "invalid_request_error",
    ) -> None:
        """Answer every generation or edit whose prompt contains ``substring`` with this error."""
        fault = {"status": status, "message": message, "code": code, "type": error_type}
        with self._lock:
            self._rejections.append((substring, fault))

    def gather(self, count: int, timeout: float = 10.0) -> None:
        """Hold generations and edits until COUNT are in flight at once, then answer them all.

        Once COUNT were in flight together (or TIMEOUT seconds passed), nothing is held any
        more. A test of concurrency synchronises on this instead of on a latency long enough
        for the client's threads to overlap.
        """
        with self._lock:
            self._gather = (count, timeout)

    def _gathered(self) -> None:
        with self._changed:
            if self._gather is None:
                return
            count, timeout = self._gather
            self._changed.wait_for(
                lambda: (
                    self._gather is None or self._in_flight_now >= count or self._stopping.is_set()
                ),
                timeout,
            )
            self._gather = None

    def fail_randomly(self, rate: float, seed: int, status: int = 503) -> None:
        """Fail each generation or edit with probability ``rate`` (seeded), retry-after-ms 1.

        Whether the n-th sending of a prompt fails is drawn from (seed, prompt, n) alone
        (random_failure), so however a client's threads interleave, the same prompts fail
        the same number of times. Drawing in arrival order instead let a prompt whose retries
        happened to land on a fixed seed's cluster of failures fail for good, 1 run in 50.
        """
        with self._lock:
            self._random = (rate, seed, status)
            self._sent.clear()

    # -- used by the handlers ------------------------------------------------------------------

    def _pick_fault(self, route: str, prompt: str | None) -> dict[str, Any]:
        # Order: a rejected prompt, a random failure, the queue, then always (the first wins).
        with self._lock:
            if route in _IMAGE_ROUTES:
                for substring, fault in self._rejections:
                    if prompt is not None and substring in prompt:
                        return dict(fault)
                if self._random is not None:
                    rate, seed, status = self._random
                    sending = self._sent[prompt]
                    self._sent[prompt] += 1
                    if random_failure(rate, seed, prompt, sending):
                        return {"status": status, "retry_after_ms": "1"}
            for index, fault in enumerate(self._queue):
                if fault.get("route") in (None, route):
                    del self._queue[index]
                    return dict(fault)
            if self._always is not None and self._always.get("route") in (None, route):
                return dict(self._always)
        return {}

    @contextmanager
    def _in_flight(self) -> Iterator[Callable[[], None]]:
        """Count one generation in flight; the callable it gives ends the count early, once.

        A client may send its next request as soon as it has read an answer, before this
        server's thread is done writing it: the count ends when the answer starts.
        """
        with self._lock:
            self._in_flight_now += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight_now)
            self._changed.notify_all()
        counted = [True]

        def done() -> None:
            with self._lock:
                if counted[0]:
                    counted[0] = False
                    self._in_flight_now -= 1

        try:
            yield done
        finally:
            done()

    def _next_request_id(self) -> str:
        with self._lock:
            self._request_counter += 1
            return f"req_{self._request_counter}"

    def _record(self, recorded: Recorded, *, main: bool) -> None:
        with self._lock:
            (self._requests if main else self._downloads).append(recorded)

    def _store_file(self, fmt: str, data: bytes, content_type: str, status: int) -> str:
        with self._lock:
            self._file_counter += 1
            name = f"img_{self._file_counter:06d}.{fmt}"
            if status != 200:
                data = f"{status} {HTTPStatus(status).phrase}".encode()
                content_type = "text/plain"
            self._files[name] = (status, content_type, data)
        return name

    def _file(self, name: str) -> tuple[int, str, bytes] | None:
        with self._lock:
            return self._files.get(name)

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _note_error(self, text: str) -> None:
        with self._lock:
            self._errors.append(text)


# --------------------------------------------------------------------------------------------
# Standalone


def parse_byte_size(text: str) -> int:
    """``1500000``, ``1.5MB``, ``3M``, ``512k`` or ``2MiB`` as a number of bytes (MB = 10**6)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)(i?)[bB]?\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"not a byte size: {text!r}")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    return int(float(number) * {"": 1, "k": base, "m": base * base}[unit.lower()])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakeapi",
        description="Serve a fake DeerAPI on 127.0.0.1; print its base URL as the first line.",
    )
    parser.add_argument("--port", type=int, default=0, help="API server port (0: any free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per generation")
    parser.add_argument(
        "--image-bytes", type=parse_byte_size, default=None, help="encoded size of each image"
    )
    parser.add_argument("--key", default="test-key", help="the API key to accept")
    parser.add_argument(
        "--ignore-stdin", action="store_true", help="serve until a signal, not until stdin EOF"
    )
    args = parser.parse_args(argv)
    done = threading.Event()
    api = FakeDeerAPI(args.key, latency=args.latency, image_bytes=args.image_bytes, port=args.port)
    with api:
        for fmt in _PIL_FORMATS:  # the first requests should not pay for encoding
            api.expected_image(fmt)
        signal.signal(signal.SIGTERM, lambda *_: done.set())
        if not args.ignore_stdin:

            def wait_for_eof() -> None:
                with suppress(OSError, ValueError):
                    while sys.stdin.buffer.read(65536):
                        pass
                done.set()

            threading.Thread(target=wait_for_eof, name="fakeapi-stdin", daemon=True).start()
        sys.stdout.write(api.base_url + "\n")
        sys.stdout.flush()
        with suppress(KeyboardInterrupt):
            while not done.wait(0.5):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
