"""Issue 19: the task APIs (FLUX, Replicate, Midjourney, Kling) through the real command line."""

from __future__ import annotations

import base64
import json
import signal
from pathlib import Path

import pytest

from tests.fake import make_image
from tests.helpers import ledger_entries, pixels

KONTEXT = "flux-kontext-pro"
SD = "stability-ai/stable-diffusion-3.5-large"


def records(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_flux_kontext_with_a_reference_and_an_aspect(fake_api, invoke) -> None:
    ref = make_image("png", 64, 48)
    Path("ref.png").write_bytes(ref)
    result = invoke("generate", "a fox", "-m", KONTEXT, "-i", "ref.png", "--aspect", "3:2",
                    "-o", "fox.jpg", "--json")  # fmt: skip
    assert result.exit_code == 0, result
    (task,) = fake_api.tasks
    assert task.route == "flux"
    assert task.body == {"prompt": "a fox", "aspect_ratio": "3:2",
                         "input_image": base64.b64encode(ref).decode()}  # fmt: skip
    assert task.polls == 3  # two polls still going, the third ends it
    (record,) = records(result)
    assert record["task_id"] == task.id
    assert pixels(Path(record["path"])) == pixels(task.images[0])
    assert "task " + task.id + " submitted" in result.stderr
    pending, done = ledger_entries()
    assert (pending["outcome"], pending["task"]["id"]) == ("pending", task.id)
    assert (done["outcome"], done["task"]) == ("ok", {"id": task.id, "route": "flux"})


def test_a_replicate_model_takes_its_p_inputs(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", SD, "-p", "cfg=4.5", "-p", "output_format=png",
                    "--aspect", "16:9", "-o", "fox.png")  # fmt: skip
    assert result.exit_code == 0, result
    (task,) = fake_api.tasks
    assert task.body == {"input": {"prompt": "a fox", "aspect_ratio": "16:9", "cfg": 4.5,
                                   "output_format": "png"}}  # fmt: skip
    assert Path("fox.png").exists()


def test_kling_n_2_is_one_task_with_two_images(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", "kling-v2-1", "-n", "2", "--resolution", "2K",
                    "-o", "fox.png")  # fmt: skip
    assert result.exit_code == 0, result
    (task,) = fake_api.tasks
    assert (task.body["n"], task.body["resolution"], task.body["model_name"]) == (
        2, "2k", "kling-v2-1")  # fmt: skip
    assert sorted(result.stdout.split()) == ["fox-1.png", "fox-2.png"]


def test_midjourney_upscale_all_saves_the_grid_and_each_upscale(fake_api, invoke) -> None:
    result = invoke("generate", "a castle", "-m", "midjourney", "--aspect", "16:9",
                    "--upscale", "all", "-o", "castle.png", "--json")  # fmt: skip
    assert result.exit_code == 0, result
    imagine, *upscales = fake_api.tasks
    assert imagine.body["prompt"] == "a castle --ar 16:9"
    assert [t.extra.get("action") for t in upscales] == ["UPSCALE"] * 4
    paths = [r["path"] for r in records(result)]
    assert paths == [f"castle-{n}.png" for n in range(1, 6)]
    for path, task in zip(paths, [imagine, *upscales], strict=True):
        assert pixels(Path(path)) == pixels(task.images[0])


def test_a_run_that_gave_up_is_taken_up_again_without_paying_twice(fake_api, invoke) -> None:
    """A run dies after the submit (here: its poll fails for good): the same command polls the
    same task."""
    fake_api.queue({"route": "flux-poll", "status": 500})
    first = invoke("generate", "a fox", "-m", KONTEXT, "-o", "fox.jpg", "--retries", "0")
    assert first.exit_code == 1
    (task,) = fake_api.tasks
    assert f"task {task.id} is pending, its poll failed" in first.stderr
    assert f"deerimg fetch {task.id}" in first.stderr
    listed = json.loads(invoke("tasks", "--json").stdout)
    assert [(t["id"], t["state"]) for t in listed] == [(task.id, "pending")]
    again = invoke("generate", "a fox", "-m", KONTEXT, "-o", "fox.jpg", "--skip-existing")
    assert again.exit_code == 0, again
    assert len(fake_api.tasks) == 1  # nothing submitted again
    assert f"task {task.id} was submitted by an earlier run; taking it up" in again.stderr
    assert Path("fox.jpg").exists()
    assert json.loads(invoke("tasks", "--json").stdout) == []


def test_fetch_finishes_a_pending_task_where_asked(fake_api, invoke) -> None:
    fake_api.queue({"route": "kling-poll", "status": 502})
    assert invoke("generate", "a fox", "-m", "kling-v2", "--retries", "0").exit_code == 1
    (task,) = fake_api.tasks
    fetched = invoke("fetch", task.id, "-o", "late.png")
    assert fetched.exit_code == 0, fetched
    assert fetched.stdout.split() == ["late.png"]
    assert len(fake_api.tasks) == 1
    assert invoke("fetch").stderr.strip().endswith("no pending task in the history ledger: "
                                                   "nothing to fetch")  # fmt: skip


def test_a_task_that_outlives_timeout_stays_pending(fake_api, invoke, monkeypatch) -> None:
    monkeypatch.setenv("DEERIMG_POLL_INTERVAL", "0.02")  # then 0.03, 0.045, …: a handful of polls
    fake_api.task_polls(1000)
    result = invoke("generate", "a fox", "-m", KONTEXT, "-o", "fox.jpg", "--timeout", "1")
    assert result.exit_code == 1
    (task,) = fake_api.tasks
    assert f"task {task.id} had not ended after 1 s" in result.stderr
    assert task.polls < 20
    assert json.loads(invoke("tasks", "--json").stdout)[0]["state"] == "pending"


def test_fetch_of_a_task_the_ledger_does_not_hold_needs_its_model(fake_api, invoke) -> None:
    unknown = invoke("fetch", "abc")
    assert unknown.exit_code == 2
    assert "give the model it was submitted to" in unknown.stderr
    gone = invoke("fetch", "abc", "-m", KONTEXT, "-o", "x.jpg")
    assert gone.exit_code == 1
    assert "task abc failed: Task not found" in gone.stderr


@pytest.mark.parametrize(
    ("model", "route", "outcome", "message"),
    [
        (KONTEXT, "flux", "Content Moderated", "failed: Content Moderated"),
        (SD, "replicate", "canceled", "failed: "),
        ("midjourney", "midjourney", "FAILURE", "failed: "),
        ("kling-v2", "kling", "failed", "failed: "),
    ],
)
def test_every_failed_task_is_one_error_line_with_its_id(
    fake_api, invoke, model, route, outcome, message
) -> None:
    fake_api.task_outcome(route, outcome)
    result = invoke("generate", "a fox", "-m", model, "-o", "fox.png")
    assert result.exit_code == 1, result
    (task,) = fake_api.tasks
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"task {task.id} {message}" in errors[0], result.stderr
    assert json.loads(invoke("tasks", "--json").stdout)[0]["state"] == "failed"


@pytest.mark.parametrize(
    ("code", "message"), [(24, "the prompt was refused"), (4, "not submitted")]
)
def test_midjourney_refusing_the_submit_is_one_error(fake_api, invoke, code, message) -> None:
    fake_api.mj_submit_code(code)
    result = invoke("generate", "a castle", "-m", "midjourney", "-o", "c.png")
    assert result.exit_code == 1
    assert message in result.stderr
    assert fake_api.tasks == []


def test_midjourney_queued_and_existing_codes_are_accepted(fake_api, invoke) -> None:
    fake_api.mj_submit_code(22)
    assert invoke("generate", "a castle", "-m", "midjourney", "-o", "c.png").exit_code == 0


def test_a_poll_that_fails_is_polled_again_not_submitted_again(fake_api, invoke) -> None:
    fake_api.queue({"route": "flux-poll", "status": 503}, {"route": "flux-poll", "drop": True})
    result = invoke("generate", "a fox", "-m", KONTEXT, "-o", "fox.jpg")
    assert result.exit_code == 0, result
    assert len(fake_api.tasks) == 1


def test_dry_run_shows_each_route_s_submit(fake_api, invoke) -> None:
    urls = {}
    for model in (KONTEXT, SD, "midjourney", "kling-v2"):
        shown = invoke("generate", "a fox", "-m", model, "--dry-run", "--json")
        assert shown.exit_code == 0, shown
        urls[model] = json.loads(shown.stdout)["url"].split("127.0.0.1")[1].split("/", 1)[1]
    assert urls == {
        KONTEXT: "flux/v1/flux-kontext-pro",
        SD: "replicate/v1/models/stability-ai/stable-diffusion-3.5-large/predictions",
        "midjourney": "mj/submit/imagine",
        "kling-v2": "kling/v1/images/generations",
    }
    assert fake_api.tasks == []


def test_a_run_killed_after_the_submit_is_finished_by_the_same_command(
    fake_api, invoke, monkeypatch
) -> None:
    """kill -9 between the submit and the first poll: the ledger holds the task, and the re-run
    with --skip-existing takes it up: nothing is submitted again, the image is written."""
    from tests.conftest import interrupt_when

    monkeypatch.setenv("DEERIMG_POLL_INTERVAL", "10")  # the first poll is far away
    args = ["generate", "a fox", "-m", KONTEXT, "-o", "fox.jpg"]

    def submitted() -> bool:
        return any(entry["outcome"] == "pending" for entry in ledger_entries())

    killed = interrupt_when(args, submitted, sig=signal.SIGKILL)
    assert killed.code == -signal.SIGKILL
    (task,) = fake_api.tasks
    assert task.polls == 0 and not Path("fox.jpg").exists()
    monkeypatch.setenv("DEERIMG_POLL_INTERVAL", "0")
    again = invoke(*args, "--skip-existing")
    assert again.exit_code == 0, again
    assert len(fake_api.tasks) == 1
    assert pixels(Path("fox.jpg")) == pixels(fake_api.task(task.id).images[0])
