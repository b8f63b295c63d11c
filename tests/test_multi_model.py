"""Issue 17: one prompt on several models (-m given more than once), checked before paying."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deerimg.jobs import models
from deerimg.jobs.prompts import Job
from tests.helpers import error_lines, ledger_entries, names_in

GPT = "gpt-image-2"
SEEDREAM = "doubao-seedream-4-5-251128"
BOTH = ("-m", GPT, "-m", SEEDREAM)
PROMPTS = "a red fox\na blue whale\na green owl\n"
SLUGS = ("a-red-fox", "a-blue-whale", "a-green-owl")


def sent(fake_api) -> list[tuple[str, str]]:
    """(prompt, model) of every generation the fake received, in arrival order."""
    return [(r.json["prompt"], r.json["model"]) for r in fake_api.generation_requests()]


def test_jobs_are_multiplied_prompt_major_and_a_lines_own_model_runs_once() -> None:
    jobs = [Job("a"), Job("b", overrides={"model": "dall-e-3"}), Job("c")]
    multiplied = models.on_models(jobs, ["x", "y", "x"])
    assert [(job.prompt, job.model) for job in multiplied] == [
        ("a", "x"), ("a", "y"), ("b", None), ("c", "x"), ("c", "y"),
    ]  # fmt: skip
    assert models.on_models(jobs, ["x"]) == jobs  # one model: the jobs as they were
    assert models.repeated(["x", "y", "x", "x", "y"]) == ["x", "y"]
    assert multiplied[1].where == "model y: "
    line = Job("d", line=3, source="p.txt", model="y")
    assert line.where == "p.txt line 3, model y: "


def test_two_models_times_three_prompts_make_six_files_named_by_model(fake_api, invoke) -> None:
    Path("prompts.txt").write_text(PROMPTS)
    result = invoke("generate", "-f", "prompts.txt", *BOTH, "-n", "2", "-j", "1", "-d", "out")
    assert result.exit_code == 0, result
    # prompt-major: each prompt on GPT image 2, then on Seedream, in the order -m gave them
    assert sent(fake_api) == [
        (prompt, model) for prompt in PROMPTS.split("\n")[:3] for model in (GPT, SEEDREAM)
    ]
    bodies = [r.json for r in fake_api.generation_requests()]
    assert bodies[0] == {"model": GPT, "prompt": "a red fox", "n": 2}
    assert bodies[1] == {  # Seedream's own shape: group mode for -n, no watermark
        "model": SEEDREAM,
        "prompt": "a red fox",
        "sequential_image_generation": "auto",
        "sequential_image_generation_options": {"max_images": 2},
        "watermark": False,
    }
    expected = sorted(
        f"{slug}-{model}-{n}.{ext}"
        for slug in SLUGS
        for model, ext in ((GPT, "png"), (SEEDREAM, "jpg"))
        for n in (1, 2)
    )
    assert names_in("out") == expected
    assert sorted(result.stdout.splitlines()) == [f"out/{name}" for name in expected]
    assert "done: 12 images saved" in result.stderr
    assert f"  {GPT}: 6 images saved\n  {SEEDREAM}: 6 images saved\n" in result.stderr
    # history: one line per request, each with its model
    assert sorted((e["prompt"], e["model"]) for e in ledger_entries()) == sorted(sent(fake_api))


def test_aspect_becomes_each_familys_own_size(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", *BOTH, "--aspect", "16:9", "-o", "fox.png")
    assert result.exit_code == 0, result
    sizes = {r.json["model"]: r.json["size"] for r in fake_api.generation_requests()}
    assert sizes == {GPT: "1360x768", SEEDREAM: "2560x1440"}
    # -o without {model}: the model goes before the extension, as {n} would
    assert names_in() == sorted([f"fox-{GPT}.png", f"fox-{SEEDREAM}.png"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "1024x1024"], "'1024x1024' (Seedream 4.5 takes 2K, 4K or WxH"),
        (["-s", "2K"], "'2K' (GPT image 2 takes auto or WxH"),
        (["-q", "xhigh"], "'xhigh' (GPT image 2 takes"),
        (["--aspect", "1:8"], "GPT image 2 takes no size for --aspect 1:8"),
    ],
)
def test_a_value_one_family_refuses_fails_the_run_before_any_request(
    fake_api, invoke, args: list[str], message: str
) -> None:
    Path("prompts.txt").write_text(PROMPTS)
    result = invoke("generate", "-f", "prompts.txt", "-m", SEEDREAM, "-m", GPT, *args)
    assert result.exit_code == 2, result
    (line,) = error_lines(result)
    assert message in line
    assert fake_api.requests == []
    assert names_in() == ["prompts.txt"]


def test_model_placeholder_is_sanitised_and_keeps_models_apart(fake_api, invoke) -> None:
    result = invoke(
        "generate", "a fox", "-m", GPT, "-m", "acme/img-9", "-o", "{model}/{slug}.{ext}",
        "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 0, result
    outputs = [json.loads(line)["outputs"] for line in result.stdout.splitlines()]
    assert outputs == [[f"{GPT}/a-fox.png"], ["acme-img-9/a-fox.png"]]  # no acme/ folder
    # {slug}.{ext} without {model}: added before the extension, so both are kept
    named = invoke("generate", "a fox", *BOTH, "-o", "{slug}.{ext}", "--dry-run")
    outputs = [json.loads(line)["outputs"] for line in named.stdout.splitlines()]
    assert outputs == [[f"a-fox-{GPT}.png"], [f"a-fox-{SEEDREAM}.png"]]


def test_o_without_placeholders_over_a_batch_gets_the_model_then_the_index(
    fake_api, invoke
) -> None:
    Path("prompts.txt").write_text("a fox\na whale\n")
    result = invoke("generate", "-f", "prompts.txt", *BOTH, "-o", "out.png", "--dry-run")
    assert result.exit_code == 0, result
    outputs = [json.loads(line)["outputs"] for line in result.stdout.splitlines()]
    assert outputs == [
        [f"out-{GPT}-1.png"], [f"out-{SEEDREAM}-2.png"],
        [f"out-{GPT}-3.png"], [f"out-{SEEDREAM}-4.png"],
    ]  # fmt: skip


def test_dry_run_prints_one_request_per_prompt_and_model(fake_api, invoke) -> None:
    Path("prompts.txt").write_text(
        'a fox\n{"prompt": "a logo", "model": "gpt-image-1.5", "output": "logo.png"}\n'
    )
    result = invoke("generate", "-f", "prompts.txt", *BOTH, "--dry-run")
    assert result.exit_code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["body"]["prompt"], r["body"]["model"], r["outputs"]) for r in records] == [
        ("a fox", GPT, [f"a-fox-{GPT}.png"]),
        ("a fox", SEEDREAM, [f"a-fox-{SEEDREAM}.png"]),
        ("a logo", "gpt-image-1.5", ["logo.png"]),  # its own model: once, its own name
    ]
    assert fake_api.requests == []


def test_the_same_model_twice_runs_once_with_a_note(fake_api, invoke) -> None:
    result = invoke("generate", "a fox", "-m", GPT, "-m", SEEDREAM, "-m", GPT, "--dry-run")
    assert result.exit_code == 0, result
    assert [json.loads(line)["body"]["model"] for line in result.stdout.splitlines()] == [
        GPT,
        SEEDREAM,
    ]
    assert f"warning: -m {GPT} is given more than once; it runs once" in result.stderr
    one = invoke("generate", "a fox", "-m", GPT, "-m", GPT, "--dry-run")
    assert json.loads(one.stdout)["outputs"] == ["a-fox.png"]  # one model: names as ever


def test_several_m_replace_the_configs_model(fake_api, invoke, config_file) -> None:
    assert invoke("config", "set", "model", "dall-e-3").exit_code == 0
    result = invoke("generate", "a fox", *BOTH, "--dry-run")
    assert [json.loads(line)["body"]["model"] for line in result.stdout.splitlines()] == [
        GPT,
        SEEDREAM,
    ]


def test_json_records_and_the_summary_per_model(fake_api, invoke) -> None:
    fake_api.queue({}, {"status": 400, "message": "no such thing", "code": "bad"})
    result = invoke("generate", "a fox", *BOTH, "-j", "1", "--json", "-o", "fox.png")
    assert result.exit_code == 1, result
    records = sorted((json.loads(line) for line in result.stdout.splitlines()), key=str)
    assert [(r.get("path"), r["model"], "error" in r) for r in records] == [
        (f"fox-{GPT}.png", GPT, False),
        (None, SEEDREAM, True),
    ]
    assert records[1]["error"]["message"] == "no such thing"
    (line,) = error_lines(result)
    assert line.startswith(f"error: model {SEEDREAM}: 400 no such thing")
    assert "done: 1 image saved, 1 prompt failed" in result.stderr
    assert f"  {GPT}: 1 image saved\n  {SEEDREAM}: 0 images saved, 1 prompt failed\n" in (
        result.stderr
    )


def test_skip_existing_pays_only_for_the_missing_model(fake_api, invoke) -> None:
    Path("prompts.txt").write_text(PROMPTS)
    args = ("generate", "-f", "prompts.txt", *BOTH, "-j", "1", "-o", "{slug}.{ext}")
    fake_api.queue({}, {}, {}, {"status": 400})  # a blue whale fails on Seedream
    first = invoke(*args)
    assert first.exit_code == 1, first
    assert len(names_in(".", "a-*")) == 5
    fake_api.reset()
    again = invoke(*args, "--skip-existing")
    assert again.exit_code == 0, again
    assert sent(fake_api) == [("a blue whale", SEEDREAM)]
    assert len(names_in(".", "a-*")) == 6
    assert f"  {GPT}: 0 images saved, 3 skipped\n" in again.stderr
    assert f"  {SEEDREAM}: 1 image saved, 2 skipped\n" in again.stderr


def test_edit_runs_on_each_model(fake_api, invoke) -> None:
    Path("photo.png").write_bytes(fake_api.expected_image())
    result = invoke("edit", "photo.png", "make it night", *BOTH, "--dry-run")
    assert result.exit_code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["body"]["model"], r["outputs"]) for r in records] == [
        (GPT, [f"photo-edit-{GPT}.png"]),
        (SEEDREAM, [f"photo-edit-{SEEDREAM}.png"]),
    ]
