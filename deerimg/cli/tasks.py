"""`tasks` and `fetch`: the task APIs' tasks the history ledger holds, and one finished by hand."""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command (issue 10's bar; STYLE §2.9 aside).

from typing import Annotated

import typer

from deerimg.cli.app import state
from deerimg.cli.options import Force, Json, Output, Quiet, Timeout, opt


def tasks(
    all_tasks: Annotated[
        bool, typer.Option("--all", help="Finished tasks too. Default: pending and failed ones.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """List the task APIs' tasks (FLUX, Replicate, Midjourney, Kling) the ledger holds.

    A pending task was submitted (and paid for) by a run that did not see it end: `deerimg
    fetch TASK_ID` finishes it, and running the same command again takes it up too.

    Example: deerimg tasks --json
    """
    from deerimg import history
    from deerimg.report.listings import show_tasks
    from deerimg.run.fetch import task_rows

    rows = task_rows(history.read_entries()[0])
    shown = [row.as_json() for row in rows if all_tasks or row.state != "done"]
    show_tasks(shown, json_out)


def fetch(
    task_id: Annotated[
        str | None,
        typer.Argument(
            help="The task's id, as `deerimg tasks` lists it. Omitted: every pending task.",
            show_default=False,
            metavar="TASK_ID",
        ),
    ] = None,
    output: Output = None,
    model: Annotated[
        str | None,
        opt(
            "-m",
            "--model",
            help="The model a task the ledger does not hold was submitted to "
            "(its route). Default: the ledger's.",
            metavar="MODEL",
        ),
    ] = None,
    force: Force = False,
    json_lines: Json = False,
    quiet: Quiet = False,
    timeout: Timeout = None,
) -> None:
    """Finish a task a run submitted and did not see end (or every pending one): poll it,
    never submit it again, and write its images where that run meant to, or to -o.

    -m names the model for a task the ledger does not hold (submitted elsewhere).

    Example: deerimg fetch
    """
    from deerimg.report.run import Report
    from deerimg.run.fetch import fetch as fetch_task
    from deerimg.run.tasks import RunPolicy
    from deerimg.settings.resolve import resolve_settings

    settings = resolve_settings({"timeout": timeout})
    policy = RunPolicy(output=output, force=force, json_lines=json_lines, quiet=quiet,
                       debug=state.debug)  # fmt: skip
    report = Report(json_lines=json_lines, quiet=quiet, paths_on_stdout=output != "-",
                    debug=state.debug)  # fmt: skip
    with report:
        raise typer.Exit(fetch_task(settings, task_id, policy, report, model))
