"""What a request carries, made once so every try sends the same: JSON bytes, or multipart."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from deerimg.errors import DeerimgError, ExitCode

if TYPE_CHECKING:
    from deerimg.imaging.inputs import InputImage

Uploads = Sequence[tuple[str, "InputImage"]]  # multipart field name, file


@dataclass(slots=True)
class Payload:
    """What a request carries, made once so that every try sends the same: JSON bytes, or
    multipart text fields with the files (opened afresh for each try)."""

    content: bytes | None = None
    form: dict[str, str] | None = None
    uploads: Uploads = ()


def encode(body: dict[str, Any] | None, uploads: Uploads = ()) -> Payload:
    if body is None:
        return Payload()
    if uploads:
        return Payload(form=_form_fields(body), uploads=uploads)
    return Payload(content=encode_body(body))


def inline(body: dict[str, Any], uploads: Uploads) -> dict[str, Any]:
    """BODY with each upload as a data URL in its `image`, after any URLs already there: one
    image as a string, several as a list (as DeerAPI's Seedream page sends them)."""
    if not uploads:
        return body
    given = body.get("image")
    images = [given] if isinstance(given, str) else list(given or ())
    for _, image in uploads:
        images.append(f"data:{image.content_type};base64,{base64_of(image)}")
    return {**body, "image": images[0] if len(images) == 1 else images}


def encode_body(body: dict[str, Any]) -> bytes:
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


def base64_of(image: InputImage) -> str:
    """An input's bytes as base64 text, for a JSON body (Seedream, Gemini, the task APIs)."""
    with open_upload(image) as handle:
        try:
            return base64.b64encode(handle.read()).decode("ascii")
        except OSError as exc:
            raise DeerimgError(f"cannot read input {image.path}: {exc.strerror}") from None


def open_upload(image: InputImage) -> BinaryIO:
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
