"""Reading the API's answers: images with their base64 left in place, errors, request ids; pure."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from deerimg.errors import DeerimgError, ExitCode
from deerimg.imaging import images

if TYPE_CHECKING:
    import httpx

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-oneapi-request-id", "openai-request-id")
# Codes of an error that names the key, even in an answer whose status says 200 (some gateways).
KEY_CODES = frozenset({"invalid_api_key", "invalid_authentication", "unauthorized"})

_B64_KEY = re.compile(rb'"b64_json"\s*:\s*"')  # up to the opening quote of the value
# C0 controls but tab and newline, DEL, C1: an escape sequence from a server could retitle,
# clear or rewrite the terminal that shows its message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def server_text(text: str, *, one_line: bool = True) -> str:
    """Text a server wrote, made safe to show and to store.

    A lone surrogate (JSON allows "\\ud800") cannot be written as UTF-8 and would end the
    run in a traceback: it becomes "?". Control characters go. one_line: whitespace runs,
    newlines included, become one space, so a message is one line and cannot fake another.
    """
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub(" " if one_line else "", text)
    return " ".join(text.split()) if one_line else text


def error_fields(body: bytes | bytearray) -> tuple[str | None, str | None]:
    """The message and code of an error answer: OpenAI-style JSON, else an HTML page's title or
    the start of its text."""
    message, code = _error_fields(body)
    message = server_text(message)[:_MESSAGE_MAX] if message is not None else None
    code = server_text(code)[:_MESSAGE_MAX] if code is not None else None
    return message or None, code or None


_MESSAGE_MAX = 1000  # longer is a page, not a message: the line shows its start


def _error_fields(body: bytes | bytearray) -> tuple[str | None, str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
        return " ".join(text.split())[:200], None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code") or error.get("type")
        if not isinstance(code, str) and isinstance(error.get("status"), str):
            code = error["status"]  # Google's shape: {"code": 400, "status": "INVALID_ARGUMENT"}
        return str(error.get("message") or "error"), (str(code) if code else None)
    if isinstance(error, str):
        return error, None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return data["message"], None
    return None, None


def lift_images(content: bytes | bytearray, request_id: str | None = None) -> dict[str, Any] | None:
    """An images answer parsed with each b64_json value left in CONTENT, not copied out of it.

    json.loads would hold the answer three times at its peak (the bytes, their text, the value's
    copy): 12 MB for one 3 MB image, in each of -j threads (issue 10). Here the values are cut
    out of the text that is parsed. A lone image in a bytearray is decoded over its own base64
    (item["image"], the bytearray itself); otherwise each item's b64_json is a view of CONTENT.

    None, and the caller parses the whole answer, whenever this is not plainly right: no
    b64_json, an escape inside a value, or a "b64_json" that the parse shows was not a key of a
    data item (text inside another string, say).
    """
    lifted = _lift(content)
    if lifted is None:
        return None
    data, spans = lifted
    if len(spans) == 1 and isinstance(content, bytearray):
        item, start, end = spans[0]
        try:
            item["image"] = images.decode_in_place(content, start, end)
        except DeerimgError as error:
            error.request_id = request_id
            raise
        del item["b64_json"]
        return data
    view = memoryview(content)
    for item, start, end in spans:
        item["b64_json"] = view[start:end]
    return data


def _lift(
    content: bytes | bytearray,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], int, int]]] | None:
    """The parsed answer, and each data item with where its base64 lies in CONTENT."""
    pieces: list[bytes | bytearray] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _B64_KEY.finditer(content):
        start = match.end()
        end = content.find(b'"', start)
        if start < pos or end < 0 or content.find(b"\\", start, end) >= 0:
            return None
        pieces += (content[pos:start], b"\\u0000deerimg%d" % len(spans))
        spans.append((start, end))
        pos = end
    if not spans:
        return None
    pieces.append(content[pos:])
    try:
        data = json.loads(b"".join(pieces))
    except ValueError:
        return None
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    lifted = [item for item in items if isinstance(item, dict) and "b64_json" in item]
    if [item["b64_json"] for item in lifted] != [f"\x00deerimg{k}" for k in range(len(spans))]:
        return None
    return data, [(item, start, end) for item, (start, end) in zip(lifted, spans, strict=True)]


def request_id_of(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return server_text(response.headers[name])[:200] or None
    return None


def refused_key(
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


def error_from_response(response: httpx.Response) -> DeerimgError:
    """The API's message and code from an OpenAI-style error body, else the start of the body."""
    status = response.status_code
    request_id = request_id_of(response)
    message, code = error_fields(response.content)
    if message is None:
        message = response.reason_phrase or "error"
    # An HTML page's title often repeats the status ("502 Bad Gateway"); the line shows it once.
    message = message.removeprefix(f"{status} ").strip() or message
    if status in (401, 403):
        return refused_key(message, code, request_id, status)
    hint = None
    if (code and "content_policy" in code) or "safety" in (message or "").lower():
        hint = "the prompt was refused by the content policy; rephrase it"
    elif status == 402:
        hint = "check the DeerAPI account's balance, and top it up if it has run out"
    return DeerimgError(message, status=status, code=code, request_id=request_id, hint=hint)


def describe(exc: Exception) -> str:
    """An exception's first line, at most 200 characters: what a one-line error quotes of it."""
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def images_of(
    data: Any, body: bytes | bytearray, request_id: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    """An images answer (DATA, parsed from BODY): its data items, usage, svg_usage, and what it
    says of the images (size, quality, output_format, background); an error answer raised."""
    if not isinstance(data, dict):
        raise DeerimgError("the response is not a JSON object", request_id=request_id)
    if "error" in data and not data.get("data"):
        message, code = error_fields(body)
        if code in KEY_CODES:
            raise refused_key(message or "error", code, request_id)
        raise DeerimgError(message or "error", code=code, request_id=request_id)
    items = data.get("data")
    if not isinstance(items, list):
        raise DeerimgError("the response has no data", request_id=request_id)
    items = [item for item in items if isinstance(item, dict)]
    if not items:
        raise DeerimgError("the response holds no image", request_id=request_id)
    usage, svg_usage = (data.get(k) if isinstance(data.get(k), dict) else None
                        for k in ("usage", "svg_usage"))  # fmt: skip
    fields = {k: data[k] for k in ("size", "quality", "output_format", "background") if k in data}
    return items, usage, svg_usage, fields


def json_of(response: httpx.Response, body: bytes | bytearray, request_id: str | None) -> Any:
    """BODY parsed as JSON, or an error that says what came instead (a web page: the base URL)."""
    try:
        return json.loads(body)
    except ValueError:
        kind = response.headers.get("content-type", "unknown type").split(";")[0]
        page = "html" in kind.lower() or body.lstrip()[:1] == b"<"
        raise DeerimgError(
            f"the response is not JSON ({kind}, {len(body)} bytes)",
            status=response.status_code,
            request_id=request_id,
            # A web page where the API should be: a site's home page, a login or captive portal.
            hint="a web page answered, not the API: check the base URL "
            "(`deerimg config set base-url`, or DEERIMG_BASE_URL)"
            if page
            else None,
        ) from None


def refuse_redirect(response: httpx.Response) -> None:
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
