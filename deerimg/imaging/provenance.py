"""Provenance: an XMP record put into PNG, JPEG and WebP without re-encoding; C2PA seen; pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg import __version__

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
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What made one image: BODY is the request sent (its prompt is taken out of `fields`).

    created: the API's `created` (Unix seconds) or a datetime; now when None. reported: what the
    answer said about the images (size, quality, output_format, background), kept when given.
    source: where an answer's URL image came from ({"url", "lifetime"}), downloaded at once.
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
    if source:
        record["source"] = dict(source)
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
