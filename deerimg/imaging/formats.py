"""The image formats deerimg writes: names, extensions, content types, the type from the bytes."""

from __future__ import annotations

import re

from deerimg.values import normalise_format

# What an answer may hold: the raster formats every image model writes, and the GIF and SVG of
# OpenAI's November-2026 models (peers-2026-12.md §5). Uploads and `info` take the first three.
RASTER = ("png", "jpeg", "webp")
WRITTEN = (*RASTER, "gif", "svg")
EXTENSION = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}  # as saved
EXTENSIONS = {  # and back
    ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".gif": "gif", ".svg": "svg",
}  # fmt: skip
IMAGE_EXTS = tuple(EXTENSIONS)
Data = bytes | bytearray  # an image's bytes, as decoded or read
Buffer = bytes | bytearray | memoryview  # a piece of a file to write
CONTENT_TYPES = {
    "png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
    "svg": "image/svg+xml",
}  # fmt: skip
SNIFF_BYTES = 1024  # what sniff_any reads: an SVG's root element may follow a comment or two
_SVG_START = (b"<?xml", b"<svg", b"<!--", b"<!doctype svg")
_SVG_ROOT = re.compile(rb"<svg[\s>/]")


def sniff(head: bytes | bytearray | memoryview) -> str | None:
    """png, jpeg or webp from the first bytes, else None."""
    head = bytes(head[:16])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def sniff_any(head: bytes | bytearray | memoryview) -> str | None:
    """What an answer holds: png, jpeg, webp, gif or svg from its first bytes, else None."""
    found = sniff(head)
    if found is not None:
        return found
    head = bytes(head[:SNIFF_BYTES])
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_SVG_START) and _SVG_ROOT.search(text):
        return "svg"
    return None


def format_of_name(name: str) -> str | None:
    """The format a file name's extension names (photo.JPG → jpeg), else None."""
    lowered = name.lower()
    for ext, fmt in EXTENSIONS.items():
        if lowered.endswith(ext):
            return fmt
    return None


def known_format(name: str) -> str:
    """NAME as one of the formats deerimg writes (jpg is jpeg, any case); ValueError otherwise."""
    fmt = normalise_format(name.lower())
    if fmt not in WRITTEN:
        raise ValueError(f"not an image format deerimg writes: {fmt}")
    return fmt
