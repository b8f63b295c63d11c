"""Every target planned before any request: placeholders, slugs, -2/-3, --force, --skip-existing."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deerimg.errors import usage_error
from deerimg.images import EXTENSION

PLACEHOLDERS = ("{index}", "{n}", "{slug}", "{model}", "{ext}", "{date}", "{time}")
SLUG_MAX = 48
RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(slots=True)
class Target:
    """Where one image goes. ext_fixed: the user wrote the extension, so it is never changed."""

    path: Path | None  # None: standard output
    explicit: bool = False  # named by the user: -o or a JSON line's "output"
    ext_fixed: bool = False

    @property
    def stdout(self) -> bool:
        return self.path is None


@dataclass(slots=True)
class Planned:
    """What one prompt will need: its images' targets, and whether --skip-existing skips it."""

    targets: tuple[Target, ...]
    skip: bool = False


@dataclass(slots=True)
class NameInfo:
    """What naming needs to know of one prompt."""

    prompt: str
    count: int
    model: str
    fmt: str | None  # the format asked for, if any
    output: str | None  # a JSON line's own "output"
    stem: str | None = None  # the default name's stem instead of the slug (edit: photo-edit)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes, at most 48 characters, never empty or reserved."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-") or "image"
    if slug in RESERVED:
        slug = f"{slug}-image"
    return slug


def _safe_model(model: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip(".-") or "model"
    # Windows reserves NUL, CON, … before any extension: NUL.png is the null device.
    return f"{name}-model" if name.split(".")[0].lower() in RESERVED else name


def has_placeholder(template: str) -> bool:
    return any(p in template for p in PLACEHOLDERS)


def render(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def _numbered(template: str, placeholder: str) -> str:
    """out.jpg → out-{index}.jpg: the number goes before the extension."""
    path = Path(template)
    suffix = path.suffix if path.suffix.lower() in IMAGE_EXTS else ""
    stem = template[: len(template) - len(suffix)] if suffix else template
    return f"{stem}-{placeholder}{suffix}"


def _explicit(name: str, output_dir: Path, fmt_ext: str) -> Target:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = output_dir / path
    if path.suffix.lower() in IMAGE_EXTS:
        return Target(path, explicit=True, ext_fixed=True)
    # A name with no image extension gets the real type's (decided when the bytes arrive).
    return Target(path.with_name(f"{path.name}.{fmt_ext}"), explicit=True, ext_fixed=False)


def plan(
    infos: Sequence[NameInfo],
    output: str | None,
    output_dir: Path,
    *,
    force: bool = False,
    skip_existing: bool = False,
    now: datetime | None = None,
) -> list[Planned]:
    """Name every image of the run, refusing clashes and existing files before anything is paid."""
    now = now or datetime.now()
    total = sum(info.count for info in infos)
    if output == "-":
        if total != 1 or any(info.output for info in infos):
            raise usage_error(f"-o - writes one image to standard output; this run makes {total}")
        return [Planned((Target(None, explicit=True),))]
    stamp = {"date": now.strftime("%Y%m%d"), "time": now.strftime("%H%M%S")}
    index = 0
    taken: dict[Path, str] = {}  # planned path → which prompt, to catch two prompts on one file
    plans: list[Planned] = []
    for number, info in enumerate(infos, start=1):
        ext = EXTENSION.get(info.fmt or "png", "png")
        slug = slugify(info.prompt)
        targets: list[Target] = []
        for n in range(1, info.count + 1):
            index += 1
            values = {
                "index": str(index),
                "n": str(n),
                "slug": slug,
                "model": _safe_model(info.model),
                "ext": ext,
                **stamp,
            }
            template = info.output or output
            if template is not None:
                if not has_placeholder(template) and (
                    total > 1 if not info.output else info.count > 1
                ):
                    template = _numbered(template, "{n}" if info.output else "{index}")
                target = _explicit(render(template, values), output_dir, ext)
            else:
                base = info.stem or slug
                name = f"{base}.{ext}" if info.count == 1 else f"{base}-{n}.{ext}"
                target = Target(output_dir / name)
            targets.append(target)
        plans.append(_resolve(targets, number, taken, force=force, skip_existing=skip_existing))
    return plans


def _resolve(
    targets: list[Target], number: int, taken: dict[Path, str], *, force: bool, skip_existing: bool
) -> Planned:
    # A default name first steps clear of the names other prompts of this run planned, so that
    # two prompts with one slug resume as slug.png and slug-2.png.
    targets = [
        t if t.explicit or t.path is None else Target(_free_name(t.path, taken, on_disk=False))
        for t in targets
    ]
    existing = [t for t in targets if t.path is not None and _exists(t)]
    if skip_existing and targets and len(existing) == len(targets):
        for t in targets:
            taken.setdefault(t.path, f"prompt {number}")  # type: ignore[arg-type]
        return Planned(tuple(targets), skip=True)
    resolved: list[Target] = []
    for target in targets:
        assert target.path is not None  # noqa: S101 - stdout targets return early in plan()
        if target.explicit:
            if target.path in taken:
                raise usage_error(
                    f"{taken[target.path]} and prompt {number} would both write {target.path}",
                    hint="use placeholders such as {index} or {slug} in -o, or distinct outputs",
                )
            if _exists(target) and not force:
                raise usage_error(
                    f"{target.path} exists",
                    hint="use --force to overwrite it, or --skip-existing to keep it",
                )
        else:
            target = Target(_free_name(target.path, taken), explicit=False)
        taken[target.path] = f"prompt {number}"  # type: ignore[index]
        resolved.append(target)
    return Planned(tuple(resolved))


def _exists(target: Target) -> bool:
    """For a default name, any image extension counts: the real type may differ from the guess."""
    assert target.path is not None  # noqa: S101
    if target.ext_fixed or target.explicit:
        return target.path.exists()
    stem = target.path.with_suffix("")
    return any(stem.with_name(stem.name + ext).exists() for ext in IMAGE_EXTS)


def numbered(path: Path, k: int) -> Path:
    """slug.png → slug-K.png: the one way a taken or extra name is numbered."""
    return path.with_name(f"{path.stem}-{k}{path.suffix}")


def _free_name(path: Path, taken: dict[Path, str], *, on_disk: bool = True) -> Path:
    """slug.png, else slug-2.png, slug-3.png, …: no name planned in this run (nor on disk)."""
    candidate, k = path, 1
    while candidate in taken or (on_disk and _exists(Target(candidate))):
        k += 1
        candidate = numbered(path, k)
    return candidate


def check_writable(plans: Sequence[Planned], *, create: bool) -> None:
    """Create missing output folders and refuse unwritable ones before any request is sent."""
    folders = sorted({t.path.parent for p in plans if not p.skip for t in p.targets if t.path})
    for folder in folders:
        if create:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise usage_error(f"cannot create output folder {folder}: {exc.strerror}") from None
        elif not folder.exists():
            continue
        if not folder.is_dir():
            raise usage_error(f"output folder {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise usage_error(f"output folder {folder} is not writable")
