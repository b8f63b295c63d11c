"""Generation and edit bodies checked as OpenAI's images API checks them; its error objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tests.fake import gpt25, seedream
from tests.fake.images import FORMATS, NEW_FORMATS, sniff_format
from tests.fake.multipart import Part, multipart_boundary

SIZE_RE = re.compile(r"([1-9][0-9]{0,4})x([1-9][0-9]{0,4})")
IMAGE_FIELDS = ("image", "image[]")  # the multipart names of an edit's input images
OVERLAYS = ("mask", "markup")  # PNGs over the first image (markup: gpt25.py)
MAX_EDIT_IMAGES = 16

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


class BadRequest(Exception):
    """A body the API answers with 400; ``body`` is the error object."""

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
    raise BadRequest(
        f"Invalid type for '{name}': expected a string, but got {_json_kind(value)} instead.",
        name,
        "invalid_type",
    )


@dataclass
class Generation:
    """A valid generation (or edit) request, defaults filled in."""

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
    safety_identifier: str | None = None  # echoed by the answer (tests/fake/gpt25.py)
    family: str = "openai"  # or "seedream": answers as Seedream does (tests/fake/seedream.py)


def parse_generation(body: Any, files: tuple[str, ...] = ()) -> Generation:
    """The generation BODY asks for, or BadRequest as the API would answer; FILES are an edit's
    file fields."""
    if not isinstance(body, dict):
        raise BadRequest(
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            None,
            "invalid_json",
        )
    ver = seedream.version(str(body.get("model", "")))
    if ver is not None and body.get("prompt"):
        return _parse_seedream(body, ver)
    for name in ("prompt", "model"):
        if body.get(name) is None:
            raise BadRequest(
                f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
        _optional_string(body, name)
    if not body["prompt"]:
        raise BadRequest("Invalid 'prompt': empty string.", "prompt", "empty_string")
    try:
        gpt25.check(body, str(body["model"]), files)
    except gpt25.Refused as refused:
        raise BadRequest(refused.message, refused.param, refused.code) from None
    n = body.get("n", 1)
    n = 1 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool):
        raise BadRequest(
            f"Invalid type for 'n': expected an integer, but got {_json_kind(n)} instead.",
            "n",
            "invalid_type",
        )
    if not 1 <= n <= 10:
        raise BadRequest(
            f"Invalid 'n': expected a value between 1 and 10, but got {n} instead.",
            "n",
            "invalid_value",
        )
    fmt = _optional_string(body, "output_format") or "png"
    newer = re.match(r"gpt-image-2\.[5-9]", str(body["model"])) is not None
    if fmt not in FORMATS or (fmt in NEW_FORMATS and not newer):
        raise BadRequest(
            f"Invalid value: '{fmt}'. Supported values are: 'png', 'jpeg', and 'webp'"
            + (", 'gif' and 'svg' (GPT image 2.5 and later)." if not newer else "."),
            "output_format",
            "invalid_value",
        )
    if fmt == "svg" and n != 1:
        raise BadRequest("SVG generation requires n=1.", "n", "invalid_value")
    size = _optional_string(body, "size") or "auto"
    size = "1024x1024" if size == "auto" else size
    match = SIZE_RE.fullmatch(size)
    if match is None:
        raise BadRequest(
            f"Invalid value: '{size}'. Expected 'auto' or '<width>x<height>'.",
            "size",
            "invalid_value",
        )
    response_format = _optional_string(body, "response_format") or "b64_json"
    if response_format not in ("b64_json", "url"):
        raise BadRequest(
            f"Invalid value: '{response_format}'. Supported values are: 'url' and 'b64_json'.",
            "response_format",
            "invalid_value",
        )
    return Generation(
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
        safety_identifier=_optional_string(body, "safety_identifier"),
    )


def _parse_seedream(body: dict[str, Any], ver: str) -> Generation:
    try:
        size, width, height = seedream.size_of(body, ver)
        count = seedream.count_of(body, ver)
        fmt = seedream.format_of(body, ver)
        seedream.references_of(body, ver, count)
    except seedream.Invalid as invalid:
        raise BadRequest(invalid.message, invalid.param, "InvalidParameter") from None
    response_format = body.get("response_format") or "url"
    return Generation(
        prompt=str(body["prompt"]),
        model=str(body["model"]),
        n=count,
        fmt=fmt,
        size=size,
        width=width,
        height=height,
        quality="auto",
        background="opaque",
        url=response_format == "url",
        family="seedream",
    )


def edit_text_fields(parts: list[Part]) -> dict[str, str]:
    """An edit form's text fields (not its images or mask), as Recorded.json holds them."""
    return {
        part.name: part.data.decode("utf-8", errors="replace")
        for part in parts
        if part.filename is None and part.name not in (*IMAGE_FIELDS, *OVERLAYS)
    }


def parse_edit(
    parts: list[Part] | None, fields: dict[str, Any] | None, content_type: str
) -> tuple[Generation, int]:
    """An edit as a generation, and its number of input images (or BadRequest).

    PARTS are the form's parts (None: not a multipart body), FIELDS its text fields.
    """
    if parts is None:
        if multipart_boundary(content_type) is None:
            raise BadRequest(
                f"Invalid Content-Type header ({content_type or 'none'}), expected "
                "multipart/form-data.",
                None,
                "invalid_content_type",
            )
        raise BadRequest(
            "We could not parse the multipart/form-data body of your request.",
            None,
            "invalid_multipart",
        )
    images = [part for part in parts if part.name in IMAGE_FIELDS]
    if not images:
        raise BadRequest(
            "Missing required parameter: 'image'.", "image", "missing_required_parameter"
        )
    fields = dict(fields or {})
    for name in ("prompt", "model"):
        if name not in fields:
            raise BadRequest(
                f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
            )
    if len(images) > MAX_EDIT_IMAGES:
        raise BadRequest(
            f"Invalid 'image': expected at most {MAX_EDIT_IMAGES} images, "
            f"but got {len(images)} instead.",
            "image",
            "invalid_value",
        )
    for part in images:
        if sniff_format(part.data) is None:
            raise BadRequest(
                f"Invalid file '{part.filename or part.name}': unsupported image format. "
                "Supported formats are 'png', 'jpeg', and 'webp'.",
                "image",
                "invalid_image_format",
            )
    for part in parts:
        if part.name in OVERLAYS and sniff_format(part.data) != "png":
            raise BadRequest(
                f"Invalid file '{part.filename or part.name}': the {part.name} must be a PNG "
                "image.",
                part.name,
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
            raise BadRequest(
                "Invalid type for 'n': expected an integer, but got a string instead.",
                "n",
                "invalid_type",
            ) from None
    files = tuple(part.name for part in parts if part.name in OVERLAYS)
    return parse_generation(fields, files), len(images)
