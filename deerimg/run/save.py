"""One task sent in one of the -j slots, then each image decoded, labelled and written."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg.errors import DeerimgError
from deerimg.events import Event, ImageRecord, Note, RetryEvent, Retrying, Saved
from deerimg.imaging import embed, images, provenance, writer
from deerimg.imaging.containers import has_c2pa
from deerimg.imaging.formats import EXTENSION, format_of_name, sniff_any
from deerimg.jobs import request
from deerimg.jobs.paths import Target, extra_name, final_paths
from deerimg.routes import recorded
from deerimg.run import sending as sending_
from deerimg.run.partials import Partials
from deerimg.run.tasks import RunPolicy, Task
from deerimg.wire import links
from deerimg.wire.client import ApiClient, ApiResult
from deerimg.wire.responses import server_text

if TYPE_CHECKING:
    pass


def send_task(
    client: ApiClient,
    task: Task,
    slots: threading.Semaphore,
    policy: RunPolicy,
    emit: Callable[[Event], None],
    paid: Callable[[ApiResult], None] = lambda _result: None,
    sending: Callable[[], None] = lambda: None,
    submitted: Callable[[str, str | None], None] = lambda _task, _request: None,
) -> Iterator[Saved]:
    """Send one task in one of the -j slots, then write each image as soon as it is decoded.

    SENDING is told when the task has its slot and its request goes out; PAID is told of the
    answer before any image is written.
    """

    def on_retry(retry: Retrying) -> None:
        emit(RetryEvent(task.job.where, retry))

    partials = None
    if task.body.get("stream") is True:  # --partial-images: one image a request, streamed
        asked = task.body.get("partial_images")
        partials = Partials(
            task.number,
            task.targets[0],
            emit,
            files=policy.partial_files,
            force=policy.force,
            limit=asked
            if isinstance(asked, int) and not isinstance(asked, bool)
            else request.MAX_PARTIALS,
        )
    try:
        result = sending_.request(client, task, slots, emit, on_retry, sending, submitted, partials)
        if partials is not None and not result.streamed:
            emit(Note("the API answered without streaming (a relay that drops `stream`): no "
                      "partial images, the final image as usual", once=True))  # fmt: skip
        yield from _save_all(client, task, result, policy, emit, paid, on_retry, partials)
    finally:
        if partials is not None:
            partials.remove()  # the request failed: no partial stands in for the image


def _save_all(
    client: ApiClient,
    task: Task,
    result: ApiResult,
    policy: RunPolicy,
    emit: Callable[[Event], None],
    paid: Callable[[ApiResult], None],
    on_retry: Callable[[Retrying], None],
    partials: Partials | None,
) -> Iterator[Saved]:
    """Each image of RESULT written to its target, or kept under a numbered name."""
    paid(result)
    targets = list(task.targets)
    avoid: set[Path] | None = None  # made only when the API sends more images than asked for
    for k, item in enumerate(result.data):
        if k < len(targets):
            target = targets[k]
        elif targets[-1].stdout:
            # -o - has room for one image: say what was thrown away rather than fail the one
            # that was asked for and written whole.
            where = f" (request id {result.request_id})" if result.request_id else ""
            emit(Note(f"the API sent {len(result.data)} images; -o - writes one to standard "
                      f"output: {len(result.data) - k} more not kept{where}"))  # fmt: skip
            return
        else:
            if avoid is None:
                avoid = set(policy.planned)  # every target of the run, this task's among them
                where = f" (request id {result.request_id})" if result.request_id else ""
                emit(Note(f"{task.job.where}the API sent {len(result.data)} images for the "
                          f"{len(targets)} asked; the {len(result.data) - k} more were paid for "
                          f"and are kept under numbered names{where}"))  # fmt: skip
            target = _extra(targets[-1], k + 1, avoid)
            avoid.update(final_paths(target))
        saved = save_image(
            client, task, result, item, target, first=(k == 0), policy=policy, on_retry=on_retry
        )
        if partials is not None:
            partials.remove()  # the final image is in place
        yield saved
    if len(result.data) < len(targets) and request.asks_up_to(task.body):
        # Seedream's group mode makes "up to" max_images: fewer is its answer, not a failure.
        where = f" (request id {result.request_id})" if result.request_id else ""
        emit(Note(f"{task.job.where}the API sent {len(result.data)} of the up to {len(targets)} "
                  f"images asked for{where}; --skip-existing asks again for the rest"))  # fmt: skip
    elif len(result.data) < len(targets):
        # Exit 0 means every image was saved; the re-run with --skip-existing asks for the rest.
        raise DeerimgError(
            f"the API sent {len(result.data)} of the {len(targets)} images asked for",
            request_id=result.request_id,
            hint="run it again with --skip-existing for the rest",
        )


def _extra(last: Target, k: int, avoid: Set[Path]) -> Target:
    """More images than asked for: keep them (they were paid for) under a numbered default name
    that no prompt of the run planned (AVOID), so no re-run takes one for another prompt's."""
    assert last.path is not None  # noqa: S101 - stdout targets are handled in _generate
    return Target(extra_name(last.path, k, avoid))


def save_image(
    client: ApiClient,
    task: Task,
    result: ApiResult,
    item: dict[str, Any],
    target: Target,
    *,
    first: bool,
    policy: RunPolicy,
    on_retry: Callable[[Retrying], None] | None = None,
) -> Saved:
    data = _image_bytes(client, item, result, on_retry)
    fmt = sniff_any(data)
    if fmt is None:
        raise DeerimgError(
            "the response is not a PNG, JPEG, WebP, GIF or SVG image", request_id=result.request_id
        )
    if images.cut_off(data, fmt):
        raise DeerimgError(
            f"the response's {fmt.upper()} image is cut off ({len(data):,} bytes, no end)",
            request_id=result.request_id,
        )
    pixels = images.pixel_size(data[: 1 << 16])
    warning = None
    path = target.path
    if path is not None:
        real_ext = EXTENSION[fmt]
        if not target.ext_fixed:
            path = path.with_suffix(f".{real_ext}")
        elif EXTENSION.get(format_of_name(path.name) or "") != real_ext:
            warning = f"{path} holds {fmt.upper()} bytes, not what its name says"
    revised = item.get("revised_prompt")
    revised = server_text(revised, one_line=False) if isinstance(revised, str) else None
    source = links.source_of(item, str(task.body.get("model", "")), result.received)
    made = None
    c2pa = False
    embedded = None
    if policy.metadata or policy.sidecar:
        made = provenance.build_record(
            recorded(task.endpoint, task.body, task.job.prompt),
            revised_prompt=revised,
            request_id=result.request_id,
            reported=result.fields,
            source=source,
        )
    if policy.metadata and made is not None:
        # Signed content credentials come first: one changed byte would break them.
        c2pa = has_c2pa(data)
        if not c2pa:
            try:
                embedded = embed.embed_parts(data, fmt, made)
            except ValueError:
                embedded = None
    parts = embedded if embedded is not None else [data]
    if path is None:
        size = writer.write_stdout(parts)
        final = None
    else:
        # A name taken after the run checked it (another run at the same time) moves on to
        # PATH-2, explicit or not: the image is paid for, and deleting it helps nobody.
        final, size = writer.write_file(
            parts, path, replace=target.explicit and policy.force, rename_on_clash=True
        )
        if target.explicit and final != path:
            moved = f"{path} was created by someone else meanwhile; this image was kept as {final}"
            warning = f"{warning}; {moved}" if warning else moved
    was_embedded = embedded is not None
    del parts, embedded, data  # the image is freed here, not when the whole prompt is done
    kind = "embedded" if was_embedded else None
    wants_sidecar = made is not None and (policy.sidecar or (policy.metadata and not was_embedded))
    if final is not None and made is not None and wants_sidecar:
        try:
            writer.write_file(
                [provenance.sidecar_bytes(made)],
                provenance.sidecar_path(final),
                replace=policy.force,
                rename_on_clash=False,
            )
            kind = kind or "sidecar"
        except DeerimgError as error:
            warning = f"provenance sidecar not written: {error.message}"
    body = task.body
    record = ImageRecord(
        path=str(final) if final is not None else None,
        prompt=task.job.prompt,
        model=body.get("model"),
        size=result.fields.get("size", body.get("size")),
        quality=result.fields.get("quality", body.get("quality")),
        output_format=fmt,
        bytes=size,
        revised_prompt=revised,
        usage=result.usage,
        request_id=result.request_id,
        elapsed=result.elapsed,
        svg_usage=result.svg_usage,
        source_url=source["url"] if source else None,
        url_expires=source["expires"] if source else None,
        task_id=result.task_id,
        **_cost_fields(result),
    )
    return Saved(record, pixels, first, warning, kind, c2pa, task.number)


def _cost_fields(result: ApiResult) -> dict[str, Any]:
    """An image's share of its answer's cost (counted by the runner when the answer came)."""
    cost = result.cost
    if cost is None or cost.usd is None:
        return {"cost_source": "unknown"}
    share = round(cost.usd / max(1, len(result.data)), 6)
    return {"cost_usd": share, "cost_source": cost.source, "request_cost": cost.usd}


def _image_bytes(
    client: ApiClient,
    item: dict[str, Any],
    result: ApiResult,
    on_retry: Callable[[Retrying], None] | None = None,
) -> bytes | bytearray:
    """The image: already decoded by the client, base64 decoded piece by piece (other workers
    get turns), or downloaded.

    The image or its base64 is taken out of the answer, so it is freed as soon as it is written
    rather than when the whole prompt is done (issue 10: memory must not grow with the batch).
    """
    image = item.pop("image", None)  # decoded by the client over its answer
    if isinstance(image, bytearray):
        return image
    b64 = item.pop("b64_json", None)
    if isinstance(b64, (str, memoryview)):
        try:
            return images.decode(b64)
        except DeerimgError as error:
            error.request_id = result.request_id
            raise
    if isinstance(item.get("url"), str):
        try:
            return client.download(item["url"], on_retry)
        except DeerimgError as error:
            error.request_id = error.request_id or result.request_id  # the API's, not the CDN's
            raise
    raise DeerimgError(
        "the response's image has neither b64_json nor url", request_id=result.request_id
    )
