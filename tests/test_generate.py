"""Issue 2: one prompt, end to end, through the real command line against the fake DeerAPI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import TEST_KEY
from tests.helpers import names_in


def test_one_prompt_writes_jpeg(fake_api, invoke):
    result = invoke("generate", "A paper boat floating on calm water at sunrise.", "-o", "boat.jpg")
    assert result.exit_code == 0, result
    assert result.stdout == "boat.jpg\n"
    with Image.open("boat.jpg") as image:
        assert image.format == "JPEG"
    body = fake_api.generation_requests()[0].json
    assert body == {
        "model": "gpt-image-2",
        "prompt": "A paper boat floating on calm water at sunrise.",
        "output_format": "jpeg",
    }
    assert "saved boat.jpg (1024x1024, " in result.stderr
    assert "tokens: input 16 (text 16, image 0), output 208, total 224" in result.stderr
    assert "revised prompt: Revised: A paper boat" in result.stderr
    assert names_in() == ["boat.jpg"]


def test_every_request_flag_is_sent_as_typed(fake_api, invoke):
    result = invoke(
        "generate",
        "a fox",
        "-m",
        "gpt-image-1.5",
        "-s",
        "1536x1024",
        "-q",
        "high",
        "-n",
        "2",
        "--format",
        "webp",
        "--compression",
        "80",
        "--background",
        "opaque",
        "--moderation",
        "low",
        "--user",
        "u-1",
        "-p",
        "seed=42",
        "-p",
        "tags=[1, 2]",
        "-p",
        "note=plain text",
        "-p",
        "flag=true",
    )
    assert result.exit_code == 0, result
    assert fake_api.generation_requests()[0].json == {
        "model": "gpt-image-1.5",
        "prompt": "a fox",
        "n": 2,
        "size": "1536x1024",
        "quality": "high",
        "output_format": "webp",
        "output_compression": 80,
        "background": "opaque",
        "moderation": "low",
        "safety_identifier": "u-1",  # --user, as GPT image models take it (peers-2026-12.md §5)
        "seed": 42,
        "tags": [1, 2],
        "note": "plain text",
        "flag": True,
    }
    assert result.stdout.splitlines() == ["a-fox-1.webp", "a-fox-2.webp"]


def test_dall_e_flags(fake_api, invoke):
    result = invoke(
        "generate",
        "a fox",
        "-m",
        "dall-e-3",
        "--style",
        "vivid",
        "--response-format",
        "b64_json",
        "-q",
        "hd",
    )
    assert result.exit_code == 0, result
    body = fake_api.generation_requests()[0].json
    assert body == {
        "model": "dall-e-3",
        "prompt": "a fox",
        "quality": "hd",
        "style": "vivid",
        "response_format": "b64_json",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-q", "ultra"], "allowed: auto, low, medium, high, xhigh, max, standard, hd"),
        (["--format", "avif"], "allowed: png, jpeg, webp, gif, svg"),
        (["--format", "gif"], "GPT image 2 takes png, jpeg, webp"),  # issue 17: per family
        (["--background", "green"], "allowed: transparent, opaque, auto"),
        (["--moderation", "none"], "allowed: auto, low"),
        (["--style", "moody"], "allowed: vivid, natural"),
        (["-s", "big"], "expected WxH"),
        (["-n", "11"], "allowed: 1 to 10"),
        (["--compression", "101", "--format", "jpeg"], "allowed: 0 to 100"),
        (["--response-format", "url"], "GPT image models always answer in base64"),
        (["--compression", "50"], "jpeg and webp only"),
        (["--compression", "50", "-o", "x.png"], "jpeg and webp only"),
        (["--background", "transparent", "--format", "jpeg"], "jpeg has no transparency"),
        (["--background", "transparent", "-o", "x.jpg"], "jpeg has no transparency"),
        (["-p", "novalue"], "expected KEY=VALUE"),
        (["-j", "0"], "--jobs"),
        (["--timeout", "0"], "--timeout"),
    ],
)
def test_bad_values_exit_2_before_sending(fake_api, invoke, args, message):
    result = invoke("generate", "a fox", *args)
    assert result.exit_code == 2, result
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert fake_api.requests == []
    assert names_in() == []


def test_unknown_value_names_the_p_escape_and_the_escape_works(fake_api, invoke):
    refused = invoke("generate", "a fox", "-q", "ultra")
    assert "hint: to send it anyway, use -p quality=ultra" in refused.stderr
    sent = invoke("generate", "a fox", "-p", "quality=ultra", "-p", "response_format=url")
    assert sent.exit_code == 0, sent
    assert fake_api.generation_requests()[0].json["quality"] == "ultra"


def test_unknown_models_pass_through(fake_api, invoke):
    # Issue 17: Seedream is a known family now (tests/test_families.py); an id no family holds
    # is what passes through as typed.
    result = invoke("generate", "a fox", "-m", "acme-image-9", "-o", "fox.png")
    assert result.exit_code == 0, result
    # output_format is only inferred for models known to take it
    assert fake_api.generation_requests()[0].json == {
        "model": "acme-image-9",
        "prompt": "a fox",
    }


def test_existing_target_refused_before_paying_and_force_overwrites(fake_api, invoke):
    Path("boat.jpg").write_bytes(b"precious")
    refused = invoke("generate", "a boat", "-o", "boat.jpg")
    assert refused.exit_code == 2
    assert "boat.jpg exists" in refused.stderr and "--force" in refused.stderr
    assert fake_api.requests == []
    assert Path("boat.jpg").read_bytes() == b"precious"
    forced = invoke("generate", "a boat", "-o", "boat.jpg", "--force")
    assert forced.exit_code == 0, forced
    assert Path("boat.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert names_in() == ["boat.jpg"]


def test_default_names_never_overwrite(fake_api, invoke):
    Path("a-boat.png").write_bytes(b"mine")
    first = invoke("generate", "A boat!")
    second = invoke("generate", "A boat!")
    assert (first.stdout, second.stdout) == ("a-boat-2.png\n", "a-boat-3.png\n")
    assert Path("a-boat.png").read_bytes() == b"mine"


def test_several_images_are_numbered(fake_api, invoke):
    result = invoke("generate", "a boat", "-n", "3", "-o", "out/boat.png")
    assert result.exit_code == 0, result
    assert result.stdout.splitlines() == ["out/boat-1.png", "out/boat-2.png", "out/boat-3.png"]
    assert names_in("out") == ["boat-1.png", "boat-2.png", "boat-3.png"]


def test_output_dir_is_created(fake_api, invoke):
    result = invoke("generate", "a boat", "-d", "deep/er", "--format", "jpeg")
    assert result.exit_code == 0, result
    assert result.stdout == "deep/er/a-boat.jpg\n"


def test_output_dir_that_is_a_file_is_refused_before_sending(fake_api, invoke):
    Path("taken").write_text("x")
    result = invoke("generate", "a boat", "-d", "taken/sub")
    assert result.exit_code == 2, result
    assert "cannot create output folder" in result.stderr
    assert fake_api.requests == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_refused_before_sending(fake_api, invoke):
    Path("ro").mkdir(mode=0o500)
    result = invoke("generate", "a boat", "-d", "ro")
    assert result.exit_code == 2
    assert "not writable" in result.stderr
    assert fake_api.requests == []


def test_name_without_extension_gets_the_real_type(fake_api, invoke):
    result = invoke("generate", "a boat", "-o", "boat", "--format", "webp")
    assert result.exit_code == 0, result
    assert result.stdout == "boat.webp\n"


def test_mismatched_bytes_warn(fake_api, invoke):
    fake_api.queue({"wrong_format": "png"})
    result = invoke("generate", "a boat", "-o", "boat.jpg")
    assert result.exit_code == 0, result
    assert "warning: boat.jpg holds PNG bytes" in result.stderr


def test_stdout_bytes(fake_api, cli_subprocess, isolated_env):
    done = cli_subprocess(["generate", "a boat", "-o", "-", "--format", "png", "--no-metadata"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == fake_api.expected_image("png")
    labelled = cli_subprocess(["generate", "a boat", "-o", "-", "--format", "png"])
    assert b"trainedAlgorithmicMedia" in labelled.stdout  # the same provenance a file gets
    assert names_in() == []


def test_stdout_with_several_images_is_a_usage_error(fake_api, invoke):
    result = invoke("generate", "a boat", "-n", "2", "-o", "-")
    assert result.exit_code == 2
    assert fake_api.requests == []


def test_json_record(fake_api, invoke):
    result = invoke("generate", "a boat", "--json", "-s", "512x512")
    assert result.exit_code == 0, result
    record = json.loads(result.stdout)
    assert set(record) == {
        "path",
        "prompt",
        "model",
        "size",
        "quality",
        "output_format",
        "bytes",
        "revised_prompt",
        "usage",
        "request_id",
        "elapsed_s",
        "cost_usd",
        "cost_source",
    }
    # gpt-image-2's list price: 16 text tokens at $5 and 208 image tokens at $30 per 1M
    assert (record["cost_usd"], record["cost_source"]) == (0.00632, "usage")
    assert record["path"] == "a-boat.png"
    assert record["bytes"] == Path("a-boat.png").stat().st_size
    assert record["request_id"].startswith("req_")
    assert record["usage"]["total_tokens"] == 224


def test_quiet_prints_nothing_human(fake_api, invoke):
    result = invoke("generate", "a boat", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "a-boat.png\n", "")


def test_no_key_exits_3_with_both_ways(fake_api, invoke, monkeypatch):
    monkeypatch.delenv("DEERAPI_KEY")
    result = invoke("generate", "a boat")
    assert result.exit_code == 3
    assert "no API key" in result.stderr
    assert "DEERAPI_KEY" in result.stderr and "deerimg config set api-key" in result.stderr
    assert fake_api.requests == []


def test_dry_run_needs_no_key_and_sends_nothing(fake_api, invoke, monkeypatch):
    monkeypatch.delenv("DEERAPI_KEY")
    result = invoke("generate", "a boat", "--dry-run", "-o", "b.jpg")
    assert result.exit_code == 0, result
    request = json.loads(result.stdout)
    assert request == {
        "method": "POST",
        "url": f"{fake_api.base_url}/v1/images/generations",
        "body": {"model": "gpt-image-2", "prompt": "a boat", "output_format": "jpeg"},
        "outputs": ["b.jpg"],
        "estimate_usd": 0.1877,
        "estimate": "6,240 output tokens an image (auto quality counted as high; size auto "
        "counted as 1536x1024)",
    }
    assert "estimated cost of 1 request(s): $0.1877" in result.stderr
    assert fake_api.requests == []


def test_key_from_config_file(fake_api, invoke, monkeypatch, tmp_path):
    from deerimg.settings import file as config

    monkeypatch.delenv("DEERAPI_KEY")
    config.write_config({"api_key": TEST_KEY, "model": "gpt-image-1.5"})
    result = invoke("generate", "a boat")
    assert result.exit_code == 0, result
    request = fake_api.generation_requests()[0]
    assert request.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert request.json["model"] == "gpt-image-1.5"


def test_flag_beats_env_beats_config(fake_api, invoke, monkeypatch):
    from deerimg.settings import file as config

    config.write_config({"api_key": "sk-from-config", "model": "from-config"})
    invoke("generate", "a boat", "-m", "from-flag")
    assert fake_api.generation_requests()[0].json["model"] == "from-flag"
    assert fake_api.generation_requests()[0].headers["authorization"] == f"Bearer {TEST_KEY}"


@pytest.mark.parametrize("suffix", ["/v1", "/v1/", "/"])
def test_base_url_with_or_without_v1(fake_api, invoke, monkeypatch, suffix):
    monkeypatch.setenv("DEERIMG_BASE_URL", fake_api.base_url + suffix)
    result = invoke("generate", "a boat")
    assert result.exit_code == 0, result
    assert fake_api.generation_requests()[0].path == "/v1/images/generations"


def test_url_answer_downloaded_without_key_on_another_origin(fake_api, invoke):
    result = invoke(
        "generate", "a boat", "-m", "dall-e-3", "--response-format", "url", "-o", "boat.png"
    )
    assert result.exit_code == 0, result
    assert Path("boat.png").read_bytes()[:4] == b"\x89PNG"
    (download,) = fake_api.downloads
    assert "authorization" not in download.headers


def test_error_is_one_line_with_request_id(fake_api, invoke):
    fake_api.reject_prompts("weapon")
    result = invoke("generate", "a weapon")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: 400 Your request was rejected by the safety system.")
    assert "code content_policy_violation" in lines[0] and "request id req_" in lines[0]
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr
    assert (result.stdout, names_in()) == ("", [])


def test_401_exits_3_without_retry(fake_api, invoke, monkeypatch):
    monkeypatch.setenv("DEERAPI_KEY", "sk-wrong")
    result = invoke("generate", "a boat")
    assert result.exit_code == 3
    assert "401 Incorrect API key provided." in result.stderr
    assert len(fake_api.requests) == 1


def test_503_is_retried_and_announced(fake_api, invoke):
    fake_api.queue({"status": 503, "retry_after_ms": "1"}, {"status": 503, "retry_after_ms": "1"})
    result = invoke("generate", "a boat")
    assert result.exit_code == 0, result
    assert len(fake_api.generation_requests()) == 3
    retries = [line for line in result.stderr.splitlines() if line.startswith("retrying")]
    assert len(retries) == 2
    assert "503" in retries[0] and "request id req_" in retries[0] and "retry 1 of 3" in retries[0]


def test_retries_flag_bounds_the_attempts(fake_api, invoke):
    fake_api.always(status=500, retry_after_ms="1")
    result = invoke("generate", "a boat", "--retries", "1")
    assert result.exit_code == 1
    assert len(fake_api.generation_requests()) == 2


def test_long_retry_after_is_not_waited_for(fake_api, invoke):
    fake_api.queue({"status": 429, "retry_after": "3600"})
    result = invoke("generate", "a boat")
    assert result.exit_code == 1
    assert len(fake_api.generation_requests()) == 1
    assert "wait 3600 s" in result.stderr


def test_version(invoke, cli_subprocess):
    from deerimg import __version__

    assert invoke("--version").stdout == f"deerimg {__version__}\n"
    done = cli_subprocess(["--version"])
    assert done.stdout.decode() == f"deerimg {__version__}\n"


def test_no_arguments_shows_help(invoke):
    result = invoke()
    assert "generate" in result.stdout + result.stderr
    assert "Usage" in result.stdout + result.stderr


def test_debug_shows_traceback_else_none(fake_api, cli_subprocess):
    fake_api.always(status=400)
    plain = cli_subprocess(["generate", "a boat"])
    debug = cli_subprocess(["generate", "a boat"], env={"DEERIMG_DEBUG": "1"})
    assert plain.returncode == 1 and b"Traceback" not in plain.stderr
    assert b"Traceback" in debug.stderr and b"DeerimgError" in debug.stderr
    assert TEST_KEY.encode() not in debug.stderr + debug.stdout


def test_prompt_from_stdin_dash(fake_api, invoke):
    result = invoke("generate", "-", input="a boat\non two lines\n")
    assert result.exit_code == 0, result
    assert fake_api.generation_requests()[0].json["prompt"] == "a boat\non two lines"
