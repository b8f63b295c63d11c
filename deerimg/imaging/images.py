"""Image bytes: base64 decoding in chunks, a cut-off image, the pixel size; pure."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterator

from deerimg.errors import DeerimgError
from deerimg.imaging.formats import SNIFF_BYTES, Data, sniff_any

CHUNK = 1 << 18  # base64 characters per decoded piece: a multiple of 4


_TAIL = 1024  # where an image's end marker must be: only padding may follow it


def cut_off(data: bytes | bytearray | memoryview, kind: str) -> bool:
    """Whether image DATA of type KIND lacks its end: an answer whose image was cut short.

    PNG ends with its IEND chunk; a JPEG with the EOI marker FF D9, which its compressed data
    cannot hold (an FF there is followed by 00 or a restart marker); a WebP holds at least the
    length its RIFF header gives; a GIF ends with its trailer 3B; an SVG with </svg>. Only the
    tail is searched, so trailing padding is allowed.
    """
    tail = bytes(data[-_TAIL:])
    if kind == "gif":
        return not tail.rstrip(b"\x00").endswith(b"\x3b")
    if kind == "svg":
        return b"</svg>" not in tail.lower()
    if kind == "png":
        return b"IEND" not in tail
    if kind == "jpeg":
        return b"\xff\xd9" not in tail
    if kind == "webp":
        (size,) = struct.unpack("<I", bytes(data[4:8]))
        return len(data) < size + 8
    return False


def pixel_size(head: Data) -> tuple[int, int] | None:
    """Width and height from the header, where the first bytes hold it (an SVG's root element
    when it gives them in pixels, else its viewBox)."""
    kind = sniff_any(head)
    if kind == "gif" and len(head) >= 10:
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if kind == "svg":
        return _svg_size(bytes(head[:SNIFF_BYTES]))
    try:
        if kind == "png" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if kind == "jpeg":
            return _jpeg_size(head)
        if kind == "webp":
            return _webp_size(head)
    except (struct.error, IndexError):
        return None
    return None


_SVG_TAG = re.compile(rb"<svg\b[^>]*>", re.IGNORECASE | re.DOTALL)
_SVG_LENGTH = r'\b{}\s*=\s*["\']\s*([0-9]+(?:\.[0-9]+)?)\s*(?:px)?\s*["\']'
_SVG_VIEWBOX = re.compile(
    r'\bviewBox\s*=\s*["\']\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+([0-9.]+)[\s,]+([0-9.]+)'
)


def _svg_size(head: bytes) -> tuple[int, int] | None:
    """The root element's width and height in pixels, else its viewBox's; None otherwise."""
    tag = _SVG_TAG.search(head)
    if tag is None:
        return None
    text = tag.group(0).decode("utf-8", "replace")
    sides = [re.search(_SVG_LENGTH.format(name), text) for name in ("width", "height")]
    if sides[0] and sides[1]:
        return round(float(sides[0].group(1))), round(float(sides[1].group(1)))
    box = _SVG_VIEWBOX.search(text)
    return (round(float(box.group(1))), round(float(box.group(2)))) if box else None


def _jpeg_size(data: Data) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def _webp_size(data: Data) -> tuple[int, int] | None:
    if len(data) < 30:  # shorter than any header that holds the size: a made-up file
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def decode(text: str | memoryview) -> bytearray:
    """The bytes of base64 TEXT, grown piece by piece: never a second whole copy (issue 10)."""
    data = bytearray()
    for piece in decode_chunks(text):
        data += piece
    return data


def decode_in_place(buf: bytearray, start: int, end: int) -> bytearray:
    """Decode the base64 in BUF[start:end] over itself, and cut BUF down to the decoded bytes.

    Each piece's bytes are shorter than its text and land where text already read lay, so the
    image needs no memory beyond the answer that brought it (issue 10). Returns BUF.
    """
    with memoryview(buf) as whole:
        text = whole[start:end]
        out = 0
        for piece in decode_chunks(text):
            text[out : out + len(piece)] = piece
            out += len(piece)
        text.release()
    del buf[start + out :]
    del buf[:start]
    return buf


def decode_chunks(text: str | memoryview) -> Iterator[bytes]:
    """Decode base64 piece by piece, so no second full copy is made and other threads get turns.

    TEXT is the b64_json string, or a view of it in the answer's bytes (wire.responses.lift_images).
    """
    text = _payload(text)
    if not len(text):
        raise DeerimgError("the response's b64_json is empty")
    for start in range(0, len(text), CHUNK):
        piece = text[start : start + CHUNK]
        try:
            yield base64.b64decode(piece, validate=True)
        except (binascii.Error, ValueError):
            raise DeerimgError("the response's b64_json is not valid base64") from None


def _payload(text: str | memoryview) -> str | memoryview:
    """The base64 itself: without a data URL's "data:image/png;base64," head, which some
    gateways put in b64_json, and (text only) without line breaks or spaces."""
    head = text[:64] if isinstance(text, str) else bytes(text[:64]).decode("latin-1")
    if head.startswith("data:") and ";base64," in head:
        text = text[head.index(",") + 1 :]
    if isinstance(text, str):
        text = text.strip()
        if any(c in text for c in " \t\r\n"):  # wrapped at 76 columns, MIME style: rare
            text = "".join(text.split())
    return text
