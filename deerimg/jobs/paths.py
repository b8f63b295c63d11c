"""Every target planned before any request: names filled in, -2/-3, --force, --skip-existing."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deerimg.errors import usage_error
from deerimg.imaging.formats import EXTENSION, IMAGE_EXTS
from deerimg.imaging.provenance import sidecar_path
from deerimg.imaging.writer import numbered
from deerimg.jobs import disk, outputs
from deerimg.jobs.names import render, safe_model, slugify, told_apart


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
    where: str = ""  # "prompts.txt line 3: " for a prompt from a file's line, else ""
    on_each_model: bool = False  # the prompt runs on each of several -m models (issue 17)


def _crowded(infos: Sequence[NameInfo], several: bool) -> bool:
    """-o names more than one image of one model: with several models, -o gets the model, and
    then images of one model still share the name; with one, any two images do."""
    made: dict[str | None, int] = {}
    for info in infos:
        key = info.model if several else None
        made[key] = made.get(key, 0) + info.count
    return max(made.values(), default=0) > 1


def _explicit(path: Path, fmt_ext: str) -> Target:
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
    sidecar: bool = False,
    now: datetime | None = None,
) -> list[Planned]:
    """Name every image of the run, refusing clashes and existing files before anything is paid.

    SIDECAR: each image gets NAME.json too (--sidecar), which must be free as well.
    """
    now = now or datetime.now()
    total = sum(info.count for info in infos)
    if output == "-":
        if total != 1 or any(info.output for info in infos):
            raise usage_error(f"-o - writes one image to standard output; this run makes {total}")
        return [Planned((Target(None, explicit=True),))]
    stamp = {"date": now.strftime("%Y%m%d"), "time": now.strftime("%H%M%S")}
    several = any(info.on_each_model for info in infos)  # -m given more than once
    crowded = _crowded(infos, several)
    index = 0
    wanted: list[list[Target]] = []
    if output is not None:
        outputs.check_output(output, "-o ", output_dir)
    for info in infos:
        if info.output:
            outputs.check_line_output(info.output, info.where)
            outputs.check_output(info.output, f'{info.where}"output" ', output_dir)
        ext = EXTENSION.get(info.fmt or "png", "png")
        slug = slugify(info.prompt)
        targets: list[Target] = []
        for n in range(1, info.count + 1):
            index += 1
            values = {
                "index": str(index),
                "n": str(n),
                "slug": slug,
                "model": safe_model(info.model),
                "ext": ext,
                **stamp,
            }
            template = info.output or output
            by_model = info.on_each_model if info.output else several
            if template is not None:
                shared = crowded if not info.output else info.count > 1
                placeholder = ("{n}" if info.output else "{index}") if shared else None
                template = told_apart(template, by_model, placeholder)
                where = f'{info.where}"output" ' if info.output else "-o "
                path = outputs.rendered(render(template, values), where, output_dir, info.output)
                target = _explicit(path, ext)
            else:
                base = info.stem or slug
                base = f"{base}-{values['model']}" if by_model else base
                name = f"{base}.{ext}" if info.count == 1 else f"{base}-{n}.{ext}"
                target = Target(output_dir / name)
            targets.append(target)
        wanted.append(targets)
    # Every possible final path → which prompt planned it. Two targets clash when their possible
    # paths meet: a.png and a.jpg don't, but a name whose type the answer picks meets both.
    taken: dict[Path, str] = {}
    # Explicit names first: they never move, so a default name steps clear of all of them,
    # whichever prompt comes first.
    for number, targets in enumerate(wanted, start=1):
        for target in targets:
            if target.explicit:
                _claim(target, f"prompt {number}", taken)
    # Then default names, clear of every name planned so far but not yet of the disk: the same
    # prompts get the same names on every run, so --skip-existing finds each prompt's own files
    # (two prompts with one slug resume as slug.png and slug-2.png, whatever each one's type).
    for number, targets in enumerate(wanted, start=1):
        for i, target in enumerate(targets):
            if not target.explicit and target.path is not None:
                target = Target(_free_name(target.path, taken, on_disk=False))
                _claim(target, f"prompt {number}", taken)
                targets[i] = target
    for targets in wanted:
        for target in targets:
            for path in final_paths(target):
                disk.check_length(path)
                if sidecar:
                    disk.check_length(sidecar_path(path))
    return [
        _resolve(targets, number, taken, force=force, skip_existing=skip_existing, sidecar=sidecar)
        for number, targets in enumerate(wanted, start=1)
    ]


def _claim(target: Target, owner: str, taken: dict[Path, str]) -> None:
    """Reserve every path TARGET may end at, refusing one another prompt reserved already."""
    for path in final_paths(target):
        if path in taken:
            raise usage_error(
                f"{taken[path]} and {owner} would both write {path}",
                hint="use placeholders such as {index} or {slug} in -o, or distinct outputs",
            )
        taken[path] = owner


def _resolve(
    targets: list[Target],
    number: int,
    taken: dict[Path, str],
    *,
    force: bool,
    skip_existing: bool,
    sidecar: bool,
) -> Planned:
    """Skip, refuse or move one prompt's planned targets for what is on disk.

    With --skip-existing a prompt whose images all exist is skipped, and one with some of them
    (an -n 4 answer cut short) keeps those and plans only the rest: it asks for fewer images.
    An empty file is no image: it does not count as one, and it is cleared (disk.clear_empty).
    """
    if skip_existing and targets:
        missing = [t for t in targets if not _done(t)]
        if not missing:
            return Planned(tuple(targets), skip=True)
        targets = missing
    resolved: list[Target] = []
    for target in targets:
        assert target.path is not None  # noqa: S101 - stdout targets return early in plan()
        if target.explicit:
            for path in final_paths(target):
                disk.refuse_taken(path, force=force, empty_is_free=skip_existing)
                if sidecar:
                    disk.refuse_taken(sidecar_path(path), force=force)
        else:
            # A name taken on disk moves on, clear of every name planned in this run.
            own = frozenset(final_paths(target))
            path = _free_name(
                target.path, taken, own=own, empty_is_free=skip_existing, sidecar=sidecar
            )
            if path != target.path:
                target = Target(path)
                _claim(target, f"prompt {number}", taken)  # free, as _free_name just found
        resolved.append(target)
    return Planned(tuple(resolved))


def partial_path(path: Path, k: int, ext: str) -> Path:
    """Where the Kth partial image (1-based) of the image at PATH goes: NAME.partial-K.EXT."""
    return path.with_name(f"{path.with_suffix('').name}.partial-{k}.{ext}")


def final_paths(target: Target) -> tuple[Path, ...]:
    """Every path TARGET's image may end at, its planned path first.

    With no fixed extension, the answer's real type picks it (photo.png may end as photo.jpg).
    """
    if target.path is None:
        return ()
    if target.ext_fixed:
        return (target.path,)
    stem = target.path.with_suffix("")
    others = (stem.with_name(stem.name + ext) for ext in IMAGE_EXTS)
    return (target.path, *(p for p in others if p != target.path))


def _done(target: Target) -> bool:
    """An image is already at one of TARGET's possible final paths (--skip-existing).

    Without a fixed extension any image extension counts, explicit or not: the real type may
    differ from the guess (-o out saved out.jpg).
    """
    return any(disk.is_image(p) for p in final_paths(target))


def _taken(path: Path, *, empty_is_free: bool = False, sidecar: bool = False) -> bool:
    """Something is at PATH (a link too, dangling or not), or at its sidecar NAME.json."""
    info = disk.entry(path)
    if info is not None and not (empty_is_free and disk.is_empty_file(info)):
        return True
    return sidecar and disk.entry(sidecar_path(path)) is not None


def _free_name(
    path: Path,
    taken: Container[Path],
    *,
    on_disk: bool = True,
    own: Container[Path] = frozenset(),
    start: int = 1,
    empty_is_free: bool = False,
    sidecar: bool = False,
) -> Path:
    """slug.png, else slug-2.png, slug-3.png, …: none of its possible final paths is planned in
    this run (but for OWN, the target's own), nor on disk (with its sidecar, for --sidecar)."""
    candidate, k = path if start == 1 else numbered(path, start), start

    def clashes(name: Path) -> bool:
        possible = final_paths(Target(name))
        if any(p in taken and p not in own for p in possible):
            return True
        return on_disk and any(
            _taken(p, empty_is_free=empty_is_free, sidecar=sidecar) for p in possible
        )

    while clashes(candidate):
        k += 1
        candidate = numbered(path, k)
    return candidate


def extra_name(last: Path, k: int, avoid: Container[Path]) -> Path:
    """The name of an image the API sent beyond those asked for: LAST-K, or the next number
    whose possible paths nobody planned (AVOID) and nothing on disk holds."""
    return _free_name(last, avoid, start=k)
