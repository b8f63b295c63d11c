"""Real PNG, JPEG, WebP and GIF bytes made with Pillow, and SVG text: deterministic, cached."""

from __future__ import annotations

import base64
import io
import math
import random
import threading
import zlib

from PIL import Image

MAX_PIXELS = 1024 * 1024  # larger sizes are scaled down to this area (see pixel_size)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORMATS = ("png", "jpeg", "webp", "gif", "svg")
# GIF and SVG: OpenAI's November-2026 formats, for GPT image 2.5 and later (peers-2026-12.md §5)
NEW_FORMATS = ("gif", "svg")
CONTENT_TYPES = {
    "png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
    "svg": "image/svg+xml",
}  # fmt: skip

NOT_AN_IMAGE = b"hello, not an image"
INVALID_B64 = "!!!notbase64***"
# A stand-in for a C2PA manifest store: a JUMBF box header and zeros. Only its chunk type matters.
C2PA_DUMMY = (
    b"\x00\x00\x00\x28jumb\x00\x00\x00\x1ejumdc2pa\x00\x11\x00\x10\x80\x00\xaa\x008\x9bq"
    + (b"\x00" * 8)
)


def normalize_format(fmt: str) -> str:
    """``png``, ``jpeg`` or ``webp`` for a format name (``jpg`` and upper case accepted)."""
    name = fmt.lower()
    name = "jpeg" if name == "jpg" else name
    if name not in FORMATS:
        raise ValueError(f"unsupported image format: {fmt!r}")
    return name


def sniff_format(data: bytes) -> str | None:
    """The format of encoded image bytes, or None."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data.lstrip().startswith((b"<?xml", b"<svg")):
        return "svg"
    return None


def pixel_size(width: int, height: int) -> tuple[int, int]:
    """The pixel size the fake makes for a requested size: at most MAX_PIXELS in area."""
    if width * height <= MAX_PIXELS:
        return width, height
    scale = math.sqrt(MAX_PIXELS / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def _gradient(width: int, height: int) -> Image.Image:
    vertical = Image.linear_gradient("L").resize((width, height))
    horizontal = Image.linear_gradient("L").rotate(90).resize((width, height))
    return Image.merge("RGB", (horizontal, vertical, Image.new("L", (width, height), 150)))


def _with_noise_rows(image: Image.Image, rows: int, seed: int) -> Image.Image:
    rows = min(max(rows, 0), image.height)
    if rows == 0:
        return image
    # Seeded, so the same (format, size, image_bytes) always gives the same bytes.
    noise = random.Random(seed).randbytes(image.width * rows * 3)
    out = image.copy()
    out.paste(Image.frombytes("RGB", (image.width, rows), noise), (0, 0))
    return out


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "png":
        image.save(buffer, "PNG", compress_level=1)
    elif fmt == "jpeg":
        image.save(buffer, "JPEG", quality=85)
    elif fmt == "gif":
        frames = [image, image.rotate(180)]  # two frames: an animation, as the API makes
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200)
    elif fmt == "svg":
        width, height = image.size
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f'<rect width="{width}" height="{height}" fill="#3a7"/></svg>\n'
        ).encode()
    else:
        image.save(buffer, "WEBP", quality=80, method=0)
    return buffer.getvalue()


def png_with_chunk(png: bytes, chunk_type: bytes, data: bytes, *, after: bytes = b"IHDR") -> bytes:
    """``png`` plus a chunk (valid length and CRC) right after its first ``after`` chunk."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    if len(chunk_type) != 4:
        raise ValueError("a PNG chunk type is 4 bytes")
    chunk = (
        len(data).to_bytes(4, "big")
        + chunk_type
        + data
        + zlib.crc32(chunk_type + data).to_bytes(4, "big")
    )
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        end = pos + 12 + length
        if png[pos + 4 : pos + 8] == after:
            return png[:end] + chunk + png[end:]
        pos = end
    raise ValueError(f"no {after!r} chunk in the PNG")


def _jpeg_with_comments(jpeg: bytes, size: int) -> bytes:
    """``jpeg`` with COM segments totalling about ``size`` bytes right after SOI."""
    segments = []
    while size >= 4:
        length = min(65533, size - 4)  # the length field counts itself, and is 16 bits
        segments.append(b"\xff\xfe" + (length + 2).to_bytes(2, "big") + b"\x00" * length)
        size -= length + 4
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def _webp_with_chunk(webp: bytes, width: int, height: int, size: int) -> bytes:
    """``webp`` in the extended (VP8X) layout plus an unknown chunk of about ``size`` bytes.

    Readers ignore unknown chunks of the extended layout (WebP container spec, "Unknown Chunks").
    """
    chunks = webp[12:]
    if chunks[:4] != b"VP8X":
        flags = b"\x00\x00\x00\x00"
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = b"VP8X" + (10).to_bytes(4, "little") + flags + canvas + chunks
        size -= 18
    length = max(size - 8, 0)
    length -= length % 2  # chunk payloads are padded to even sizes; keep it even
    if size >= 8:
        chunks += b"npAd" + length.to_bytes(4, "little") + b"\x00" * length
    return b"RIFF" + (len(chunks) + 4).to_bytes(4, "little") + b"WEBP" + chunks


def _pad(data: bytes, fmt: str, width: int, height: int, size: int) -> bytes:
    if size <= 0:
        return data
    if fmt == "png":
        # "npAd": ancillary, private, safe to copy (PNG spec 5.4): every decoder skips it.
        return png_with_chunk(data, b"npAd", b"\x00" * max(size - 12, 0)) if size >= 12 else data
    if fmt == "jpeg":
        return _jpeg_with_comments(data, size)
    return _webp_with_chunk(data, width, height, size)


def make_image(fmt: str, width: int, height: int, *, noise_bytes: int | None = None) -> bytes:
    """Real, deterministic image bytes in ``fmt`` (png, jpeg or webp) of ``width`` x ``height``.

    Without ``noise_bytes`` the image is a small gradient. With it, rows of seeded noise (which
    does not compress) and an ignorable chunk or segment make the file about that many bytes.
    """
    fmt = normalize_format(fmt)
    image = _gradient(width, height)
    if not noise_bytes or fmt in NEW_FORMATS:
        return _encode(image, fmt)
    seed = zlib.crc32(f"{fmt}:{width}x{height}:{noise_bytes}".encode())
    if fmt == "png":
        per_row = 3 * width + 1.0  # filtered RGB noise stores at about its raw size
        budget = 0.97
    else:
        sample = min(height, 32)
        top = image.crop((0, 0, width, sample))
        plain = len(_encode(top, fmt))
        noisy = len(_encode(_with_noise_rows(top, sample, seed), fmt))
        per_row = max(1.0, (noisy - plain) / sample)
        budget = 0.9
    rows = int(noise_bytes * budget / per_row)
    data = _encode(_with_noise_rows(image, rows, seed), fmt)
    for _ in range(3):  # the estimate overshot: fewer rows
        if len(data) <= noise_bytes or rows == 0:
            break
        rows = int(rows * noise_bytes / len(data) * 0.95)
        data = _encode(_with_noise_rows(image, rows, seed), fmt)
    return _pad(data, fmt, width, height, noise_bytes - len(data))


_image_cache: dict[tuple[str, int, int, int | None], tuple[bytes, str]] = {}
_image_cache_lock = threading.Lock()


def cached_image(fmt: str, width: int, height: int, image_bytes: int | None) -> tuple[bytes, str]:
    """``(bytes, base64 text)`` of make_image, made once per process for each key."""
    key = (normalize_format(fmt), width, height, image_bytes or None)
    found = _image_cache.get(key)
    if found is not None:
        return found
    # One lock for all keys: concurrent first requests wait instead of all encoding at once.
    with _image_cache_lock:
        found = _image_cache.get(key)
        if found is None:
            data = make_image(key[0], width, height, noise_bytes=key[3])
            found = (data, base64.b64encode(data).decode("ascii"))
            _image_cache[key] = found
    return found
