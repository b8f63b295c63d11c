"""One prompt on several models (issue 17): -m given more than once multiplies the jobs; pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from deerimg.jobs import request
from deerimg.jobs.prompts import Job
from deerimg.jobs.request import RequestSpec


def distinct(models: Sequence[str]) -> list[str]:
    """MODELS in the order given, each once."""
    return list(dict.fromkeys(models))


def repeated(models: Sequence[str]) -> list[str]:
    """The models given more than once (-m a -m a): each is used once, and a note says so."""
    return distinct([model for i, model in enumerate(models) if model in models[:i]])


def on_models(jobs: Sequence[Job], models: Sequence[str]) -> list[Job]:
    """Each job on each of MODELS, prompt-major (prompt 1 on A, prompt 1 on B, prompt 2 on A, …).

    One model or none: the jobs as they are. A JSON line that sets its own "model" runs once, on
    that model: what a line says is sent as written.
    """
    models = distinct(models)
    if len(models) < 2:
        return list(jobs)
    return [
        one
        for job in jobs
        for one in ([job] if "model" in job.overrides else [replace(job, model=m) for m in models])
    ]


def check_models(spec: RequestSpec, jobs: Sequence[Job]) -> None:
    """The flags' values checked by the family of each model they go to, before anything is sent:
    the spec's model and every other one a job runs on (-m given more than once). A refusal names
    the family ("Seedream 4.5 takes 2K, 4K or WxH …"). A JSON line's own "model" is sent as
    written: its fields are checked only as combinations (combinations.check_job)."""
    for model in distinct([spec.model, *(job.model for job in jobs if job.model is not None)]):
        request.check_spec(replace(spec, model=model))
