"""Walking PNG chunks, JPEG segments and WebP chunks without decoding; C2PA credentials seen."""

from __future__ import annotations

from collections.abc import Iterator

from deerimg.imaging.formats import Data, known_format, sniff, sniff_any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: Data) -> Iterator[tuple[bytes, int, int]]:
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


def jpeg_segments(data: Data) -> Iterator[tuple[int, int, int]]:
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


def riff_end(data: Data) -> int:
    return 8 + int.from_bytes(data[4:8], "little") if len(data) >= 12 else 0


def webp_chunks(data: Data) -> Iterator[tuple[bytes, int, int]]:
    """(FourCC, start, end with padding) of each chunk inside the RIFF size."""
    limit = min(len(data), riff_end(data))
    pos = 12
    while pos + 8 <= limit:
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if pos + 8 + size > limit:
            return
        yield bytes(data[pos : pos + 4]), pos, pos + 8 + size + (size & 1)
        pos += 8 + size + (size & 1)


def _is_c2pa_app11(payload: Data) -> bool:
    # C2PA 2.x, 11.3.2: APP11 segments of JPEG XT boxes ("JP"), holding the JUMBF "c2pa" store.
    return b"jumb" in payload and b"c2pa" in payload


def has_c2pa(data: Data) -> bool:
    """Whether DATA carries C2PA content credentials, which any change to its bytes would break."""
    kind = sniff(data[:16])
    if kind == "png":
        return any(chunk == b"caBX" for chunk, _, _ in png_chunks(data))
    if kind == "jpeg":
        return any(
            marker == 0xEB and _is_c2pa_app11(data[start + 4 : end])
            for marker, start, end in jpeg_segments(data)
        )
    if kind == "webp":
        return any(chunk == b"C2PA" for chunk, _, _ in webp_chunks(data))
    return False


def checked_format(data: Data, fmt: str) -> str:
    fmt = known_format(fmt)
    if sniff_any(data) != fmt:
        raise ValueError(f"the bytes are not {fmt.upper()}")
    return fmt
