"""The image formats deerimg writes: names, extensions, content types, the type from the bytes."""

from __future__ import annotations

from deerimg.values import FORMATS, normalise_format

EXTENSION = {"png": "png", "jpeg": "jpg", "webp": "webp"}  # format → the extension it is saved as
EXTENSIONS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}  # and back
IMAGE_EXTS = tuple(EXTENSIONS)
Data = bytes | bytearray  # an image's bytes, as decoded or read
Buffer = bytes | bytearray | memoryview  # a piece of a file to write
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


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
    if fmt not in FORMATS:
        raise ValueError(f"not an image format deerimg writes: {fmt}")
    return fmt
