"""Each job's body, naming facts and upload files, checked before anything is sent; pure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from deerimg.errors import DeerimgError, usage_error
from deerimg.families import GENERIC, Family, family_of
from deerimg.imaging import inputs
from deerimg.imaging.formats import IMAGE_EXTS, sniff
from deerimg.imaging.inputs import InputImage
from deerimg.jobs import combinations, paths, references, request
from deerimg.jobs.models import check_models
from deerimg.jobs.prompts import Job
from deerimg.jobs.references import Files
from deerimg.jobs.request import RequestSpec
from deerimg.routes import TASK_ROUTES, Endpoint, sent, url_of
from deerimg.values import VALUE_SETS, is_count


@dataclass(slots=True)
class Uploads:
    """The command line's images: `edit`'s (with its mask and markup), or `generate`'s
    references (-i)."""

    images: tuple[InputImage, ...] = ()
    mask: InputImage | None = None
    markup: InputImage | None = None
    urls: tuple[str, ...] = ()  # -i URLs, passed on as given
    edit: bool = True  # `edit`: an image is needed, and the first names the default output


@dataclass(slots=True)
class Prepared:
    body: dict[str, Any]
    name: paths.NameInfo
    files: Files = ()
    endpoint: Endpoint = "generations"  # "edits" when it uploads files; "gemini": Google's
    notes: tuple[str, ...] = ()  # what was mapped or left out, said once a run
    split: bool = False  # one request an image: -n 3 is three requests of the same body
    actions: tuple[str, ...] = ()  # Midjourney: the U buttons run on each grid, one image each


def uploads_of(images: Sequence[str], mask: Path | None, markup: Path | None = None) -> Uploads:
    """The command line's images, checked, and its mask and markup: checked against the first
    image, or, when every JSON line names its own images, checked alone now and against each
    line's first image as the line is prepared (_job_images)."""
    checked = inputs.check_images(list(images)) if images else ()

    def overlay(path: Path | None, role: str) -> InputImage | None:
        if path is None:
            return None
        return (
            inputs.check_mask(path, checked[0], role) if checked else inputs.check_image(path, role)
        )

    return Uploads(checked, overlay(mask, "mask"), overlay(markup, "markup"))


def references_of(given: Sequence[str]) -> Uploads:
    """`generate -i`: reference files checked, URLs kept as given."""
    refs = references.check_references(given)
    return Uploads(refs.files, urls=refs.urls, edit=False)


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
    check_models(spec, jobs)
    if uploads is not None:
        for name, how in (
            ("image", "the IMAGE arguments or -i"),
            ("mask", "--mask"),
            ("markup", "--markup"),
        ):
            if name in spec.params:  # it would go beside the real files, or instead of them
                raise usage_error(f"-p {name}=… is not a file: give it with {how}")
    prepared = []
    for job in jobs:
        overrides = dict(job.overrides)
        refs = references.References()
        overlays: dict[str, InputImage] = {}
        stem = None
        if uploads is not None or "image" in overrides:
            refs, overlays = _job_images(job, overrides, uploads or Uploads(edit=False))
            if uploads is not None and uploads.edit:
                stem = inputs.default_edit_name(refs.files[0]) if refs.files else "edit"
        model = overrides.get("model", job.model or spec.model)
        job_spec = replace(spec, model=model) if model != spec.model else spec
        where = job.where
        family = family_of(model) if isinstance(model, str) else GENERIC
        notes: list[str] = []
        # -n 3: three requests of one image (a stream's partials say not which image they are)
        split = family.count in ("one", "requests") or bool(spec.partial_images and family.streams)
        if family.route == "gemini":  # Google's own body
            from deerimg.jobs import gemini  # imported where used: most runs need neither

            body, notes = gemini.gemini_body(job_spec, family, job.prompt, overrides)
            fmt_final = None
        elif family.route in TASK_ROUTES:  # submitted, polled, downloaded
            from deerimg.jobs import tasks

            body, notes = tasks.task_body(job_spec, family, job.prompt, overrides)
            fmt_final = body.get("output_format") or body.get("input", {}).get("output_format")
        else:
            body, fmt_final = _images_body(job, job_spec, overrides, output)
            if split:
                body.pop("n", None)
        actions = _actions(spec.upscale, family)
        count = overrides.get("n", spec.n or 1) if split else request.count_of(body)
        sent_model = body.get("model")
        if isinstance(sent_model, str) and not sent_model.strip():  # -p model="" as well
            raise usage_error(f"{where}the model is empty: every request names a model")
        if not is_count(count):
            raise usage_error(f"n must be a whole number from 1 to 10, not {count!r}")
        own = {"image", "mask", "markup"} & set(job.overrides)
        with _on_line(where if own else ""):
            placed = references.place(family_of(str(sent_model)), refs, overlays, body, count)
        if placed.endpoint == "edits":
            combinations.check_files(
                [name for name, _ in placed.files], str(model), fmt_final, where
            )
        per_request = 1 + len(actions)  # Midjourney's grid, then each upscale of it
        info = paths.NameInfo(
            job.prompt, count * per_request, str(model), fmt_final, job.output, stem, where
        )
        info.on_each_model = job.model is not None  # one of several -m: names get the model
        notes += placed.notes
        if spec.partial_images and not placed.body.get("stream"):
            notes.append(f"{family.title} streams no partial images: --partial-images not sent")
        prepared.append(
            Prepared(placed.body, info, placed.files, placed.endpoint, tuple(notes), split, actions)
        )
    return prepared


def _actions(upscale: str | None, family: Family) -> tuple[str, ...]:
    if upscale is None:
        return ()
    from deerimg.jobs import tasks

    return tasks.actions_of(upscale, family)


def _images_body(
    job: Job, spec: RequestSpec, overrides: dict[str, Any], output: str | None
) -> tuple[dict[str, Any], str | None]:
    """The JSON body of /v1/images/*, checked: the combination rules run on what this job
    sends, since a line's "model" or "output_format" can make one the flags alone did not."""
    fmt = request.effective_format(spec, job.output or output)
    combinations.check_job(
        spec,
        overrides,
        fmt,
        where=job.where,
        format_from_line=job.output is not None and fmt != request.effective_format(spec, output),
    )
    body = request.build_body(spec, job.prompt, fmt, overrides)
    asked = body.get("output_format")
    return body, asked if asked in VALUE_SETS["output_format"] else fmt


def _job_images(
    job: Job, overrides: dict[str, Any], uploads: Uploads
) -> tuple[references.References, dict[str, InputImage]]:
    """The command line's images, mask and markup, or a JSON line's own `image`, `mask` and
    `markup`; the overlays (mask, markup) given, by role."""
    refs = references.References(uploads.images, uploads.urls)
    overlays = {"mask": uploads.mask, "markup": uploads.markup}
    with _on_line(job.where):
        if "image" in overrides:
            named = overrides.pop("image")
            named = [named] if isinstance(named, str) else named
            if not isinstance(named, list) or not all(isinstance(p, str) for p in named):
                raise usage_error('"image" must be a path or a list of paths')
            if uploads.edit:
                refs = references.References(inputs.check_images(named))
            else:
                refs = references.check_references(named)
            for role, overlay in overlays.items():
                if overlay is not None and role not in overrides and refs.files:
                    # The command line's mask (markup) was checked against the command line's
                    # first image; this line sends it with its own.
                    overlays[role] = inputs.check_mask(overlay.path, refs.files[0], role)
        if uploads.edit and not refs:
            raise usage_error("no image to edit", hint="deerimg edit photo.png 'make it night'")
        for role in overlays:
            if uploads.edit and role in overrides:
                path = overrides.pop(role)
                if not isinstance(path, str):
                    raise usage_error(f'"{role}" must be a path')
                if not refs.files:
                    raise usage_error(f'"{role}" goes with an image file, not a URL')
                overlays[role] = inputs.check_mask(path, refs.files[0], role)
    return refs, {role: image for role, image in overlays.items() if image is not None}


@contextmanager
def _on_line(where: str) -> Iterator[None]:
    """A refused input names the JSON line that gave it (WHERE, "" for the command line)."""
    try:
        yield
    except DeerimgError as exc:
        if not where:
            raise
        raise DeerimgError(f"{where}{exc.message}", exc.exit_code, hint=exc.hint) from None


def body_to_send(prepared: Prepared, targets: Sequence[paths.Target]) -> dict[str, Any]:
    """The body of the request that makes TARGETS: with --skip-existing, n is only the images
    still missing (a family that makes one image a request sends one request each)."""
    if not prepared.split and len(targets) < prepared.name.count:
        return request.with_count(prepared.body, len(targets))
    return prepared.body


INLINE = {"generations": "data URL in the JSON body", "gemini": "inline_data part of contents"}


def dry_run_record(
    api_root: str, prepared: Prepared, targets: Sequence[paths.Target]
) -> dict[str, Any]:
    """What --dry-run prints of one request: its URL, body, files and outputs. A file that goes
    inline (a data URL in the JSON body) is named, not spelled out: it may be megabytes."""
    body = body_to_send(prepared, targets)
    url = url_of(api_root, prepared.endpoint, str(body.get("model")))
    record: dict[str, Any] = {"method": "POST", "url": url, "body": sent(prepared.endpoint, body)}
    how = {"as": INLINE[prepared.endpoint]} if prepared.endpoint in INLINE else {}
    if prepared.actions:
        record["then"] = [f"POST /mj/submit/action {label}" for label in prepared.actions]
    if prepared.files:
        record["files"] = [
            {"field": field, **image.describe(), **how} for field, image in prepared.files
        ]
    record["outputs"] = [str(t.path) if t.path else "-" for t in targets]
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
