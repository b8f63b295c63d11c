"""Provenance: an XMP record put into PNG, JPEG and WebP without re-encoding; C2PA seen; pure."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg import __version__
from deerimg.imaging.containers import (
    checked_format,
    has_c2pa,
    jpeg_segments,
    png_chunks,
    riff_end,
    webp_chunks,
)
from deerimg.imaging.formats import Buffer, Data

if TYPE_CHECKING:
    pass


# IPTC NewsCodes: "created by a model trained on sampled content" - the "made by AI" label.
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# Our XMP namespace. It only names things; readers look the record up by it, so never change it.
DEERIMG_NS = "https://pypi.org/project/deerimg/xmp/1.0/"
NAMESPACES = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "deerimg": DEERIMG_NS,
}
XMP_KEYWORD = b"XML:com.adobe.xmp"  # the PNG text keyword XMP Part 3 names
JPEG_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"  # an APP1 segment that holds an XMP packet
JPEG_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
JPEG_SEGMENT_MAX = 65533  # payload bytes: the 16-bit length field also counts its own two bytes
WEBP_XMP_FLAG = 0x04  # VP8X flags: |Rsv:2|ICC|Alpha|EXIF|XMP|Animation|Rsv|
WEBP_ALPHA_FLAG = 0x10
# Chunks that come before EXIF/XMP in an extended WebP; XMP goes after the last of them.
WEBP_ORDERED = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L", b"EXIF"}
# Characters XML 1.0 cannot hold at all, not even as references (and lone surrogates): the
# complement of its Char production, spelled as the short list it is (the negated class took 5 ms
# to compile at every start).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def build_record(
    body: Mapping[str, Any],
    *,
    revised_prompt: str | None = None,
    request_id: str | None = None,
    created: datetime | float | None = None,
    reported: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What made one image: BODY is the request sent (its prompt is taken out of `fields`).

    created: the API's `created` (Unix seconds) or a datetime; now when None. reported: what the
    answer said about the images (size, quality, output_format, background), kept when given.
    """
    if created is None:
        when = datetime.now(timezone.utc)
    elif isinstance(created, datetime):
        when = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
    else:
        when = datetime.fromtimestamp(created, timezone.utc)
    prompt = body.get("prompt")
    record: dict[str, Any] = {
        "prompt": prompt if isinstance(prompt, str) else None,
        "revised_prompt": revised_prompt,
        "model": body.get("model"),
        # Edits send files: their bytes are no provenance a record can carry.
        "fields": {
            k: v for k, v in body.items() if k != "prompt" and not isinstance(v, (bytes, bytearray))
        },
    }
    if reported:
        record["reported"] = dict(reported)
    record.update(
        created=when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        request_id=request_id,
        deerimg_version=__version__,
        digital_source_type=DIGITAL_SOURCE_TYPE,
    )
    return record


def _xml_text(value: object, *, attribute: bool = False) -> str:
    """VALUE escaped for XML; what XML 1.0 cannot hold is dropped (the JSON record keeps it)."""
    text = _NOT_XML.sub("", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", "&#13;")  # a parser turns a bare CR into LF
    if attribute:  # and white space in an attribute into spaces
        text = text.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return text


def _record_json(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    # Only JSON strings can hold these, and there a \\u escape keeps them exactly.
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def xmp_packet(record: Mapping[str, Any]) -> bytes:
    """An XMP packet (UTF-8) with the IPTC AI label, the prompt, and RECORD as JSON."""
    version = record.get("deerimg_version") or __version__
    attributes = {
        "xmp:CreatorTool": f"deerimg {version}",
        "xmp:CreateDate": record.get("created"),
        "Iptc4xmpExt:DigitalSourceType": record.get("digital_source_type") or DIGITAL_SOURCE_TYPE,
        "Iptc4xmpExt:AISystemUsed": record.get("model"),  # IPTC 2025.1
    }
    prompt = record.get("prompt")
    toolkit = _xml_text(f"deerimg {version}", attribute=True)
    lines = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="{toolkit}">',
        f' <rdf:RDF xmlns:rdf="{NAMESPACES["rdf"]}">',
        '  <rdf:Description rdf:about=""',
        *(f'    xmlns:{p}="{NAMESPACES[p]}"' for p in ("dc", "xmp", "Iptc4xmpExt", "deerimg")),
        *(
            f'    {name}="{_xml_text(value, attribute=True)}"'
            for name, value in attributes.items()
            if value is not None
        ),
        "  >",
    ]
    if isinstance(prompt, str):
        text = _xml_text(prompt)
        lines += [
            "   <dc:description><rdf:Alt>",
            f'    <rdf:li xml:lang="x-default">{text}</rdf:li>',
            "   </rdf:Alt></dc:description>",
            f"   <Iptc4xmpExt:AIPromptInformation>{text}</Iptc4xmpExt:AIPromptInformation>",
        ]
    lines += [
        f"   <deerimg:record>{_xml_text(_record_json(record))}</deerimg:record>",
        "  </rdf:Description>",
        " </rdf:RDF>",
        "</x:xmpmeta>",
        '<?xpacket end="w"?>',
    ]
    return "\n".join(lines).encode("utf-8")


def sidecar_path(image: Path) -> Path:
    """`night.png` → `night.png.json`: the whole name, so `a.png` and `a.jpg` never share one."""
    return image.with_name(image.name + ".json")


def sidecar_bytes(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")


# ---- embedding --------------------------------------------------------------------------------


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
    return _embed_webp(data, packet)


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
