"""Reading what an image carries: deerimg's record, C2PA, XMP, other tools' text chunks."""

from __future__ import annotations

import json
import os
import stat
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg.errors import DeerimgError, usage_error
from deerimg.imaging import images
from deerimg.imaging.containers import (
    checked_format,
    has_c2pa,
    jpeg_segments,
    png_chunks,
    webp_chunks,
)
from deerimg.imaging.embed import GIF_MAGIC_TRAILER, GIF_XMP_APP, JPEG_XMP_ID, XMP_KEYWORD
from deerimg.imaging.formats import SNIFF_BYTES, sniff_any
from deerimg.imaging.provenance import DEERIMG_NS, NAMESPACES, sidecar_path
from deerimg.values import non_finite

if TYPE_CHECKING:
    from xml.etree import ElementTree

MAX_TEXT = 32 << 20  # inflate at most this much of one compressed PNG text chunk
# `info` reads a whole image to walk its chunks: at most this much. Larger than edit's 50 MB
# (the API's upload limit), since `info` only reads: an 8K 16-bit PNG or a RAW-sized JPEG fits.
MAX_IMAGE = 256 << 20
MAX_SIDECAR = MAX_TEXT  # a deerimg record is a few kilobytes
HEAD = SNIFF_BYTES  # what sniff_any needs: an SVG root may follow a comment or two


def _inflate(raw: bytes) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, MAX_TEXT)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out


def _png_text(kind: bytes, payload: bytes) -> tuple[str, bytes | None] | None:
    """(keyword, text bytes) of a tEXt, zTXt or iTXt chunk; text None when it cannot be read."""
    keyword, sep, rest = payload.partition(b"\x00")
    if not sep:
        return None
    name = keyword.decode("latin-1")
    if kind == b"tEXt":
        return name, rest
    if kind == b"zTXt":
        return name, _inflate(rest[1:]) if rest[:1] == b"\x00" else None
    if len(rest) < 2:
        return None
    compressed, text = rest[0], rest[2:]
    _language, _, text = text.partition(b"\x00")
    _translated, _, text = text.partition(b"\x00")
    return name, _inflate(text) if compressed else text


def _decode_text(raw: bytes, kind: bytes) -> str:
    if kind == b"iTXt":
        return raw.decode("utf-8", "replace")
    try:  # tEXt is Latin-1 by the spec, but many tools write UTF-8 into it
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _parse_json(text: str) -> Any:
    """TEXT parsed as JSON that JSON can write again, else None.

    Nesting deeper than json.loads goes (RecursionError) does not parse, and neither does a
    value holding NaN, Infinity or 1e999: `info --json` would print it as Infinity, not JSON.
    """
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return None if non_finite(parsed) is not None else parsed


def parse_record(text: str) -> dict[str, Any] | None:
    """A deerimg record (embedded or a sidecar's text): a JSON object, else None."""
    parsed = _parse_json(text)
    return parsed if isinstance(parsed, dict) else None


def _maybe_json(text: str) -> Any:
    """ComfyUI's `prompt` and `workflow` (and InvokeAI's) are JSON: parsed where they parse."""
    if text.lstrip()[:1] in ("{", "["):
        parsed = _parse_json(text)
        return text if parsed is None else parsed
    return text


def _xmp_tree(packet: bytes) -> ElementTree.Element | None:
    from xml.etree import ElementTree  # reading only: writing never parses XML

    # A DTD is the only way to entity bombs and external entities; XMP never has one.
    if b"<!DOCTYPE" in packet or b"<!ENTITY" in packet:
        return None
    try:
        return ElementTree.fromstring(packet)  # noqa: S314 - no DTD, checked above
    # Another tool's packet may declare an encoding expat cannot read: Shift_JIS or UTF-32 (a
    # ValueError), or one Python does not know (a LookupError). Its text is still shown.
    except (ElementTree.ParseError, ValueError, LookupError):
        return None


def _xmp_property(root: ElementTree.Element, namespace: str, name: str) -> str | None:
    """A simple or language-alternative property, as an attribute or an element."""
    key = f"{{{namespace}}}{name}"
    rdf = NAMESPACES["rdf"]
    for description in root.iter(f"{{{rdf}}}Description"):
        if key in description.attrib:
            return description.attrib[key]
        element = description.find(key)
        if element is None:
            continue
        item = element.find(f".//{{{rdf}}}li")
        if item is not None:
            return item.text or ""
        if f"{{{rdf}}}resource" in element.attrib:
            return element.attrib[f"{{{rdf}}}resource"]
        return element.text or ""
    return None


def _read_xmp(packet: bytes, found: dict[str, Any]) -> None:
    found["xmp"] = packet.decode("utf-8", "replace")
    root = _xmp_tree(packet)
    if root is None:
        return
    found["digital_source_type"] = _xmp_property(
        root, NAMESPACES["Iptc4xmpExt"], "DigitalSourceType"
    )
    found["creator_tool"] = _xmp_property(root, NAMESPACES["xmp"], "CreatorTool")
    record = _xmp_property(root, DEERIMG_NS, "record")
    if record is not None:
        found["record"] = parse_record(record)


def read(data: bytes, fmt: str | None = None) -> dict[str, Any]:
    """What an image carries: deerimg's record, C2PA or not, XMP, other tools' text chunks.

    Keys: format, c2pa, record (deerimg's, or None), xmp (the packet's text), digital_source_type
    and creator_tool (from any XMP), text (PNG text chunks by keyword: AUTOMATIC1111's
    `parameters`, ComfyUI's `prompt` and `workflow` parsed as JSON where they parse).
    """
    fmt = checked_format(data, fmt or sniff_any(data) or "unknown")
    found: dict[str, Any] = {
        "format": fmt,
        "c2pa": has_c2pa(data),
        "record": None,
        "xmp": None,
        "digital_source_type": None,
        "creator_tool": None,
        "text": {},
    }
    if fmt == "png":
        for kind, start, end in png_chunks(data):
            if kind not in (b"tEXt", b"zTXt", b"iTXt"):
                continue
            entry = _png_text(kind, data[start + 8 : end - 4])
            if entry is None:
                continue
            name, raw = entry
            if raw is None:
                continue
            if name == XMP_KEYWORD.decode():
                if found["xmp"] is None:
                    _read_xmp(raw, found)
            else:
                found["text"].setdefault(name, _maybe_json(_decode_text(raw, kind)))
    elif fmt == "jpeg":
        for marker, start, end in jpeg_segments(data):
            body = data[start + 4 : end]
            if marker == 0xE1 and body.startswith(JPEG_XMP_ID) and found["xmp"] is None:
                _read_xmp(body[len(JPEG_XMP_ID) :], found)
    elif fmt in ("gif", "svg"):
        start, end = _packet_span(data, fmt)
        if start >= 0 and end > start:
            _read_xmp(data[start:end], found)
    else:
        for kind, start, _end in webp_chunks(data):
            if kind == b"XMP " and found["xmp"] is None:
                size = int.from_bytes(data[start + 4 : start + 8], "little")
                _read_xmp(data[start + 8 : start + 8 + size], found)
    return found


def _packet_span(data: bytes, fmt: str) -> tuple[int, int]:
    """Where the XMP packet lies in a GIF (its application extension, up to the magic trailer)
    or an SVG (the x:xmpmeta element in its metadata); (-1, -1) when there is none."""
    if fmt == "gif":
        start = data.find(GIF_XMP_APP)
        if start < 0:
            return -1, -1
        start += len(GIF_XMP_APP)
        return start, data.find(GIF_MAGIC_TRAILER[:3], start)
    start = data.find(b"<x:xmpmeta")
    end = data.find(b"</x:xmpmeta>", start)
    return start, (end + len(b"</x:xmpmeta>") if end >= 0 else -1)


def _open_regular(path: Path, cap: int) -> tuple[int, int]:
    """An open descriptor of PATH and its size, once it is known to be a regular file of at most
    CAP bytes (else a usage error naming the reason). Opened without blocking and checked on
    the descriptor itself: a FIFO never hangs the open, nor does one swapped in after a stat."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise usage_error(f"{path} does not exist") from None
    except IsADirectoryError:
        raise usage_error(f"{path} is a folder, not an image") from None
    except OSError as exc:
        raise usage_error(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL in the name
        raise usage_error(f"{str(path)!r} has a NUL character in its name") from None
    info = os.fstat(fd)
    problem = (
        f"{path} is a folder, not an image" if stat.S_ISDIR(info.st_mode)
        else f"{path} is not a regular file (a pipe or a device); not read"
        if not stat.S_ISREG(info.st_mode)
        else f"{path} is {info.st_size / 1e6:,.1f} MB; info reads at most {cap >> 20} MB"
        if info.st_size > cap else None
    )  # fmt: skip
    if problem:
        os.close(fd)
        raise usage_error(problem)
    return fd, info.st_size


def _read_capped(path: Path, cap: int, *, sniffed: bool) -> tuple[bytes, str | None]:
    """PATH's bytes, at most CAP of them (a file that grows meanwhile is cut there), and their
    format; SNIFFED: the first bytes must be an image's (PNG, JPEG, WebP, GIF, SVG), told before
    the rest is read (a 1 GB video is refused after 1 KB)."""
    fd, size = _open_regular(path, cap)
    try:
        chunks = [os.read(fd, HEAD)]
        fmt = sniff_any(chunks[0])
        if sniffed and fmt is None:
            raise usage_error(f"{path} is not a PNG, JPEG, WebP, GIF or SVG image")
        got = len(chunks[0])
        while got < cap and (chunk := os.read(fd, min(max(size - got, 1 << 16), cap - got))):
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise usage_error(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks), fmt


def _read_sidecar(path: Path) -> str | None:
    """A sidecar's text; None when it cannot be read (not regular, too large, not UTF-8)."""
    try:
        return _read_capped(path, MAX_SIDECAR, sniffed=False)[0].decode("utf-8")
    except (DeerimgError, ValueError):
        return None


def describe(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Everything `info` knows of one file (deerimg's record, C2PA, other tools' parameters), and
    the warnings a person should see (a sidecar that cannot be read)."""
    data, fmt = _read_capped(path, MAX_IMAGE, sniffed=True)
    found = read(data, fmt)
    warnings = []
    sidecar = sidecar_path(path)
    sidecar_record = None
    if sidecar.is_file():  # a FIFO or folder of that name is no sidecar
        text = _read_sidecar(sidecar)
        # Held to what embedded records are: an object, nested no deeper than json.loads goes,
        # without NaN or Infinity (which `info --json` would print as no JSON reader takes).
        sidecar_record = parse_record(text) if text is not None else None
        if sidecar_record is None:
            warnings.append(f"{sidecar} is not readable JSON; ignored")
    pixels = images.pixel_size(data[: 1 << 16])
    info = {
        "file": str(path),
        "format": fmt,
        "pixels": f"{pixels[0]}x{pixels[1]}" if pixels else None,
        "bytes": len(data),
        "c2pa": bool(found.get("c2pa")),
        "record": found.get("record") or sidecar_record,
        "record_source": "embedded"
        if found.get("record")
        else ("sidecar" if sidecar_record else None),
        "digital_source_type": found.get("digital_source_type"),
        "creator_tool": found.get("creator_tool"),
        "parameters": found.get("text") or {},
    }
    return info, warnings
