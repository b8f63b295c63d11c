"""`generate` and `edit` end to end: plan, refuse or dry-run, run the tasks, tell the summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from deerimg import prices
from deerimg.errors import ExitCode, usage_error
from deerimg.events import DryRun, Event, Finished, Note, Starting, Summary
from deerimg.families import family_of
from deerimg.imaging import writer
from deerimg.jobs import disk, paths
from deerimg.jobs.paths import Target
from deerimg.jobs.prepare import (
    Prepared,
    Uploads,
    body_to_send,
    dry_run_record,
    prepare,
    refuse_overwriting_inputs,
)
from deerimg.jobs.prompts import Job
from deerimg.jobs.request import RequestSpec
from deerimg.prices import Estimate
from deerimg.run import runner
from deerimg.run.tasks import RunPolicy, Task
from deerimg.settings.resolve import Settings


def run_images(
    settings: Settings,
    spec: RequestSpec,
    jobs: Sequence[Job],
    policy: RunPolicy,
    emit: Callable[[Event], None],
    *,
    uploads: Uploads | None = None,
    stdout_is_terminal: bool = False,
) -> int:
    """Every image of JOBS planned, then sent (or printed, with --dry-run); the exit code."""
    if policy.output == "-" and policy.json_lines:
        raise usage_error("--json prints records on standard output; -o - prints image bytes there")
    if policy.output == "-" and not policy.dry_run and stdout_is_terminal:
        # The image would be paid for and then scrolled past as unreadable bytes.
        raise usage_error(
            "-o - writes the image's bytes to standard output, which is a terminal",
            hint="redirect it (-o - > out.png) or pipe it (-o - | display), or use -o out.png",
        )
    if not policy.dry_run:
        settings.require_key()
    started = time.time()  # the wall clock, as files' times are: what is older is another run's
    prepared = prepare(spec, jobs, policy.output, uploads)
    plans = paths.plan(
        [p.name for p in prepared],
        policy.output,
        settings.output_dir,
        force=policy.force,
        skip_existing=policy.skip_existing,
        sidecar=policy.sidecar,
    )
    refuse_overwriting_inputs(prepared, plans)
    for model in dict.fromkeys(str(p.body.get("model")) for p in prepared):
        retired = family_of(model).retired
        if retired:  # sent all the same: a gateway may still serve it, or map it to another
            emit(Note(f"{retired}; sent as asked"))
    for note in dict.fromkeys(note for p in prepared for note in p.notes):
        emit(Note(note))
    requests = list(_requests(jobs, prepared, plans))
    estimates = [_estimate(p, made) for _job, p, made in requests]
    if policy.dry_run:
        for (_job, p, made), estimate in zip(requests, estimates, strict=True):
            record = dry_run_record(settings.api_root, p, made)
            record.update(estimate_usd=estimate.usd, estimate=estimate.how)
            emit(DryRun(record))
        emit(Note(estimate_line(estimates), plain=True))
        return ExitCode.OK
    if policy.max_cost is not None:
        _refuse_unknown_estimates(requests, estimates)
    targets = [t.path for plan in plans for t in plan.targets if t.path is not None]
    disk.check_writable(
        t.path.parent for plan in plans if not plan.skip for t in plan.targets if t.path
    )
    _clear_what_runs_left(plans, targets, started, emit, skip_existing=policy.skip_existing)
    return _run(settings, spec, jobs, prepared, requests, estimates, plans, policy, emit)


def _requests(
    jobs: Sequence[Job], prepared: Sequence[Prepared], plans: Sequence[paths.Planned]
) -> Iterator[tuple[Job, Prepared, tuple[Target, ...]]]:
    """Each request still to send, and the images it makes: one a request where the family
    makes one image a request (Gemini: -n 3 is three requests), else all of its prompt's."""
    for job, p, plan in zip(jobs, prepared, plans, strict=True):
        if plan.skip:
            continue
        if p.split:  # one request an image (Midjourney: a grid and its upscales)
            size = 1 + len(p.actions)
            targets = plan.targets
            yield from ((job, p, targets[k : k + size]) for k in range(0, len(targets), size))
        else:
            yield job, p, plan.targets


def _estimate(prepared: Prepared, targets: Sequence[Target]) -> Estimate:
    """What the request that makes TARGETS should cost (prices.estimate_of)."""
    body = prepared.body
    size, quality = body.get("size"), body.get("quality")
    return prices.estimate_of(
        str(body.get("model")),
        size if isinstance(size, str) else None,
        quality if isinstance(quality, str) else None,
        len(targets),
    )


def estimate_line(estimates: Sequence[Estimate]) -> str:
    """The dry run's last word: the estimated total, and what has no estimate."""
    known = [e.usd for e in estimates if e.usd is not None]
    line = f"estimated cost of {len(estimates)} request(s): ${sum(known):.4f}"
    if len(known) < len(estimates):
        line += f" + {len(estimates) - len(known)} with no estimate (no price: deerimg prices)"
    return line


def _refuse_unknown_estimates(
    requests: Sequence[tuple[Job, Prepared, tuple[Target, ...]]], estimates: Sequence[Estimate]
) -> None:
    """--max-cost can only keep a budget it can count: every request needs an estimate."""
    for (_job, p, _targets), estimate in zip(requests, estimates, strict=True):
        if estimate.usd is None:
            model = str(p.body.get("model"))
            raise usage_error(
                f"--max-cost needs an estimate of every request: {model} has none ({estimate.how})",
                hint=f'set its price in the config file: [prices."{model}"] per_image = …',
            )


def _clear_what_runs_left(
    plans: Sequence[paths.Planned],
    targets: Sequence[Path],
    started: float,
    emit: Callable[[Event], None],
    *,
    skip_existing: bool,
) -> None:
    """Remove the temporary files earlier runs left where this one writes (a kill -9 or a power
    cut), and with --skip-existing the empty names they claimed at targets still to be made."""
    for folder in sorted({t.parent for t in targets}):
        removed = writer.clear_stale_temporaries(folder, started)
        if removed:
            emit(Note(f"removed {len(removed)} temporary file(s) left in {folder} by an earlier "
                      "run that did not finish"))  # fmt: skip
    if skip_existing:
        todo = (
            p for plan in plans if not plan.skip for t in plan.targets for p in paths.final_paths(t)
        )
        disk.clear_empty(todo, started)


def _run(
    settings: Settings,
    spec: RequestSpec,
    jobs: Sequence[Job],
    prepared: Sequence[Prepared],
    requests: Sequence[tuple[Job, Prepared, tuple[Target, ...]]],
    estimates: Sequence[Estimate],
    plans: Sequence[paths.Planned],
    policy: RunPolicy,
    emit: Callable[[Event], None],
) -> int:
    """Send the tasks still to do; the exit code."""
    tasks = [
        Task(
            number,
            job,
            body_to_send(p, targets),
            targets,
            p.files,
            p.endpoint,
            actions=p.actions,
            estimate_usd=estimate.usd,
        )
        for number, ((job, p, targets), estimate) in enumerate(
            zip(requests, estimates, strict=True), start=1
        )
    ]
    skipped = sum(1 for plan in plans if plan.skip)
    by_model = any(job.model is not None for job in jobs)  # -m given more than once
    if not tasks:
        summary = Summary(prompts=skipped, skipped=skipped)
    else:
        models = ", ".join(dict.fromkeys(task.job.model or spec.model for task in tasks))
        emit(Starting(len(tasks), tasks[0].job.prompt, models))
        planned = frozenset(
            path for plan in plans for t in plan.targets for path in paths.final_paths(t)
        )
        policy = replace(policy, planned=planned, by_model=by_model)
        summary = runner.run(tasks, settings, emit, policy=policy, skipped=skipped)
    if by_model:
        _count_per_model(summary, prepared, plans)
    emit(Finished(summary))
    return summary.exit_code


def _count_per_model(
    summary: Summary, prepared: Sequence[Prepared], plans: Sequence[paths.Planned]
) -> None:
    """With several -m: each model's images saved, prompts failed and skipped, in run order."""
    counted = summary.models
    summary.models = {}
    for p, plan in zip(prepared, plans, strict=True):
        model = str(p.body.get("model"))
        summary.tally(model, "skipped", int(plan.skip))
        for what, count in counted.pop(model, {}).items():
            summary.tally(model, what, count)
