"""Provenance: an XMP record put into PNG, JPEG and WebP without re-encoding; C2PA seen; pure."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg import __version__
from deerimg.images import sniff
from deerimg.request import non_finite

if TYPE_CHECKING:
    from xml.etree import ElementTree

Buffer = bytes | memoryview  # a piece of a file to write

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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"  # the PNG text keyword XMP Part 3 names
JPEG_XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"  # an APP1 segment that holds an XMP packet
JPEG_XMP_EXTENSION_ID = b"http://ns.adobe.com/xmp/extension/\x00"
JPEG_SEGMENT_MAX = 65533  # payload bytes: the 16-bit length field also counts its own two bytes
WEBP_XMP_FLAG = 0x04  # VP8X flags: |Rsv:2|ICC|Alpha|EXIF|XMP|Animation|Rsv|
WEBP_ALPHA_FLAG = 0x10
# Chunks that come before EXIF/XMP in an extended WebP; XMP goes after the last of them.
WEBP_ORDERED = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L", b"EXIF"}
MAX_TEXT = 32 << 20  # inflate at most this much of one compressed PNG text chunk
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


# ---- walking the containers -------------------------------------------------------------------


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(type, start, end) of each whole chunk, up to IEND or the first that does not fit."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(data):
        end = pos + 12 + int.from_bytes(data[pos : pos + 4], "big")
        if end > len(data):
            return
        kind = bytes(data[pos + 4 : pos + 8])  # hashable even when DATA is a bytearray
        yield kind, pos, end
        if kind == b"IEND":
            return
        pos = end


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment after SOI, up to and including SOS."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xD9 or length < 2 or pos + 2 + length > len(data):
            return
        yield marker, pos, pos + 2 + length
        if marker == 0xDA:  # entropy-coded data follows; metadata lives before it
            return
        pos += 2 + length


def _riff_end(data: bytes) -> int:
    return 8 + int.from_bytes(data[4:8], "little") if len(data) >= 12 else 0


def _webp_chunks(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(FourCC, start, end with padding) of each chunk inside the RIFF size."""
    limit = min(len(data), _riff_end(data))
    pos = 12
    while pos + 8 <= limit:
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > limit:
            return
        yield bytes(data[pos : pos + 4]), pos, pos + 8 + size + (size & 1)
        pos += 8 + size + (size & 1)


def _is_c2pa_app11(payload: bytes) -> bool:
    # C2PA 2.x, 11.3.2: APP11 segments of JPEG XT boxes ("JP"), holding the JUMBF "c2pa" store.
    return b"jumb" in payload and b"c2pa" in payload


def has_c2pa(data: bytes) -> bool:
    """Whether DATA carries C2PA content credentials, which any change to its bytes would break."""
    kind = sniff(data[:16])
    if kind == "png":
        return any(chunk == b"caBX" for chunk, _, _ in _png_chunks(data))
    if kind == "jpeg":
        return any(
            marker == 0xEB and _is_c2pa_app11(data[start + 4 : end])
            for marker, start, end in _jpeg_segments(data)
        )
    if kind == "webp":
        return any(chunk == b"C2PA" for chunk, _, _ in _webp_chunks(data))
    return False


def _format(data: bytes, fmt: str) -> str:
    fmt = {"jpg": "jpeg"}.get(fmt.lower(), fmt.lower())
    if fmt not in ("png", "jpeg", "webp"):
        raise ValueError(f"not an image format deerimg writes: {fmt}")
    if sniff(data[:16]) != fmt:
        raise ValueError(f"the bytes are not {fmt.upper()}")
    return fmt


# ---- embedding --------------------------------------------------------------------------------


def embed(data: bytes, fmt: str, record: Mapping[str, Any]) -> bytes | None:
    """DATA with RECORD's XMP packet inserted; every original byte kept, the pixels untouched.

    None when the file must stay as it came and the record goes to a sidecar instead: it has
    C2PA credentials, it already holds an XMP packet (two would contradict each other), the
    packet is over a JPEG segment's 64 KB, or its structure is not one this can follow.
    """
    parts = embed_parts(data, fmt, record)
    return None if parts is None else b"".join(parts)


def embed_parts(data: bytes, fmt: str, record: Mapping[str, Any]) -> list[Buffer] | None:
    """What embed() returns, as pieces to write one after the other, most of them views of DATA:
    a batch's writers hold no second copy of each image (issue 10)."""
    fmt = _format(data, fmt)
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


def _embed_png(data: bytes, packet: bytes) -> list[Buffer] | None:
    chunks = list(_png_chunks(data))
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


def _embed_jpeg(data: bytes, packet: bytes) -> list[Buffer] | None:
    payload = JPEG_XMP_ID + packet
    if len(payload) > JPEG_SEGMENT_MAX:
        return None
    at = 2  # after SOI, and after JFIF (APP0) and Exif (APP1), which must come first
    leading = True
    for marker, start, end in _jpeg_segments(data):
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


def _webp_canvas(data: bytes, kind: bytes, start: int) -> tuple[int, int, bool] | None:
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


def _embed_webp(data: bytes, packet: bytes) -> list[Buffer] | None:
    chunks = list(_webp_chunks(data))
    end = _riff_end(data)
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
        flags = WEBP_XMP_FLAG | (WEBP_ALPHA_FLAG if alpha else 0)
        vp8x = (
            b"VP8X\x0a\x00\x00\x00"
            + bytes([flags, 0, 0, 0])
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        body = [vp8x, view[12:at], xmp, view[at:end]]
    else:
        return None
    size = sum(len(part) for part in body) + 4
    return [b"RIFF" + size.to_bytes(4, "little") + b"WEBP", *body, view[end:]]


# ---- reading ----------------------------------------------------------------------------------


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
    fmt = _format(data, fmt or sniff(data[:16]) or "unknown")
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
        for kind, start, end in _png_chunks(data):
            if kind not in (b"tEXt", b"zTXt", b"iTXt"):
                continue
            entry = _png_text(kind, data[start + 8 : end - 4])
            if entry is None or entry[1] is None:
                continue
            name, raw = entry
            if name == XMP_KEYWORD.decode():
                if found["xmp"] is None:
                    _read_xmp(raw, found)
            else:
                found["text"].setdefault(name, _maybe_json(_decode_text(raw, kind)))
    elif fmt == "jpeg":
        for marker, start, end in _jpeg_segments(data):
            body = data[start + 4 : end]
            if marker == 0xE1 and body.startswith(JPEG_XMP_ID) and found["xmp"] is None:
                _read_xmp(body[len(JPEG_XMP_ID) :], found)
    else:
        for kind, start, _end in _webp_chunks(data):
            if kind == b"XMP " and found["xmp"] is None:
                size = int.from_bytes(data[start + 4 : start + 8], "little")
                _read_xmp(data[start + 8 : start + 8 + size], found)
    return found
