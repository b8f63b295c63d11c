"""Issue 19: the task APIs' bodies from flags, and their answers read, without a server."""

from __future__ import annotations

import json

import pytest

from deerimg.errors import DeerimgError
from deerimg.families import family_of
from deerimg.jobs import tasks
from deerimg.jobs.request import RequestSpec
from deerimg.wire import tasks as wire

BFL = "https://delivery.example/sample.png?se=2026"


def body(model: str, **flags) -> dict:
    spec = RequestSpec(model=model, **flags)
    made, _ = tasks.task_body(spec, family_of(model), "a fox", {})
    return made


def test_flux_kontext_takes_an_aspect_and_flux_pro_a_size_on_its_grid() -> None:
    assert body("flux-kontext-pro", aspect="3:2") == {
        "model": "flux-kontext-pro", "prompt": "a fox", "aspect_ratio": "3:2"}  # fmt: skip
    made = body("flux-pro-1.1", aspect="16:9", resolution="1K")
    assert made["width"] % 32 == 0 and made["height"] % 32 == 0
    assert 1.7 < made["width"] / made["height"] < 1.85
    assert body("flux-pro-1.1", size="1024x768")["width"] == 1024
    with pytest.raises(DeerimgError, match="takes 21:9 to 9:21"):
        body("flux-kontext-pro", aspect="4:1")


def test_replicate_puts_everything_in_input_and_p_keys_too() -> None:
    params = {"seed": 7, "input.go_fast": True, "webhook": "https://x"}
    spec = RequestSpec(model="black-forest-labs/flux-2-pro", aspect="16:9", params=params)
    made, _ = tasks.task_body(spec, family_of(spec.model), "a fox", {"num_outputs": 2})
    assert made == {
        "model": "black-forest-labs/flux-2-pro",
        "input": {"prompt": "a fox", "aspect_ratio": "16:9", "seed": 7, "go_fast": True,
                  "num_outputs": 2},
        "webhook": "https://x",
    }  # fmt: skip


def test_midjourney_appends_ar_and_picks_its_bot() -> None:
    assert body("midjourney", aspect="16:9")["prompt"] == "a fox --ar 16:9"
    assert body("niji-journey", size="1536x1024")["prompt"] == "a fox --ar 3:2"
    assert body("niji-journey")["botType"] == "NIJI_JOURNEY"
    assert tasks.actions_of("all", family_of("midjourney")) == ("U1", "U2", "U3", "U4")
    assert tasks.actions_of("3,1,3", family_of("midjourney")) == ("U3", "U1")
    with pytest.raises(DeerimgError, match="--upscale is Midjourney's"):
        tasks.actions_of("1", family_of("kling-v2"))
    with pytest.raises(DeerimgError, match="invalid value for --upscale"):
        tasks.actions_of("5", family_of("midjourney"))


def test_kling_takes_its_ratios_resolution_and_n() -> None:
    assert body("kling-v2-1", aspect="21:9", resolution="2K", n=4) == {
        "model": "kling-v2-1", "model_name": "kling-v2-1", "prompt": "a fox",
        "aspect_ratio": "21:9", "resolution": "2k", "n": 4}  # fmt: skip
    with pytest.raises(DeerimgError, match="Kling image takes 16:9"):
        body("kling-v2", aspect="5:4")
    with pytest.raises(DeerimgError, match="takes 1K, 2K"):
        body("kling-v2", resolution="4K")


def test_flags_a_task_api_has_no_field_for_are_said() -> None:
    spec = RequestSpec(model="midjourney", quality="high", background="transparent")
    _, notes = tasks.task_body(spec, family_of("midjourney"), "a fox", {})
    assert notes == ["Midjourney has no field for -q/--quality: not sent",
                     "Midjourney has no field for --background: not sent"]  # fmt: skip


@pytest.mark.parametrize(
    ("route", "answer", "state", "urls"),
    [
        ("flux", {"id": "1", "status": "Pending"}, "going", []),
        ("flux", {"id": "1", "status": "Ready", "result": {"sample": BFL}}, "done", [BFL]),
        ("flux", {"id": "1", "status": "Content Moderated"}, "failed", []),
        ("flux", {"id": "1", "status": "Task not found"}, "failed", []),
        ("replicate", {"status": "processing"}, "going", []),
        ("replicate", {"status": "succeeded", "output": BFL}, "done", [BFL]),
        ("replicate", {"status": "succeeded", "output": [BFL, BFL]}, "done", [BFL, BFL]),
        ("replicate", {"status": "canceled"}, "failed", []),
        ("midjourney", {"status": "IN_PROGRESS", "progress": "45%"}, "going", []),
        ("midjourney", {"status": "SUCCESS", "imageUrl": BFL}, "done", [BFL]),
        ("midjourney", {"status": "FAILURE", "failReason": "banned"}, "failed", []),
        ("kling", {"data": {"task_status": "processing"}}, "going", []),
        (
            "kling",
            {"data": {"task_status": "succeed", "task_result": {"images": [{"url": BFL}]}}},
            "done",
            [BFL],
        ),
        ("kling", {"data": {"task_status": "failed", "task_status_msg": "risk"}}, "failed", []),
        ("kling", "not an object", "going", []),
    ],
)
def test_every_poll_answer_is_read(route, answer, state, urls) -> None:
    polled = wire.polled(route, answer)
    assert (polled.state, polled.urls) == (state, urls)


@pytest.mark.parametrize(
    ("route", "answer", "message"),
    [
        ("midjourney", {"code": 24, "description": "banned prompt"}, "the prompt was refused"),
        ("midjourney", {"code": 4, "description": "bad"}, "the task was not submitted: bad"),
        ("kling", {"code": 1201, "message": "bad ratio"}, "not submitted: bad ratio"),
        ("flux", {"polling_url": "x"}, "holds no task id"),
        ("replicate", ["x"], "not a JSON object"),
    ],
)
def test_a_refused_submit_is_one_error(route, answer, message) -> None:
    with pytest.raises(DeerimgError, match=message):
        wire.task_id_of(route, answer, "req-1")


def test_midjourney_s_accepted_codes_and_its_full_queue() -> None:
    for code in (1, 21, 22):
        assert wire.task_id_of("midjourney", {"code": code, "result": "17"}, None) == "17"
    with pytest.raises(wire.QueueFull):
        wire.task_id_of("midjourney", {"code": 23, "description": "queue full"}, None)
    assert json.dumps(wire.polled("midjourney", {"status": "SUCCESS", "imageUrl": BFL,
        "buttons": [{"customId": "MJ::JOB::upsample::1::h", "label": "U1"}]}).buttons) == (
        '{"U1": "MJ::JOB::upsample::1::h"}')  # fmt: skip
