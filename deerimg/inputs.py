"""Input images for `edit`: exist, PNG/JPEG/WebP by their bytes, under 50 MB; the mask's checks."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from deerimg import images
from deerimg.errors import usage_error

MAX_IMAGES = 16
MAX_BYTES = 50 * 1024 * 1024  # OpenAI's limit for GPT image models
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
HEAD = 1 << 16  # enough of a file to find its type and, almost always, its pixel size


@dataclass(slots=True)
class InputImage:
    """A file to upload: its path, the name sent (never a folder), type, size and pixels."""

    path: Path
    fmt: str
    size: int
    pixels: tuple[int, int] | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    def describe(self) -> dict[str, object]:
        return {"file": str(self.path), "name": self.name, "type": self.content_type,
                "bytes": self.size}  # fmt: skip


def check_image(path: str | Path, role: str = "image") -> InputImage:
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD)
    except FileNotFoundError:
        raise usage_error(f"{role} {path} does not exist") from None
    except IsADirectoryError:
        raise usage_error(f"{role} {path} is a folder, not an image") from None
    except OSError as exc:
        raise usage_error(f"cannot read {role} {path}: {exc.strerror}") from None
    fmt = images.sniff(head)
    if fmt is None:
        raise usage_error(f"{role} {path} is not a PNG, JPEG or WebP image")
    if size > MAX_BYTES:
        raise usage_error(f"{role} {path} is {size / 1e6:.1f} MB; the limit is 50 MB")
    return InputImage(path, fmt, size, images.pixel_size(head))


def check_images(paths: list[str]) -> tuple[InputImage, ...]:
    if not paths:
        raise usage_error("give at least one image to edit")
    if len(paths) > MAX_IMAGES:
        raise usage_error(f"at most {MAX_IMAGES} images per edit, not {len(paths)}")
    return tuple(check_image(p) for p in paths)


def check_mask(path: str | Path, first: InputImage) -> InputImage:
    """A PNG with an alpha channel, the same pixel size as the first image (its header tells)."""
    mask = check_image(path, "mask")
    if mask.fmt != "png":
        raise usage_error(f"mask {mask.path} must be a PNG with an alpha channel")
    with mask.path.open("rb") as handle:
        head = handle.read(HEAD)
    color_type = head[25] if len(head) > 25 else -1
    if color_type not in (4, 6) and not _has_trns(head):
        raise usage_error(
            f"mask {mask.path} has no alpha channel",
            hint="transparent pixels (alpha 0) mark where the image may change",
        )
    if first.pixels and mask.pixels and first.pixels != mask.pixels:
        raise usage_error(
            f"mask {mask.path} is {mask.pixels[0]}x{mask.pixels[1]}, "
            f"but {first.path} is {first.pixels[0]}x{first.pixels[1]}"
        )
    return mask


def _has_trns(png: bytes) -> bool:
    """A tRNS chunk before the image data also gives a PNG transparency."""
    pos = 8
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"tRNS":
            return True
        if kind == b"IDAT":
            return False
        pos += 12 + length
    return False


def default_edit_name(first: InputImage) -> str:
    """photo.png → photo-edit (the extension follows the answer's real type)."""
    return f"{first.path.stem}-edit"
