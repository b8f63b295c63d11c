"""`generate` end to end: bodies and targets planned, refused or dry-run, then run and reported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from deerimg import paths, request
from deerimg.errors import ExitCode, usage_error
from deerimg.prompts import Job
from deerimg.report import Report
from deerimg.request import RequestSpec
from deerimg.settings import Settings


@dataclass(frozen=True, slots=True)
class RunOptions:
    output: str | None = None
    force: bool = False
    skip_existing: bool = False
    fail_fast: bool = False
    dry_run: bool = False
    json_lines: bool = False
    quiet: bool = False
    debug: bool = False  # tracebacks of failed prompts too


def prepare(
    spec: RequestSpec, jobs: Sequence[Job], output: str | None
) -> tuple[list[dict[str, Any]], list[paths.NameInfo]]:
    """Each job's JSON body and what naming needs of it; refuses bad values before anything."""
    request.check_spec(spec)
    bodies, infos = [], []
    for job in jobs:
        model = job.overrides.get("model", spec.model)
        job_spec = replace(spec, model=model) if model != spec.model else spec
        fmt = request.effective_format(job_spec, job.output or output)
        request.check_combination(job_spec, fmt)
        body = request.build_body(job_spec, job.prompt, fmt, job.overrides)
        asked = body.get("output_format")
        fmt_final = asked if asked in request.VALUE_SETS["output_format"] else fmt
        count = body.get("n", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 10:
            raise usage_error(f"n must be a whole number from 1 to 10, not {count!r}")
        bodies.append(body)
        infos.append(paths.NameInfo(job.prompt, count, str(model), fmt_final, job.output))
    return bodies, infos


def generate(
    settings: Settings, spec: RequestSpec, jobs: Sequence[Job], options: RunOptions
) -> int:
    from deerimg import runner

    if options.output == "-" and options.json_lines:
        raise usage_error("--json prints records on standard output; -o - prints image bytes there")
    if not options.dry_run:
        settings.require_key()
    bodies, infos = prepare(spec, jobs, options.output)
    plans = paths.plan(
        infos,
        options.output,
        settings.output_dir,
        force=options.force,
        skip_existing=options.skip_existing,
    )
    report = Report(
        json_lines=options.json_lines,
        quiet=options.quiet,
        paths_on_stdout=options.output != "-",
        debug=options.debug,
    )
    url = f"{settings.api_root}/images/generations"
    if options.dry_run:
        report.dry_run(
            {
                "method": "POST",
                "url": url,
                "body": body,
                "outputs": [str(t.path) if t.path else "-" for t in plan.targets],
            }
            for body, plan in zip(bodies, plans, strict=True)
            if not plan.skip
        )
        return ExitCode.OK
    paths.check_writable(plans, create=True)
    tasks = [
        runner.Task(number, job, body, plan.targets, force=options.force)
        for number, (job, body, plan) in enumerate(zip(jobs, bodies, plans, strict=True), start=1)
        if not plan.skip
    ]
    skipped = len(plans) - len(tasks)
    if not tasks:
        report.summary(runner.Summary(prompts=skipped, skipped=skipped))
        return ExitCode.OK
    report.start(len(tasks), tasks[0].job.prompt, spec.model)
    try:
        summary = runner.run(tasks, settings, report, fail_fast=options.fail_fast, skipped=skipped)
    finally:
        report.stop()
    report.summary(summary)
    return summary.exit_code
