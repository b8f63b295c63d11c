"""Input images for `edit`: exist, PNG/JPEG/WebP by their bytes, under 50 MB; mask and markup."""

from __future__ import annotations

import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from deerimg.errors import usage_error
from deerimg.imaging import images
from deerimg.imaging.formats import CONTENT_TYPES, sniff

MAX_IMAGES = 16
MAX_BYTES = 50 * 1024 * 1024  # OpenAI's limit for GPT image models
HEAD = 1 << 16  # enough of a file to find its type and, almost always, its pixel size
ALPHA_HINTS = {
    "mask": "transparent pixels (alpha 0) mark where the image may change",
    # OpenAI: "A transparent PNG overlaid on the first image to guide the edit" (peers §5)
    "markup": "the markup is a transparent PNG drawn over the first image to guide the edit",
}


@dataclass(slots=True)
class InputImage:
    """A file to upload: its path, the name sent (never a folder), type, size and pixels."""

    path: Path
    fmt: str
    size: int
    pixels: tuple[int, int] | None

    @property
    def name(self) -> str:
        """The base name as valid UTF-8: bytes a file name may hold that are not UTF-8 become
        U+FFFD, so the multipart header can be written (the extension stays)."""
        return self.path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]

    def describe(self) -> dict[str, object]:
        return {"file": str(self.path), "name": self.name, "type": self.content_type,
                "bytes": self.size}  # fmt: skip


def check_image(path: str | Path, role: str = "image") -> InputImage:
    path = Path(path).expanduser()
    try:
        info = path.stat()  # follows links: a link to a file is fine
        if stat.S_ISDIR(info.st_mode):
            raise usage_error(f"{role} {path} is a folder, not an image")
        if not stat.S_ISREG(info.st_mode):
            # A pipe (<(cmd), a FIFO) or device: it would be read by the check, then found empty
            # (or wait for ever) when sent, and its size is unknown. Open it only if regular.
            raise usage_error(
                f"{role} {path} is not a regular file",
                hint="save it to a file first, then give that file",
            )
        size = info.st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD)
            fmt = sniff(head)
            pixels = images.pixel_size(head)
            # A JPEG's size comes after its APP segments (EXIF, ICC), which can pass HEAD: read
            # on, the whole file at most (at most 50 MB, refused below otherwise).
            while fmt == "jpeg" and pixels is None and len(head) < min(size, MAX_BYTES):
                more = handle.read(len(head))
                if not more:
                    break
                head += more
                pixels = images.pixel_size(head)
    except FileNotFoundError:
        raise usage_error(f"{role} {path} does not exist") from None
    except IsADirectoryError:
        raise usage_error(f"{role} {path} is a folder, not an image") from None
    except OSError as exc:
        raise usage_error(f"cannot read {role} {path}: {exc.strerror or exc}") from None
    except ValueError:  # a NUL in the name ("embedded null byte")
        raise usage_error(f"{role} {str(path)!r} has a NUL character in its name") from None
    if fmt is None:
        raise usage_error(f"{role} {path} is not a PNG, JPEG or WebP image")
    if size > MAX_BYTES:
        raise usage_error(f"{role} {path} is {size / 1e6:.1f} MB; the limit is 50 MB")
    return InputImage(path, fmt, size, pixels)


def check_images(paths: list[str]) -> tuple[InputImage, ...]:
    if not paths:
        raise usage_error("give at least one image to edit")
    if len(paths) > MAX_IMAGES:
        raise usage_error(f"at most {MAX_IMAGES} images per edit, not {len(paths)}")
    return tuple(check_image(p) for p in paths)


def check_mask(path: str | Path, first: InputImage, role: str = "mask") -> InputImage:
    """A PNG with an alpha channel, the same pixel size as the first image (its header tells):
    edit's mask, or (ROLE "markup") the transparent PNG drawn over the first image."""
    mask = check_image(path, role)
    if mask.fmt != "png":
        raise usage_error(f"{role} {mask.path} must be a PNG with an alpha channel")
    with mask.path.open("rb") as handle:
        head = handle.read(HEAD)
    color_type = head[25] if len(head) > 25 else -1
    if color_type not in (4, 6) and not _has_trns(head):
        raise usage_error(f"{role} {mask.path} has no alpha channel", hint=ALPHA_HINTS[role])
    if not first.pixels or not mask.pixels:
        unknown = first.path if not first.pixels else mask.path
        raise usage_error(
            f"cannot find the pixel size of {unknown} to compare it with {role} {mask.path}",
            hint=f"the {role} must be the same size as the first image",
        )
    if first.pixels != mask.pixels:
        raise usage_error(
            f"{role} {mask.path} is {mask.pixels[0]}x{mask.pixels[1]}, "
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
