"""Provenance: XMP put into PNG, JPEG and WebP, pixels untouched, C2PA left alone, read back."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from deerimg import __version__
from deerimg.imaging import containers, embed, metadata, provenance
from deerimg.imaging.formats import sniff
from tests.fake import C2PA_DUMMY, make_image, png_with_chunk

BODY = {"model": "gpt-image-2", "prompt": "a paper boat at night", "size": "1024x1024", "n": 1}


def record(prompt: str = BODY["prompt"], **extra: object) -> dict:
    return provenance.build_record(
        {**BODY, "prompt": prompt},
        revised_prompt="A small paper boat on a dark lake",
        request_id="req_0123",
        created=1_790_000_000,
        **extra,  # type: ignore[arg-type]
    )


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def gradient(mode: str = "RGB", size: tuple[int, int] = (37, 23)) -> Image.Image:
    image = Image.linear_gradient("L").resize(size)
    bands = [image, image.rotate(90).resize(size), Image.new("L", size, 99)]
    if mode == "RGBA":
        bands.append(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    return Image.merge(mode, bands)


def exif() -> bytes:
    data = Image.Exif()
    data[0x010F] = "Camera"
    return data.tobytes()


def without_app0(jpeg: bytes) -> bytes:
    assert jpeg[2:4] == b"\xff\xe0"
    return jpeg[:2] + jpeg[4 + int.from_bytes(jpeg[4:6], "big") :]


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "png-fake": ("png", lambda: make_image("png", 64, 48)),
    "png-rgba": ("png", lambda: encode(gradient("RGBA"), "PNG")),
    "png-palette": ("png", lambda: encode(gradient().convert("P"), "PNG")),
    "png-padded-fake": ("png", lambda: make_image("png", 32, 32, noise_bytes=6000)),
    "jpeg-fake": ("jpeg", lambda: make_image("jpeg", 64, 48)),
    "jpeg-exif": ("jpeg", lambda: encode(gradient(), "JPEG", exif=exif())),
    "jpeg-no-jfif": ("jpeg", lambda: without_app0(encode(gradient(), "JPEG"))),
    "jpeg-comments-fake": ("jpeg", lambda: make_image("jpeg", 32, 32, noise_bytes=8000)),
    "webp-vp8-fake": ("webp", lambda: make_image("webp", 64, 48)),
    "webp-vp8l": ("webp", lambda: encode(gradient(), "WEBP", lossless=True)),
    "webp-vp8l-alpha": ("webp", lambda: encode(gradient("RGBA"), "WEBP", lossless=True)),
    "webp-vp8x-alpha": ("webp", lambda: encode(gradient("RGBA"), "WEBP", quality=70)),
    "webp-vp8x-exif": ("webp", lambda: encode(gradient(), "WEBP", exif=exif())),
    "webp-vp8x-unknown-fake": ("webp", lambda: make_image("webp", 32, 32, noise_bytes=6000)),
}


def cases(fmt: str | None = None) -> pytest.MarkDecorator:
    names = sorted(name for name, (kind, _) in CASES.items() if fmt in (None, kind))
    return pytest.mark.parametrize("case", names, indirect=True)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    fmt, make = CASES[request.param]
    return fmt, make()


def decoded(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


# ---- container walkers written for the tests, independent of the module's -------------------


def png_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk = data[pos : pos + 12 + length]
        assert zlib.crc32(chunk[4:-4]).to_bytes(4, "big") == chunk[-4:], "bad CRC"
        chunks.append(chunk)
        pos += 12 + length
    return chunks


def webp_chunks(data: bytes) -> list[bytes]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    chunks, pos = [], 12
    while pos < len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append(data[pos : pos + 8 + size + (size & 1)])
        pos += 8 + size + (size & 1)
    assert pos == len(data), "chunks do not tile the file"
    return chunks


# ---- embedding --------------------------------------------------------------------------------


@cases()
def test_embed_keeps_the_decoded_pixels_byte_identical(case: tuple[str, bytes]) -> None:
    fmt, original = case
    embedded = embed.embed(original, fmt, record())
    assert embedded is not None and embedded != original
    assert decoded(embedded) == decoded(original)


@cases()
def test_embed_is_read_back_by_us_and_by_pillow(case: tuple[str, bytes]) -> None:
    fmt, original = case
    rec = record()
    embedded = embed.embed(original, fmt, rec)
    assert embedded is not None
    found = metadata.read(embedded, fmt)
    assert found["record"] == rec
    assert found["c2pa"] is False
    assert found["digital_source_type"] == provenance.DIGITAL_SOURCE_TYPE
    assert found["creator_tool"] == f"deerimg {__version__}"
    with Image.open(io.BytesIO(embedded)) as image:  # an independent reader finds the packet
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    xmp = xmp.encode() if isinstance(xmp, str) else xmp
    assert xmp == provenance.xmp_packet(rec)


@cases("png")
def test_png_keeps_every_chunk_and_adds_one_itxt_after_ihdr(case: tuple[str, bytes]) -> None:
    fmt, original = case
    embedded = embed.embed(original, fmt, record())
    assert embedded is not None and embedded[:8] == original[:8]
    before, after = png_chunks(original), png_chunks(embedded)
    assert after[0] == before[0] and after[0][4:8] == b"IHDR"
    added = after[1]
    assert after[:1] + after[2:] == before
    assert added[4:8] == b"iTXt"
    keyword, flags, packet = added[8:-4].partition(b"\x00")[0], added[8:-4][18:22], added[8:-4]
    assert keyword == b"XML:com.adobe.xmp"
    assert flags == b"\x00\x00\x00\x00"  # uncompressed, no language, no translated keyword
    assert packet.endswith(provenance.xmp_packet(record()))


@cases("jpeg")
def test_jpeg_segment_goes_after_jfif_and_exif_and_the_rest_is_unchanged(
    case: tuple[str, bytes],
) -> None:
    fmt, original = case
    embedded = embed.embed(original, fmt, record())
    assert embedded is not None
    at = 2
    while original[at + 1] in (0xE0, 0xE1) and (
        original[at + 1] == 0xE0 or original[at + 4 : at + 10] == b"Exif\x00\x00"
    ):
        at += 2 + int.from_bytes(original[at + 2 : at + 4], "big")
    packet = provenance.xmp_packet(record())
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload
    assert embedded == original[:at] + segment + original[at:]


@cases("webp")
def test_webp_chunks_kept_in_order_with_vp8x_and_xmp(case: tuple[str, bytes]) -> None:
    fmt, original = case
    embedded = embed.embed(original, fmt, record())
    assert embedded is not None
    before, after = webp_chunks(original), webp_chunks(embedded)
    kinds = [chunk[:4] for chunk in after]
    assert kinds[0] == b"VP8X" and kinds.count(b"XMP ") == 1
    flags = after[0][8]
    assert flags & 0x04, "XMP flag"
    with Image.open(io.BytesIO(original)) as image:
        size, has_alpha = image.size, image.mode == "RGBA"
    canvas = (
        int.from_bytes(after[0][12:15], "little") + 1,
        int.from_bytes(after[0][15:18], "little") + 1,
    )
    assert canvas == size
    assert bool(flags & 0x10) == has_alpha
    xmp = after[kinds.index(b"XMP ")]
    packet = provenance.xmp_packet(record())
    assert xmp[8 : 8 + len(packet)] == packet
    kept = [chunk for chunk in after if chunk[:4] != b"XMP "]
    if before[0][:4] == b"VP8X":
        assert kept[0][:8] == before[0][:8] and kept[0][9:] == before[0][9:]
        assert kept[0][8] == before[0][8] | 0x04
        assert kept[1:] == before[1:]
    else:
        assert kept[1:] == before
    # XMP after the image data and EXIF, before chunks of unknown kinds (the container's order)
    known = [i for i, k in enumerate(kinds) if k in (b"VP8 ", b"VP8L", b"ALPH", b"EXIF")]
    assert kinds.index(b"XMP ") == max(known) + 1


def test_webp_with_an_odd_sized_packet_is_padded() -> None:
    original = make_image("webp", 16, 16)
    for extra in range(2):  # one of two packet sizes is odd
        rec = record(prompt="x" * (10 + extra))
        embedded = embed.embed(original, "webp", rec)
        assert embedded is not None
        webp_chunks(embedded)
        assert metadata.read(embedded)["record"] == rec


def test_embed_accepts_jpg_and_refuses_bytes_of_another_format() -> None:
    jpeg = make_image("jpeg", 16, 16)
    assert embed.embed(jpeg, "jpg", record()) is not None
    with pytest.raises(ValueError, match="not PNG"):
        embed.embed(jpeg, "png", record())
    with pytest.raises(ValueError, match="avif"):
        embed.embed(jpeg, "avif", record())
    with pytest.raises(ValueError, match="not GIF"):  # a format deerimg writes since issue 17
        embed.embed(jpeg, "gif", record())


# ---- when the file must stay as it came -------------------------------------------------------


def jpeg_with_app11(jpeg: bytes, payload: bytes) -> bytes:
    segment = b"\xff\xeb" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


def webp_with_chunk(webp: bytes, kind: bytes, payload: bytes) -> bytes:
    body = webp[12:] + kind + len(payload).to_bytes(4, "little") + payload
    body += b"\x00" * (len(payload) & 1)
    return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body


C2PA_JPEG_SEGMENT = b"JP\x00\x01\x00\x00\x00\x01" + C2PA_DUMMY


def signed_png(after: bytes) -> bytes:
    return png_with_chunk(make_image("png", 16, 16), b"caBX", C2PA_DUMMY, after=after)


SIGNED: dict[str, tuple[str, Callable[[], bytes]]] = {
    "png": ("png", lambda: signed_png(b"IHDR")),
    "png-caBX-after-IDAT": ("png", lambda: signed_png(b"IDAT")),
    "jpeg": ("jpeg", lambda: jpeg_with_app11(make_image("jpeg", 16, 16), C2PA_JPEG_SEGMENT)),
    "webp": ("webp", lambda: webp_with_chunk(make_image("webp", 16, 16), b"C2PA", C2PA_DUMMY)),
}


@pytest.mark.parametrize("name", sorted(SIGNED))
def test_c2pa_signed_files_are_never_changed(name: str) -> None:
    fmt, signed = SIGNED[name]
    data = signed()
    assert containers.has_c2pa(data) is True
    assert embed.embed(data, fmt, record()) is None
    assert metadata.read(data)["c2pa"] is True


def test_unsigned_files_and_other_app11_segments_are_not_c2pa() -> None:
    for fmt in ("png", "jpeg", "webp"):
        assert containers.has_c2pa(make_image(fmt, 16, 16)) is False
    jpeg = jpeg_with_app11(make_image("jpeg", 16, 16), b"JP\x00\x01\x00\x00\x00\x01not a store")
    assert containers.has_c2pa(jpeg) is False
    assert containers.has_c2pa(b"GIF89a") is False
    assert containers.has_c2pa(b"") is False


def test_a_record_too_large_for_a_jpeg_segment_goes_to_the_sidecar() -> None:
    rec = record(prompt="a lantern " * 7000)  # 70 kB: over one 64 kB segment
    assert embed.embed(make_image("jpeg", 16, 16), "jpeg", rec) is None
    for fmt in ("png", "webp"):  # no such limit there
        embedded = embed.embed(make_image(fmt, 16, 16), fmt, rec)
        assert embedded is not None and metadata.read(embedded)["record"] == rec


def test_the_largest_packet_a_jpeg_segment_holds_still_fits() -> None:
    jpeg = make_image("jpeg", 16, 16)
    base = len(provenance.xmp_packet(record(prompt="")))
    per_char = 3  # dc:description, AIPromptInformation and the record each hold the prompt
    room = (embed.JPEG_SEGMENT_MAX - 29 - base) // per_char
    fits = record(prompt="p" * room)
    assert embed.embed(jpeg, "jpeg", fits) is not None
    too_big = record(prompt="p" * (room + 1))
    assert len(provenance.xmp_packet(too_big)) + 29 > embed.JPEG_SEGMENT_MAX
    assert embed.embed(jpeg, "jpeg", too_big) is None


@cases()
def test_an_image_that_already_holds_xmp_is_left_alone(case: tuple[str, bytes]) -> None:
    fmt, original = case
    once = embed.embed(original, fmt, record())
    assert once is not None
    assert embed.embed(once, fmt, record(prompt="another")) is None


def test_a_webp_whose_chunks_overrun_the_riff_size_is_left_alone() -> None:
    webp = make_image("webp", 16, 16)
    broken = webp[:4] + (len(webp) - 20).to_bytes(4, "little") + webp[8:]
    assert embed.embed(broken, "webp", record()) is None
    empty_vp8x = b"RIFF\x0c\x00\x00\x00WEBPVP8X\x00\x00\x00\x00"
    assert embed.embed(empty_vp8x, "webp", record()) is None


# ---- the record and the packet ----------------------------------------------------------------


def test_build_record_holds_what_made_the_image() -> None:
    rec = provenance.build_record(
        {"model": "gpt-image-2", "prompt": "p", "quality": "high", "image": b"\x89PNG"},
        revised_prompt="rp",
        request_id="req_9",
        created=0,
        reported={"size": "1024x1536"},
    )
    assert rec == {
        "prompt": "p",
        "revised_prompt": "rp",
        "model": "gpt-image-2",
        "fields": {"model": "gpt-image-2", "quality": "high"},
        "reported": {"size": "1024x1536"},
        "created": "1970-01-01T00:00:00Z",
        "request_id": "req_9",
        "deerimg_version": __version__,
        "digital_source_type": (
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
        ),
    }
    assert provenance.build_record({"prompt": "p"})["created"].endswith("Z")


NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "ext": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
}


def parse_packet(packet: bytes) -> ElementTree.Element:
    assert packet.startswith(b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    assert packet.endswith(b'<?xpacket end="w"?>')
    return ElementTree.fromstring(packet)  # noqa: S314 - our own packet


def test_xmp_packet_carries_the_iptc_label_prompt_tool_and_time() -> None:
    rec = record()
    root = parse_packet(provenance.xmp_packet(rec))
    description = root.find("rdf:RDF/rdf:Description", NS)
    assert description is not None
    attrs = description.attrib
    assert attrs[f"{{{NS['ext']}}}DigitalSourceType"] == provenance.DIGITAL_SOURCE_TYPE
    assert attrs[f"{{{NS['xmp']}}}CreatorTool"] == f"deerimg {__version__}"
    assert attrs[f"{{{NS['xmp']}}}CreateDate"] == rec["created"]
    assert attrs[f"{{{NS['ext']}}}AISystemUsed"] == "gpt-image-2"
    assert description.findtext("dc:description/rdf:Alt/rdf:li", namespaces=NS) == rec["prompt"]
    stored = description.findtext(f"{{{provenance.DEERIMG_NS}}}record")
    assert stored is not None and json.loads(stored) == rec


TINY_PNG = make_image("png", 4, 4)


def xml_char(c: str) -> bool:
    """XML 1.0's Char production."""
    code = ord(c)
    return c in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


@settings(max_examples=150, deadline=None)
@given(prompt=st.text(), revised=st.none() | st.text(max_size=20))
@example(prompt="\x00 bell\x07 <b>&amp;</b> ]]> \"'\r\n\t\r\ufffe\uffff", revised=None)
@example(prompt="lone \ud800 surrogate, \U0001f98c deer, \u2028 line sep", revised="\x7f\x85")
@example(prompt="", revised="")
def test_any_prompt_round_trips_through_the_packet(prompt: str, revised: str | None) -> None:
    rec = provenance.build_record(BODY | {"prompt": prompt}, revised_prompt=revised, created=1)
    packet = provenance.xmp_packet(rec)
    root = parse_packet(packet)  # well-formed XML, whatever the prompt holds
    shown = root.findtext(".//dc:description/rdf:Alt/rdf:li", namespaces=NS)
    # XML 1.0 cannot hold some characters at all: the description drops them, the record keeps all
    assert shown == "".join(c for c in prompt if xml_char(c))
    embedded = embed.embed(TINY_PNG, "png", rec)
    assert embedded is not None
    assert metadata.read(embedded)["record"] == rec


# ---- what other tools write -------------------------------------------------------------------

COMFY_PROMPT = {"3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20}}}
COMFY_WORKFLOW = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}]}
A1111 = (
    "a lighthouse in fog\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model: sd_xl_base_1.0"
)


def png_with_text(**chunks: tuple[str, str]) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, (how, value) in chunks.items():
        if how == "itxt":
            info.add_itxt(key, value, zip=False)
        elif how == "itxt-zip":
            info.add_itxt(key, value, zip=True)
        else:
            info.add_text(key, value, zip=how == "ztxt")
    return encode(gradient(), "PNG", pnginfo=info)


@pytest.mark.parametrize("how", ["text", "ztxt", "itxt", "itxt-zip"])
def test_a1111_and_comfyui_chunks_are_read_back(how: str) -> None:
    data = png_with_text(
        parameters=(how, A1111),
        prompt=(how, json.dumps(COMFY_PROMPT)),
        workflow=(how, json.dumps(COMFY_WORKFLOW)),
        broken=(how, "{not json"),
    )
    found = metadata.read(data, "png")
    assert found["text"] == {
        "parameters": A1111,
        "prompt": COMFY_PROMPT,
        "workflow": COMFY_WORKFLOW,
        "broken": "{not json",
    }
    assert found["record"] is None and found["c2pa"] is False and found["xmp"] is None


def test_other_tools_chunks_survive_embedding_and_are_read_with_the_record() -> None:
    data = png_with_text(parameters=("text", A1111), comment=("itxt", "ü ∂ 鹿"))
    embedded = embed.embed(data, "png", record())
    assert embedded is not None
    found = metadata.read(embedded)
    assert found["text"] == {"parameters": A1111, "comment": "ü ∂ 鹿"}
    assert found["record"] == record()


def test_a_utf8_text_chunk_reads_as_utf8_and_latin1_as_latin1() -> None:
    png = make_image("png", 4, 4)
    data = png_with_chunk(png, b"tEXt", b"utf8\x00caf\xc3\xa9")
    data = png_with_chunk(data, b"tEXt", b"latin\x00caf\xe9")
    assert metadata.read(data)["text"] == {"utf8": "café", "latin": "café"}


def test_a_foreign_xmp_packet_is_shown_and_a_dtd_is_not_parsed() -> None:
    foreign = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="'
        + NS["rdf"].encode()
        + b'"><rdf:Description xmlns:Iptc4xmpExt="'
        + NS["ext"].encode()
        + b'"><Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/'
        b'digitalsourcetype/compositeWithTrainedAlgorithmicMedia"/></rdf:Description>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    webp = webp_with_chunk(make_image("webp", 8, 8), b"XMP ", foreign)
    found = metadata.read(webp)
    assert found["xmp"] == foreign.decode()
    assert found["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
    assert found["record"] is None
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/">&a;</x:xmpmeta>'
    found = metadata.read(webp_with_chunk(make_image("webp", 8, 8), b"XMP ", bomb))
    assert found["xmp"] == bomb.decode() and found["digital_source_type"] is None


def test_read_names_a_file_that_is_no_image() -> None:
    with pytest.raises(ValueError, match="not an image format"):
        metadata.read(b"BM6\x00\x00\x00....")  # a BMP; GIF is read since issue 17


def test_sidecar_is_named_after_the_whole_file_name(tmp_path: Path) -> None:
    assert provenance.sidecar_path(tmp_path / "night.png") == tmp_path / "night.png.json"
    assert provenance.sidecar_path(Path("a.png")) != provenance.sidecar_path(Path("a.jpg"))
    rec = record(prompt="鹿 deer")
    text = provenance.sidecar_bytes(rec)
    assert text.endswith(b"\n") and "鹿".encode() in text
    assert json.loads(text) == rec


FORMATS = ("png", "jpeg", "webp")
SAMPLES = {fmt: embed.embed(make_image(fmt, 8, 8), fmt, record()) for fmt in FORMATS}


@settings(max_examples=200, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS),
    cut=st.integers(min_value=16),
    at=st.integers(min_value=0),
    junk=st.binary(max_size=8),
)
def test_damaged_files_never_crash_the_reader_or_the_writer(
    fmt: str, cut: int, at: int, junk: bytes
) -> None:
    whole = SAMPLES[fmt]
    assert whole is not None
    at %= len(whole)
    data = (whole[:at] + junk + whole[at + len(junk) :])[:cut]
    if sniff(data[:16]) != fmt:
        return  # the damage hit the magic bytes
    metadata.read(data, fmt)
    containers.has_c2pa(data)
    embed.embed(data, fmt, record())


@pytest.mark.parametrize("fmt", FORMATS)
def test_embed_parts_share_the_image_memory(fmt: str) -> None:
    # Issue 10: a batch writes the pieces; the image itself is never copied to add the record.
    rec = record()
    original = make_image(fmt, 32, 32)
    decoded = bytearray(original)  # what images.decode gives the runner
    parts = embed.embed_parts(decoded, fmt, rec)
    assert parts is not None
    assert b"".join(parts) == embed.embed(original, fmt, rec)
    views = [p for p in parts if isinstance(p, memoryview)]
    assert all(view.obj is decoded for view in views)
    # Every byte of the image is a view but a WebP's 12-byte RIFF header and one flags byte.
    assert len(original) - 13 <= sum(len(view) for view in views) <= len(original)
