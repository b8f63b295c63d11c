"""The fake's task APIs (issue 19) through plain httpx: FLUX, Replicate, Midjourney, Kling.

Every route, every state, every failure, the submit codes, faults on submits and on polls,
and links that expire.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from tests.conftest import TEST_KEY
from tests.fake import FakeDeerAPI, make_image
from tests.fake.routes.midjourney import tile

PNG = base64.b64encode(make_image("png", 8, 8)).decode()
FLUX = "/flux/v1/flux-kontext-pro"
SD35 = "/replicate/v1/models/stability-ai/stable-diffusion-3.5-large/predictions"
KLING = "/kling/v1/images/generations"


@pytest.fixture
def client(fake_api: FakeDeerAPI) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {TEST_KEY}"}
    with httpx.Client(base_url=fake_api.base_url, headers=auth, timeout=10) as http:
        yield http
    assert fake_api.errors == []


def download(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10)  # no key: a CDN-like link


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# -- one submit and its polls, per route --------------------------------------------------------


def flux(client: httpx.Client, **body: Any) -> str:
    response = client.post(FLUX, json={"prompt": "a fox", **body})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def flux_poll(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get("/flux/v1/get_result", params={"id": task_id})
    assert response.status_code == 200
    return dict(response.json())


def replicate(client: httpx.Client, path: str = SD35, **given: Any) -> str:
    response = client.post(path, json={"input": {"prompt": "a lake", **given}})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def replicate_poll(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return dict(client.get(f"/replicate/v1/predictions/{task_id}").json())


def imagine(client: httpx.Client, prompt: str = "a castle", **body: Any) -> dict[str, Any]:
    return dict(client.post("/mj/submit/imagine", json={"prompt": prompt, **body}).json())


def mj_poll(client: httpx.Client, task_id: str) -> dict[str, Any]:
    response = client.get(f"/mj/task/{task_id}/fetch")
    assert response.status_code == 200
    return dict(response.json())


def kling(client: httpx.Client, **body: Any) -> str:
    response = client.post(KLING, json={"model_name": "kling-v2", "prompt": "a cat", **body})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["task_id"])


def kling_poll(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return dict(client.get(f"{KLING}/{task_id}").json())


def states(
    poll: Callable[[], dict[str, Any]], key: Callable[[dict[str, Any]], Any], n: int
) -> list:
    return [key(poll()) for _ in range(n)]


# -- FLUX ---------------------------------------------------------------------------------------


def test_flux_pending_twice_then_ready_with_a_sample_of_ten_minutes(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    response = client.post(FLUX, json={"prompt": "a fox", "aspect_ratio": "3:2", "seed": 7})
    answer = response.json()
    task_id = answer["id"]
    assert answer == {
        "id": task_id,
        "polling_url": f"{fake_api.base_url}/flux/v1/get_result?id={task_id}",
        "cost": None,
        "input_mp": None,
        "output_mp": None,
    }
    assert flux_poll(client, task_id) == {"id": task_id, "status": "Pending"}
    assert flux_poll(client, task_id) == {"id": task_id, "status": "Pending"}
    ready = client.get(answer["polling_url"]).json()
    assert ready["status"] == "Ready"
    result = ready["result"]
    assert (result["seed"], result["prompt"]) == (7, "a fox")
    assert result["end_time"] >= result["start_time"]
    assert result["duration"] == pytest.approx(result["end_time"] - result["start_time"], abs=1e-5)
    assert flux_poll(client, task_id) == ready  # an ended task stays so
    got = download(result["sample"])
    assert got.headers["content-type"] == "image/jpeg"
    assert image_of(got.content).size == (64, 43)  # 3:2, small
    [task] = fake_api.tasks
    assert (task.route, task.id, task.model, task.polls) == ("flux", task_id, "flux-kontext-pro", 4)
    assert task.body == {"prompt": "a fox", "aspect_ratio": "3:2", "seed": 7}
    assert task.images == [got.content]
    end = parse_qs(urlsplit(result["sample"]).query)["se"][0]
    lives = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.now(timezone.utc)
    assert 590 < lives.total_seconds() <= 600


def test_flux_png_sized_by_width_and_height_and_polls_zero(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    fake_api.task_polls(0)
    task_id = flux(client, width=1024, height=512, output_format="png", input_image=PNG)
    sample = flux_poll(client, task_id)["result"]["sample"]
    image = image_of(download(sample).content)
    assert (image.format, image.size) == ("PNG", (64, 32))


@pytest.mark.parametrize("outcome", ["Error", "Failed", "Content Moderated", "Request Moderated"])
def test_flux_failures(fake_api: FakeDeerAPI, client: httpx.Client, outcome: str) -> None:
    fake_api.task_polls(1)
    fake_api.task_outcome("flux", outcome)
    task_id = flux(client)
    assert flux_poll(client, task_id)["status"] == "Pending"
    assert flux_poll(client, task_id) == {"id": task_id, "status": outcome}
    assert fake_api.task(task_id).urls == []  # type: ignore[union-attr]


def test_flux_unknown_and_forgotten_ids_are_task_not_found(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    task_id = flux(client)
    fake_api.reset()
    assert flux_poll(client, task_id) == {"id": task_id, "status": "Task not found"}
    assert flux_poll(client, "nope") == {"id": "nope", "status": "Task not found"}
    assert fake_api.tasks == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"width": 1000}, "width"),
        ({"height": "1024"}, "height"),
        ({"aspect_ratio": "3:1"}, "aspect_ratio"),
        ({"aspect_ratio": "wide"}, "aspect_ratio"),
        ({"input_image": "not base64!"}, "input_image"),
        ({"input_image_3": base64.b64encode(b"text, no image").decode()}, "input_image_3"),
        ({"safety_tolerance": 7}, "safety_tolerance"),
        ({"output_format": "webp"}, "output_format"),
        ({"seed": "1"}, "seed"),
    ],
)
def test_flux_refuses_bodies(
    fake_api: FakeDeerAPI, client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = client.post(FLUX, json={"prompt": "a fox", **body})
    assert response.status_code == 400
    [detail] = response.json()["detail"]
    assert detail["loc"] == ["body", field]
    assert fake_api.tasks == []


def test_flux_takes_urls_base64_and_data_urls_and_the_edges_of_its_ranges(
    client: httpx.Client,
) -> None:
    flux(
        client,
        input_image="https://example.com/a.png",
        input_image_2=PNG,
        input_image_4=f"data:image/png;base64,{PNG}",
        aspect_ratio="9:21",
        safety_tolerance=0,
    )
    flux(client, aspect_ratio="21:9", safety_tolerance=6, output_format="jpeg")
    assert client.post("/flux/v1/get_result", json={"prompt": "x"}).status_code == 404
    assert client.post("/flux/v1/a/b", json={"prompt": "x"}).status_code == 404
    assert httpx.post(client.base_url.join(FLUX), json={"prompt": "x"}).status_code == 401


# -- Replicate ----------------------------------------------------------------------------------


def test_replicate_starting_processing_succeeded_with_num_outputs(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    created = client.post(SD35, json={"input": {"prompt": "a lake", "num_outputs": 3}})
    assert created.status_code == 201
    prediction = created.json()
    task_id = prediction["id"]
    get = f"{fake_api.base_url}/replicate/v1/predictions/{task_id}"
    assert {k: prediction[k] for k in ("model", "version", "input", "output", "status")} == {
        "model": "stability-ai/stable-diffusion-3.5-large",
        "version": "hidden",
        "input": {"prompt": "a lake", "num_outputs": 3},
        "output": None,
        "status": "starting",
    }
    assert (prediction["error"], prediction["logs"]) == (None, "")
    assert prediction["urls"]["get"] == get
    assert set(prediction["urls"]) == {"get", "cancel", "stream", "web"}
    polled = [replicate_poll(client, task_id) for _ in range(3)]
    assert [p["status"] for p in polled] == ["starting", "processing", "succeeded"]
    done = polled[-1]
    assert len(done["output"]) == 3
    assert done["metrics"]["image_count"] == 3
    assert done["completed_at"] and done["started_at"]
    for url in done["output"]:
        got = download(url)
        assert got.headers["content-type"] == "image/webp"
        assert image_of(got.content).size == (64, 64)


def test_replicate_legacy_path_and_output_as_a_string(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    fake_api.task_polls(0)
    body = {
        "version": "black-forest-labs/flux-schnell",
        "input": {"prompt": "a", "aspect_ratio": "16:9"},
    }
    legacy = client.post("/replicate/v1/predictions", json=body).json()
    assert legacy["model"] == "black-forest-labs/flux-schnell"
    assert isinstance(replicate_poll(client, legacy["id"])["output"], list)
    by_model = {"model": "stability-ai/stable-diffusion-3.5-large-turbo", "input": {"prompt": "a"}}
    turbo = client.post("/replicate/v1/predictions", json=by_model).json()
    output = replicate_poll(client, turbo["id"])["output"]
    assert isinstance(output, str)
    assert image_of(download(output).content).format == "WEBP"
    fake_api.replicate_output("string")
    assert isinstance(replicate_poll(client, replicate(client))["output"], str)
    fake_api.replicate_output("list")
    turbo = client.post("/replicate/v1/predictions", json=by_model).json()
    assert isinstance(replicate_poll(client, turbo["id"])["output"], list)
    with pytest.raises(ValueError, match="shape"):
        fake_api.replicate_output("dict")


@pytest.mark.parametrize(
    ("outcome", "error"), [("failed", "Prediction failed"), ("canceled", None)]
)
def test_replicate_failures(
    fake_api: FakeDeerAPI, client: httpx.Client, outcome: str, error: str | None
) -> None:
    fake_api.task_outcome("replicate", outcome)
    task_id = replicate(client, output_format="png")
    polled = [replicate_poll(client, task_id) for _ in range(3)]
    assert [p["status"] for p in polled] == ["starting", "processing", outcome]
    assert polled[-1]["output"] is None
    if error is None:
        assert polled[-1]["error"] is None
    else:
        assert polled[-1]["error"].startswith(error)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "input"),
        ({"input": {"num_outputs": 1}}, "input.prompt"),
        ({"input": {"prompt": "a", "num_outputs": 5}}, "input.num_outputs"),
        ({"input": {"prompt": "a", "output_format": "gif"}}, "input.output_format"),
        ({"input": {"prompt": "a", "aspect_ratio": "wide"}}, "input.aspect_ratio"),
    ],
)
def test_replicate_refuses_inputs_with_422(
    fake_api: FakeDeerAPI, client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = client.post(SD35, json=body)
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == field
    assert (
        client.post("/replicate/v1/predictions", json={"input": {"prompt": "a"}}).json()[
            "invalid_fields"
        ][0]["field"]
        == "version"
    )
    assert fake_api.tasks == []


def test_replicate_unknown_ids_and_paths_are_404(client: httpx.Client) -> None:
    for response in (
        client.get("/replicate/v1/predictions/nope"),
        client.post("/replicate/v1/models/only-owner/predictions", json={"input": {"prompt": "a"}}),
    ):
        assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


# -- Midjourney ---------------------------------------------------------------------------------


def test_mj_imagine_grid_then_upscale_u2(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    submitted = imagine(client, "a castle --ar 2:1", botType="MID_JOURNEY", base64Array=[
        f"data:image/png;base64,{PNG}"
    ])  # fmt: skip
    assert (submitted["code"], submitted["description"]) == (1, "Submit success")
    task_id = submitted["result"]
    polls = [mj_poll(client, task_id) for _ in range(3)]
    assert [(p["status"], p["progress"]) for p in polls] == [
        ("SUBMITTED", "0%"), ("IN_PROGRESS", "50%"), ("SUCCESS", "100%")
    ]  # fmt: skip
    assert [p["imageUrl"] for p in polls[:2]] == [None, None]
    done = polls[-1]
    assert (done["action"], done["failReason"], done["prompt"]) == (
        "IMAGINE",
        None,
        "a castle --ar 2:1",
    )
    assert done["submitTime"] <= done["startTime"] <= done["finishTime"]
    labels = [button["label"] for button in done["buttons"]]
    assert labels == ["U1", "U2", "U3", "U4", "", "V1", "V2", "V3", "V4"]
    assert done["buttons"][1]["customId"].startswith("MJ::JOB::upsample::2::")
    assert done["imageUrl"] == f"{fake_api.base_url}/mj/image/{task_id}"
    grid = download(done["imageUrl"])  # on the API's origin, no key
    assert grid.headers["content-type"] == "image/png"
    assert image_of(grid.content).size == (128, 64)  # 2x2 tiles of 64x32
    action = {"customId": done["buttons"][1]["customId"], "taskId": task_id}
    upscale_id = client.post("/mj/submit/action", json=action).json()["result"]
    assert upscale_id != task_id
    upscale = [mj_poll(client, upscale_id) for _ in range(3)][-1]
    assert (upscale["status"], upscale["action"], upscale["buttons"]) == ("SUCCESS", "UPSCALE", [])
    single = download(upscale["imageUrl"]).content
    assert image_of(single).size == (64, 32)
    assert single == tile(64, 32, 2)
    assert image_of(single).getpixel((0, 0)) == image_of(grid.content).getpixel((64, 0))
    assert [t.extra["action"] for t in fake_api.tasks] == ["IMAGINE", "UPSCALE"]
    assert fake_api.tasks[1].body == action


def test_mj_variation_and_reroll_make_grids(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.task_polls(0)
    task_id = imagine(client)["result"]
    buttons = mj_poll(client, task_id)["buttons"]
    for button, action in ((buttons[5], "VARIATION"), (buttons[4], "REROLL")):
        submitted = client.post(
            "/mj/submit/action", json={"customId": button["customId"], "taskId": task_id}
        )
        done = mj_poll(client, submitted.json()["result"])
        assert (done["action"], len(done["buttons"])) == (action, 9)
        assert image_of(download(done["imageUrl"]).content).size == (128, 128)


@pytest.mark.parametrize(
    ("code", "task"), [(1, True), (21, True), (22, True), (23, False), (24, False), (4, False)]
)
def test_mj_submit_codes(
    fake_api: FakeDeerAPI, client: httpx.Client, code: int, task: bool
) -> None:
    fake_api.mj_submit_code(code)
    submitted = imagine(client, "forbidden words")
    assert submitted["code"] == code
    assert bool(submitted["result"]) == task
    assert len(fake_api.tasks) == int(task)
    if code == 24:
        assert submitted["properties"]["promptEn"] == "forbidden words"
    if code == 22:
        assert mj_poll(client, submitted["result"])["status"] == "NOT_START"
    assert imagine(client)["code"] == 1  # one code, for the next submit only


def test_mj_codes_queue_and_apply_to_actions(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.task_polls(0)
    task_id = imagine(client)["result"]
    custom_id = mj_poll(client, task_id)["buttons"][0]["customId"]
    fake_api.mj_submit_code(23, 23)
    action = {"customId": custom_id, "taskId": task_id}
    codes = [client.post("/mj/submit/action", json=action).json()["code"] for _ in range(3)]
    assert codes == [23, 23, 1]
    with pytest.raises(ValueError, match="not"):
        fake_api.mj_submit_code(2)


def test_mj_failure_and_refusals(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.task_outcome("midjourney", "FAILURE")
    task_id = imagine(client)["result"]
    failed = [mj_poll(client, task_id) for _ in range(3)][-1]
    assert (failed["status"], failed["imageUrl"], failed["buttons"]) == ("FAILURE", None, [])
    assert failed["failReason"]
    fake_api.task_outcome("midjourney", "ok")
    refused = [
        imagine(client, ""),
        imagine(client, 5),  # type: ignore[arg-type]
        imagine(client, base64Array=[PNG]),  # not a data URI
        imagine(client, botType="DALL_E"),
        client.post(
            "/mj/submit/action", json={"customId": "MJ::JOB::upsample::1::x", "taskId": "nope"}
        ).json(),
        client.post(
            "/mj/submit/action", json={"customId": "MJ::JOB::upsample::1::x", "taskId": task_id}
        ).json(),
    ]
    assert [(r["code"], r["result"]) for r in refused] == [(4, None)] * 6
    assert all(r["description"] for r in refused)
    good = imagine(client)["result"]  # not finished: its buttons cannot be used yet
    assert (
        client.post(
            "/mj/submit/action", json={"customId": "MJ::JOB::upsample::9::x", "taskId": good}
        ).json()["code"]
        == 4
    )  # not finished
    unknown = client.get("/mj/task/nope/fetch")
    assert (unknown.status_code, unknown.json()["code"]) == (400, 4)
    assert download(f"{fake_api.base_url}/mj/image/{task_id}").status_code == 404
    assert len(fake_api.tasks) == 2


# -- Kling --------------------------------------------------------------------------------------


def test_kling_submitted_processing_succeed_with_n_images(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    body = {
        "model_name": "kling-v2",
        "prompt": "a cat",
        "aspect_ratio": "3:4",
        "resolution": "2k",
        "n": 3,
        "image": PNG,
    }
    answer = client.post(KLING, json=body).json()
    assert (answer["code"], answer["message"]) == (0, "SUCCEED")
    assert answer["request_id"]
    data = answer["data"]
    assert (data["task_status"], data["task_info"]) == ("submitted", {})
    assert data["created_at"] <= data["updated_at"]
    polls = [kling_poll(client, data["task_id"])["data"] for _ in range(3)]
    assert [p["task_status"] for p in polls] == ["submitted", "processing", "succeed"]
    images = polls[-1]["task_result"]["images"]
    assert [image["index"] for image in images] == [0, 1, 2]
    for image in images:
        assert image_of(download(image["url"]).content).size == (48, 64)
    [task] = fake_api.tasks
    assert (task.model, task.body) == ("kling-v2", body)


def test_kling_failed(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.task_polls(0)
    fake_api.task_outcome("kling", "failed", match="dog")
    assert kling_poll(client, kling(client))["data"]["task_status"] == "succeed"
    failed = kling_poll(client, kling(client, prompt="a dog", image="https://example.com/d.png"))
    assert failed["data"]["task_status"] == "failed"
    assert failed["data"]["task_status_msg"]
    assert "task_result" not in failed["data"]


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": ""},
        {"prompt": "x" * 2501},
        {"negative_prompt": "y" * 2501},
        {"image": f"data:image/png;base64,{PNG}"},
        {"image": "not base64!"},
        {"aspect_ratio": "5:4"},
        {"resolution": "4k"},
        {"n": 10},
        {"n": 0},
    ],
)
def test_kling_refuses_bodies_with_1201(
    fake_api: FakeDeerAPI, client: httpx.Client, body: dict[str, Any]
) -> None:
    response = client.post(KLING, json={"prompt": "a cat", **body})
    assert response.status_code == 400
    assert response.json()["code"] == 1201
    assert response.json()["message"]
    assert fake_api.tasks == []


def test_kling_unknown_task_is_404_1203(client: httpx.Client) -> None:
    response = client.get(f"{KLING}/nope")
    assert (response.status_code, response.json()["code"]) == (404, 1203)


# -- across routes: faults, knobs, expiry -------------------------------------------------------

SUBMITS: dict[str, Callable[[httpx.Client], httpx.Response]] = {
    "flux": lambda c: c.post(FLUX, json={"prompt": "a"}),
    "replicate": lambda c: c.post(SD35, json={"input": {"prompt": "a"}}),
    "midjourney": lambda c: c.post("/mj/submit/imagine", json={"prompt": "a"}),
    "kling": lambda c: c.post(KLING, json={"prompt": "a"}),
}


def task_id_of(route: str, answer: dict[str, Any]) -> str:
    if route == "kling":
        return str(answer["data"]["task_id"])
    return str(answer["result"] if route == "midjourney" else answer["id"])


def poll(client: httpx.Client, route: str, task_id: str) -> httpx.Response:
    return {
        "flux": lambda: client.get("/flux/v1/get_result", params={"id": task_id}),
        "replicate": lambda: client.get(f"/replicate/v1/predictions/{task_id}"),
        "midjourney": lambda: client.get(f"/mj/task/{task_id}/fetch"),
        "kling": lambda: client.get(f"{KLING}/{task_id}"),
    }[route]()


@pytest.mark.parametrize("route", list(SUBMITS))
def test_faults_on_submits_make_no_task(
    fake_api: FakeDeerAPI, client: httpx.Client, route: str
) -> None:
    fake_api.queue(
        {"route": f"{route}-poll", "status": 500},  # waits for a poll
        {"route": route, "status": 429, "retry_after": "1"},
        {"route": route, "status": 503},
        {"route": route, "body": "<html>busy</html>"},
        {"route": route, "drop": True},
    )
    first = SUBMITS[route](client)
    assert (first.status_code, first.headers["retry-after"]) == (429, "1")
    assert SUBMITS[route](client).status_code == 503
    assert SUBMITS[route](client).text == "<html>busy</html>"
    with pytest.raises(httpx.RemoteProtocolError):
        SUBMITS[route](client)
    assert fake_api.tasks == []
    task_id = task_id_of(route, SUBMITS[route](client).json())
    assert poll(client, route, task_id).status_code == 500
    assert [t.polls for t in fake_api.tasks] == [0]  # a failed poll does not move the task on


@pytest.mark.parametrize("route", list(SUBMITS))
def test_faults_on_polls(fake_api: FakeDeerAPI, client: httpx.Client, route: str) -> None:
    fake_api.task_polls(0)
    task_id = task_id_of(route, SUBMITS[route](client).json())
    fake_api.queue(
        {"route": f"{route}-poll", "status": 429, "retry_after": "2"},
        {"route": f"{route}-poll", "drop": True},
        {"route": f"{route}-poll", "body": "not json", "content_type": "text/plain"},
        {"route": f"{route}-poll", "delay": 0.2},
        {"route": f"{route}-poll", "truncate": True},
    )
    limited = poll(client, route, task_id)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    with pytest.raises(httpx.RemoteProtocolError):
        poll(client, route, task_id)
    assert poll(client, route, task_id).text == "not json"
    assert fake_api.task(task_id).polls == 0  # type: ignore[union-attr]
    started = time.monotonic()
    slow = poll(client, route, task_id)  # the delayed poll answers, and counts
    assert time.monotonic() - started >= 0.2
    assert slow.status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        poll(client, route, task_id)  # half the body, then the connection closes
    assert fake_api.task(task_id).polls == 2  # type: ignore[union-attr]
    fake_api.always(route=f"{route}-poll", status=502)
    assert poll(client, route, task_id).status_code == 502
    assert SUBMITS[route](client).status_code in (200, 201)  # the poll's fault spares submits


@pytest.mark.parametrize("route", ["flux", "replicate", "kling"])
def test_result_links_expire_and_take_the_ending_polls_url_faults(
    fake_api: FakeDeerAPI, client: httpx.Client, route: str
) -> None:
    fake_api.task_polls(0)
    fake_api.files.lifetime = 0
    task_id = task_id_of(route, SUBMITS[route](client).json())
    [url] = urls_of(client, route, task_id)
    expired = download(url)
    assert (expired.status_code, b"Request has expired" in expired.content) == (403, True)
    fake_api.files.lifetime = 86400
    task_id = task_id_of(route, SUBMITS[route](client).json())
    fake_api.queue({"route": f"{route}-poll", "url_status": 404})
    [url] = urls_of(client, route, task_id)
    assert download(url).status_code == 404
    task_id = task_id_of(route, SUBMITS[route](client).json())
    fake_api.queue({"route": f"{route}-poll", "images": 2, "not_image": True})
    urls = urls_of(client, route, task_id)
    count = 1 if route == "flux" else 2  # BFL's result has one sample
    assert [download(u).content for u in urls] == [b"hello, not an image"] * count


def urls_of(client: httpx.Client, route: str, task_id: str) -> list[str]:
    answer = poll(client, route, task_id).json()
    if route == "flux":
        return [answer["result"]["sample"]]
    if route == "kling":
        return [image["url"] for image in answer["data"]["task_result"]["images"]]
    return list(answer["output"])


def test_mj_images_expire_and_take_url_faults(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    fake_api.task_polls(0)
    fake_api.files.lifetime = 0
    url = mj_poll(client, imagine(client)["result"])["imageUrl"]
    assert download(url).status_code == 403
    fake_api.files.lifetime = None
    fake_api.queue({"route": "midjourney-poll", "url_status": 500})
    assert download(mj_poll(client, imagine(client)["result"])["imageUrl"]).status_code == 500


def test_flux_links_live_ten_minutes_at_most_whatever_the_lifetime(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    fake_api.task_polls(0)
    fake_api.files.lifetime = None  # unsigned for the other routes: FLUX's still end
    sample = flux_poll(client, flux(client))["result"]["sample"]
    assert "se=" in sample
    assert download(sample).status_code == 200
    kling_url = kling_poll(client, kling(client))["data"]["task_result"]["images"][0]["url"]
    assert "?" not in kling_url


def test_knobs_are_checked_and_reset(fake_api: FakeDeerAPI, client: httpx.Client) -> None:
    with pytest.raises(ValueError, match="route"):
        fake_api.task_outcome("dalle", "failed")
    with pytest.raises(ValueError, match="outcome"):
        fake_api.task_outcome("kling", "FAILURE")
    with pytest.raises(ValueError, match="polls"):
        fake_api.task_polls(-1)
    with pytest.raises(ValueError, match="route"):
        fake_api.queue({"route": "kling-polls"})
    fake_api.task_polls(5)
    fake_api.task_outcome("kling", "failed")
    fake_api.mj_submit_code(24)
    fake_api.reset()
    task_id = kling(client)
    assert [kling_poll(client, task_id)["data"]["task_status"] for _ in range(3)][-1] == "succeed"
    assert imagine(client)["code"] == 1


def test_task_requests_are_counted_in_flight_and_take_prompt_faults(
    fake_api: FakeDeerAPI, client: httpx.Client
) -> None:
    task_id = kling(client)
    fake_api.gather(2, timeout=5)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: kling_poll(client, task_id), range(2)))
    assert fake_api.max_in_flight == 2
    assert sorted(a["data"]["task_status"] for a in answers) == ["processing", "submitted"]
    fake_api.reject_prompts("gore")
    refused = client.post(FLUX, json={"prompt": "gore"})
    assert refused.status_code == 400
    assert len(fake_api.tasks) == 1
