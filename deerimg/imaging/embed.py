"""Provenance put into an image's own container, every original byte kept, nothing re-encoded.

PNG: an iTXt chunk; JPEG: an APP1 segment; WebP: an XMP chunk; GIF: an application extension;
SVG: a <metadata> element.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any

from deerimg.imaging.containers import (
    checked_format,
    has_c2pa,
    jpeg_segments,
    png_chunks,
    riff_end,
    webp_chunks,
)
from deerimg.imaging.formats import Buffer, Data
from deerimg.imaging.provenance import xmp_packet

XMP_KEYWORD = b"XML:com.adobe.xmp"  # the PNG text keyword XMP Part 3 names
JPEG_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"  # an APP1 segment that holds an XMP packet
JPEG_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
JPEG_SEGMENT_MAX = 65533  # payload bytes: the 16-bit length field also counts its own two bytes
WEBP_XMP_FLAG = 0x04  # VP8X flags: |Rsv:2|ICC|Alpha|EXIF|XMP|Animation|Rsv|
WEBP_ALPHA_FLAG = 0x10
# Chunks that come before EXIF/XMP in an extended WebP; XMP goes after the last of them.
WEBP_ORDERED = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L", b"EXIF"}


def embed(data: Data, fmt: str, record: Mapping[str, Any]) -> bytes | None:
    """DATA with RECORD's XMP packet inserted; every original byte kept, the pixels untouched.

    None when the file must stay as it came and the record goes to a sidecar instead: it has
    C2PA credentials, it already holds an XMP packet (two would contradict each other), the
    packet is over a JPEG segment's 64 KB, or its structure is not one this can follow.
    """
    parts = embed_parts(data, fmt, record)
    return None if parts is None else b"".join(parts)


def embed_parts(data: Data, fmt: str, record: Mapping[str, Any]) -> list[Buffer] | None:
    """What embed() returns, as pieces to write one after the other, most of them views of DATA:
    a batch's writers hold no second copy of each image (issue 10)."""
    fmt = checked_format(data, fmt)
    if has_c2pa(data):
        return None
    packet = xmp_packet(record)
    if fmt == "png":
        return _embed_png(data, packet)
    if fmt == "jpeg":
        return _embed_jpeg(data, packet)
    if fmt == "gif":
        return _embed_gif(data, packet)
    if fmt == "svg":
        return _embed_svg(data, packet)
    return _embed_webp(data, packet)


# XMP Part 3, 1.1.2: an application extension "XMP DataXMP" holds the packet as raw bytes, then a
# 258-byte "magic trailer" (01 FF FE … 01 00 00) that makes readers walking sub-blocks skip it.
GIF_XMP_APP = b"\x21\xff\x0bXMP DataXMP"
GIF_MAGIC_TRAILER = bytes([1, *range(255, -1, -1), 0])


def _embed_gif(data: Data, packet: bytes) -> list[Buffer] | None:
    """The packet as an application extension just before the GIF's trailer (3B)."""
    end = len(data.rstrip(b"\x00"))
    if end == 0 or data[end - 1] != 0x3B or GIF_XMP_APP in data:
        return None
    view = memoryview(data)
    return [view[: end - 1], GIF_XMP_APP, packet, GIF_MAGIC_TRAILER, view[end - 1 :]]


_SVG_ROOT_TAG = re.compile(rb"<svg\b[^>]*?(/?)>", re.IGNORECASE | re.DOTALL)


def _embed_svg(data: Data, packet: bytes) -> list[Buffer] | None:
    """The packet inside a <metadata> element, the first child of the root <svg> (SVG 1.1, 21.2)."""
    root = _SVG_ROOT_TAG.search(data)
    if root is None or root.group(1) or b"<x:xmpmeta" in data:  # <svg/> has no children
        return None
    view = memoryview(data)
    return [view[: root.end()], b"<metadata>", packet, b"</metadata>", view[root.end() :]]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return len(payload).to_bytes(4, "big") + kind + payload + crc.to_bytes(4, "big")


def _embed_png(data: Data, packet: bytes) -> list[Buffer] | None:
    chunks = list(png_chunks(data))
    if not chunks or chunks[0][0] != b"IHDR":
        return None
    for kind, start, end in chunks:
        if kind in (b"tEXt", b"zTXt", b"iTXt") and data[start + 8 : end].startswith(
            XMP_KEYWORD + b"\x00"
        ):
            return None
    # iTXt: keyword, no compression (flag 0, method 0), empty language and translated keyword.
    chunk = _png_chunk(b"iTXt", XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet)
    at = chunks[0][2]  # right after IHDR: XMP Part 3 asks for it before IDAT
    view = memoryview(data)
    return [view[:at], chunk, view[at:]]


def _embed_jpeg(data: Data, packet: bytes) -> list[Buffer] | None:
    payload = JPEG_XMP_ID + packet
    if len(payload) > JPEG_SEGMENT_MAX:
        return None
    at = 2  # after SOI, and after JFIF (APP0) and Exif (APP1), which must come first
    leading = True
    for marker, start, end in jpeg_segments(data):
        body = data[start + 4 : end]
        if marker == 0xE1 and body.startswith((JPEG_XMP_ID, JPEG_XMP_EXTENSION_ID)):
            return None
        if leading and (marker == 0xE0 or (marker == 0xE1 and body.startswith(b"Exif\x00"))):
            at = end
        else:
            leading = False
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    view = memoryview(data)
    return [view[:at], segment, view[at:]]


def _webp_canvas(data: Data, kind: bytes, start: int) -> tuple[int, int, bool] | None:
    """Width, height and alpha of a simple WebP's bitstream (RFC 9649 2.5 and 3.2)."""
    p = data[start + 8 : start + 18]
    if kind == b"VP8 " and len(p) >= 10 and p[3:6] == b"\x9d\x01\x2a":
        width = int.from_bytes(p[6:8], "little") & 0x3FFF
        height = int.from_bytes(p[8:10], "little") & 0x3FFF
        return width, height, False
    if kind == b"VP8L" and len(p) >= 5 and p[0] == 0x2F:
        bits = int.from_bytes(p[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    return None


def _embed_webp(data: Data, packet: bytes) -> list[Buffer] | None:
    chunks = list(webp_chunks(data))
    end = riff_end(data)
    if not chunks or chunks[-1][2] != end or end > len(data):
        return None  # chunks that do not tile the RIFF payload: not ours to rearrange
    if any(kind == b"XMP " for kind, _, _ in chunks):
        return None
    first, start, first_end = chunks[0]
    at = max(e for kind, _, e in chunks if kind in WEBP_ORDERED)
    xmp = b"XMP " + len(packet).to_bytes(4, "little") + packet + b"\x00" * (len(packet) & 1)
    view = memoryview(data)
    body: list[Buffer]
    if first == b"VP8X":
        if first_end - start < 18:
            return None
        flags = bytes([data[start + 8] | WEBP_XMP_FLAG])
        body = [view[12 : start + 8], flags, view[start + 9 : at], xmp, view[at:end]]
    elif first in (b"VP8 ", b"VP8L"):
        canvas = _webp_canvas(data, first, start)
        if canvas is None or not canvas[0] or not canvas[1]:
            return None
        width, height, alpha = canvas
        vp8x_flags = WEBP_XMP_FLAG | (WEBP_ALPHA_FLAG if alpha else 0)
        vp8x = (
            b"VP8X\x0a\x00\x00\x00"
            + bytes([vp8x_flags, 0, 0, 0])
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        body = [vp8x, view[12:at], xmp, view[at:end]]
    else:
        return None
    size = sum(len(part) for part in body) + 4
    return [b"RIFF" + size.to_bytes(4, "little") + b"WEBP", *body, view[end:]]
