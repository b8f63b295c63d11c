"""Each job's body, naming facts and upload files, checked before anything is sent; pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deerimg.errors import DeerimgError, usage_error
from deerimg.imaging import inputs
from deerimg.imaging.formats import IMAGE_EXTS, sniff
from deerimg.imaging.inputs import InputImage
from deerimg.jobs import combinations, paths, request
from deerimg.jobs.prompts import Job
from deerimg.jobs.request import RequestSpec
from deerimg.values import VALUE_SETS, is_count

Files = tuple[tuple[str, InputImage], ...]  # multipart field name, file


@dataclass(slots=True)
class Uploads:
    """`edit`'s inputs: the images, mask and markup given on the command line, for every prompt."""

    images: tuple[InputImage, ...] = ()
    mask: InputImage | None = None
    markup: InputImage | None = None


@dataclass(slots=True)
class Prepared:
    body: dict[str, Any]
    name: paths.NameInfo
    files: Files = ()


def uploads_of(images: Sequence[str], mask: Path | None, markup: Path | None = None) -> Uploads:
    """The command line's images, checked, and its mask and markup: checked against the first
    image, or, when every JSON line names its own images, checked alone now and against each
    line's first image as the line is prepared (_job_files)."""
    checked = inputs.check_images(list(images)) if images else ()

    def overlay(path: Path | None, role: str) -> InputImage | None:
        if path is None:
            return None
        return (
            inputs.check_mask(path, checked[0], role) if checked else inputs.check_image(path, role)
        )

    return Uploads(checked, overlay(mask, "mask"), overlay(markup, "markup"))


def check_edit_prompt(prompt: str) -> None:
    """`edit a.png b.png`: the prompt forgotten, the last image would be sent as the prompt text
    and paid for. Refused when the prompt names an image file that exists (finding 15)."""
    if prompt == "-" or len(prompt) > 1024 or "\n" in prompt:
        return
    path = Path(prompt)
    try:
        if not path.is_file():  # a regular file: reading its first bytes cannot block
            return
        with path.open("rb") as handle:
            head = handle.read(16)
    except (OSError, ValueError):
        return
    if path.suffix.lower() in IMAGE_EXTS or sniff(head) is not None:
        raise usage_error(
            f"the prompt '{prompt}' is an image file: did you forget the prompt?",
            hint="deerimg edit IMAGE... 'what to change'",
        )


def prepare(
    spec: RequestSpec, jobs: Sequence[Job], output: str | None, uploads: Uploads | None = None
) -> list[Prepared]:
    """Each job's body, naming facts and files; refuses bad values before anything is sent."""
    request.check_spec(spec)
    if uploads is not None:
        for name, how in (
            ("image", "the IMAGE arguments"),
            ("mask", "--mask"),
            ("markup", "--markup"),
        ):
            if name in spec.params:  # it would go as a text field beside the real files
                raise usage_error(f"-p {name}=… is not a file: give it with {how}")
    prepared = []
    for job in jobs:
        overrides = dict(job.overrides)
        files: Files = ()
        stem = None
        if uploads is not None:
            files, stem = _job_files(job, overrides, uploads)
        model = overrides.get("model", spec.model)
        job_spec = replace(spec, model=model) if model != spec.model else spec
        fmt = request.effective_format(job_spec, job.output or output)
        where = job.where
        # The rules run on what this job sends: a line's "model" or "output_format" can make a
        # combination the flags alone did not.
        combinations.check_job(
            job_spec,
            overrides,
            fmt,
            where=where,
            format_from_line=job.output is not None
            and fmt != request.effective_format(job_spec, output),
        )
        body = request.build_body(job_spec, job.prompt, fmt, overrides)
        sent_model = body.get("model")
        if isinstance(sent_model, str) and not sent_model.strip():  # -p model="" as well
            raise usage_error(f"{where}the model is empty: every request names a model")
        asked = body.get("output_format")
        fmt_final = asked if asked in VALUE_SETS["output_format"] else fmt
        if files:
            combinations.check_files([name for name, _ in files], str(model), fmt_final, where)
        count = request.count_of(body)
        if not is_count(count):
            raise usage_error(f"n must be a whole number from 1 to 10, not {count!r}")
        info = paths.NameInfo(job.prompt, count, str(model), fmt_final, job.output, stem, where)
        prepared.append(Prepared(body, info, files))
    return prepared


def _job_files(job: Job, overrides: dict[str, Any], uploads: Uploads) -> tuple[Files, str]:
    """The command line's images, mask and markup, or a JSON line's own `image`, `mask` and
    `markup`."""
    images = uploads.images
    overlays = {"mask": uploads.mask, "markup": uploads.markup}
    with _on_line(job.where):
        if "image" in overrides:
            named = overrides.pop("image")
            named = [named] if isinstance(named, str) else named
            if not isinstance(named, list) or not all(isinstance(p, str) for p in named):
                raise usage_error('"image" must be a path or a list of paths')
            images = inputs.check_images(named)
            for role, overlay in overlays.items():
                if overlay is not None and role not in overrides:
                    # The command line's mask (markup) was checked against the command line's
                    # first image; this line sends it with its own.
                    overlays[role] = inputs.check_mask(overlay.path, images[0], role)
        if not images:
            raise usage_error("no image to edit", hint="deerimg edit photo.png 'make it night'")
        for role in overlays:
            if role in overrides:
                path = overrides.pop(role)
                if not isinstance(path, str):
                    raise usage_error(f'"{role}" must be a path')
                overlays[role] = inputs.check_mask(path, images[0], role)
    field = "image[]" if len(images) > 1 else "image"
    files: Files = tuple((field, image) for image in images)
    files += tuple((role, overlay) for role, overlay in overlays.items() if overlay is not None)
    return files, inputs.default_edit_name(images[0])


@contextmanager
def _on_line(where: str) -> Iterator[None]:
    """A refused input names the JSON line that gave it (WHERE, "" for the command line)."""
    try:
        yield
    except DeerimgError as exc:
        if not where:
            raise
        raise DeerimgError(f"{where}{exc.message}", exc.exit_code, hint=exc.hint) from None


def body_to_send(prepared: Prepared, plan: paths.Planned) -> dict[str, Any]:
    """The body to send: with --skip-existing, n is only the images still missing."""
    if len(plan.targets) < prepared.name.count:
        return request.with_count(prepared.body, len(plan.targets))
    return prepared.body


def dry_run_record(url: str, prepared: Prepared, plan: paths.Planned) -> dict[str, Any]:
    record: dict[str, Any] = {"method": "POST", "url": url, "body": body_to_send(prepared, plan)}
    if prepared.files:
        record["files"] = [{"field": field, **image.describe()} for field, image in prepared.files]
    record["outputs"] = [str(t.path) if t.path else "-" for t in plan.targets]
    return record


def refuse_overwriting_inputs(prepared: Sequence[Prepared], plans: Sequence[paths.Planned]) -> None:
    """An edit never writes over one of its own inputs, even with --force.

    Every path a target may end at counts: `-o photo` is saved as photo.jpg when the answer is a
    JPEG, so it is refused next to photo.jpg before anything is paid for.
    """
    for item, plan in zip(prepared, plans, strict=True):
        sources = [image.path for _, image in item.files]
        for target in plan.targets:
            for path in paths.final_paths(target):
                if any(_same_file(path, source) for source in sources):
                    raise usage_error(
                        f"{path} is an input of this edit; choose another -o",
                        hint=None
                        if path == target.path
                        else "a name with no extension takes the type of the image that comes back",
                    )


def _same_file(path: Path, source: Path) -> bool:
    """PATH is SOURCE: the same name, or another name for it (a link, a case-insensitive disk)."""
    if path.resolve() == source.resolve():
        return True
    try:
        return path.samefile(source)
    except OSError:  # PATH does not exist, so it is no input
        return False
