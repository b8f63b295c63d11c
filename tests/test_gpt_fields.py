"""Issue 17: OpenAI's November-2026 fields (peers-2026-12.md §5), each checked per family through
the one table: --complexity, GIF's --frames and --frame-duration, --user as safety_identifier,
--watermark, the legacy --style and standard/hd, and edit's --markup."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from deerimg.families import family_of
from tests.conftest import TEST_KEY
from tests.test_edit import write_image, write_mask

NEW = "gpt-image-2.5-sunburst"
SEEDREAM = "doubao-seedream-4-5-251128"
SEEDEDIT = "doubao-seededit-3-0-i2i-250628"


def refused(fake_api, result, *messages: str) -> None:
    """Exit 2, one error naming MESSAGES, nothing sent."""
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: "), result.stderr
    for message in messages:
        assert message in result.stderr, (message, result.stderr)
    assert fake_api.requests == []


def sent(invoke, fake_api, *args: str) -> dict:
    """Run `generate a fox ARGS` for real; the JSON body the fake received."""
    result = invoke("generate", "a fox", *args)
    assert result.exit_code == 0, result
    (request,) = fake_api.generation_requests()
    return request.json


def dry_body(invoke, *args: str) -> dict:
    result = invoke("generate", "a fox", *args, "--dry-run")
    assert result.exit_code == 0, result
    return json.loads(result.stdout)["body"]


# --complexity


def test_complexity_is_sent_to_gpt_image_25_by_generate_and_edit(fake_api, invoke):
    assert sent(invoke, fake_api, "-m", NEW, "--complexity", "high")["complexity"] == "high"
    fake_api.reset()
    write_image("photo.png")
    result = invoke("edit", "photo.png", "night", "-m", NEW, "--complexity", "low")
    assert result.exit_code == 0, result
    assert fake_api.edit_requests()[0].json["complexity"] == "low"


@pytest.mark.parametrize(("model", "title"), [("gpt-image-2", "GPT image 2"),
                                              (SEEDREAM, "Seedream 4.5"),
                                              ("dall-e-3", "DALL·E 3")])  # fmt: skip
def test_complexity_is_refused_by_the_other_known_families(fake_api, invoke, model, title):
    result = invoke("generate", "a fox", "-m", model, "--complexity", "high")
    refused(fake_api, result, f"--complexity is not for {model}: {title} takes no complexity",
            "GPT image 2.5/2.6 only", "hint: to send it anyway, use -p complexity=high",
            )  # fmt: skip


def test_complexity_goes_to_the_generic_family_and_p_is_the_escape(fake_api, invoke):
    assert (
        dry_body(invoke, "-m", "acme-image-9", "--complexity", "medium")["complexity"] == "medium"
    )
    result = invoke("generate", "a fox", "--complexity", "extreme")
    refused(fake_api, result, "invalid value for --complexity: 'extreme'",
            "allowed: low, medium, high")  # fmt: skip
    # -p sends it anyway; the fake answers as OpenAI does: gpt-image-2 has no complexity
    result = invoke("generate", "a fox", "-p", "complexity=high")
    assert result.exit_code == 1, result
    assert "Unknown parameter: 'complexity'" in result.stderr
    assert fake_api.generation_requests()[0].json["complexity"] == "high"


# --frames and --frame-duration: GIF output only


@pytest.mark.parametrize(("where", "path"), [(["-o", "spin.gif"], "spin.gif"),
                                             (["--format", "gif"], "a-fox.gif")])  # fmt: skip
def test_frames_go_with_gif_output(fake_api, invoke, where, path):
    body = sent(invoke, fake_api, "-m", NEW, "--frames", "4", "--frame-duration", "120", *where)
    assert (body["output_format"], body["frame_count"], body["frame_duration_ms"]) == (
        "gif",
        4,
        120,
    )
    with Image.open(path) as image:
        assert image.format == "GIF"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "4"], "--frames applies to GIF output only (png is the default format)"),
        (["--frame-duration", "80", "-o", "a.webp"], "--frame-duration applies to GIF output only "
         "(this asks for webp)"),
        (["--frames", "1", "-o", "a.gif"], "invalid value for --frames: 1 (allowed: 2 to 16)"),
        (["--frames", "17", "-o", "a.gif"], "invalid value for --frames: 17 (allowed: 2 to 16)"),
        (["--frame-duration", "0", "-o", "a.gif"], "invalid value for --frame-duration: 0"),
    ],
)  # fmt: skip
def test_frames_without_gif_or_out_of_range_are_refused(fake_api, invoke, args, message):
    result = invoke("generate", "a fox", "-m", NEW, *args)
    refused(fake_api, result, message)
    if "GIF output only" in message:
        assert "hint: add --format gif or give -o a .gif name" in result.stderr


def test_frames_are_refused_by_a_family_without_gif(fake_api, invoke):
    result = invoke("generate", "a fox", "--frames", "4", "-p", "output_format=gif")
    refused(fake_api, result, "--frames is not for gpt-image-2: GPT image 2 takes no frame_count")


def test_a_lines_frames_without_gif_are_named_and_the_fake_checks_the_range(fake_api, invoke):
    text = '{"prompt": "ok"}\n{"prompt": "spin", "frame_count": 5}\n'
    result = invoke("generate", "-m", NEW, input=text)
    refused(fake_api, result, 'standard input line 2: "frame_count" applies to GIF output only')
    # -p is sent as typed; the fake answers 400 for a count outside 2-16, as the API does
    result = invoke("generate", "a fox", "-m", NEW, "-o", "a.gif", "-p", "frame_count=40")
    assert result.exit_code == 1, result
    assert "expected a value between 2 and 16, but got 40" in result.stderr


def test_gif_output_takes_no_mask(fake_api, invoke):
    write_image("photo.png", size=(64, 48))
    write_mask("m.png")
    result = invoke("edit", "photo.png", "spin it", "-m", NEW, "--mask", "m.png", "-o", "a.gif")
    refused(fake_api, result, "GIF output takes no mask", "hint: edit without --mask")
    ok = invoke("edit", "photo.png", "spin it", "-m", NEW, "-o", "a.gif", "--frames", "3")
    assert ok.exit_code == 0, ok
    assert fake_api.edit_requests()[0].json["frame_count"] == "3"  # a form field is text


# --user


@pytest.mark.parametrize("model", [NEW, "gpt-image-2", "gpt-image-1.5", "chatgpt-image-latest"])
def test_user_is_safety_identifier_for_gpt_image(fake_api, invoke, model):
    body = sent(invoke, fake_api, "-m", model, "--user", "u-7", "--json")
    assert body["safety_identifier"] == "u-7" and "user" not in body


@pytest.mark.parametrize("model", ["dall-e-3", SEEDREAM, "acme-image-9"])
def test_user_stays_user_for_the_other_families(fake_api, invoke, model):
    body = dry_body(invoke, "-m", model, "--user", "u-7")
    assert body["user"] == "u-7" and "safety_identifier" not in body


def test_p_user_and_safety_identifier_are_sent_as_typed(fake_api, invoke):
    body = dry_body(invoke, "-p", "user=a", "-p", "safety_identifier=b")
    assert (body["user"], body["safety_identifier"]) == ("a", "b")
    edited = write_image("photo.png")
    result = invoke("edit", str(edited), "night", "--user", "u-8")
    assert result.exit_code == 0, result
    assert fake_api.edit_requests()[0].json["safety_identifier"] == "u-8"


# --watermark


@pytest.mark.parametrize("model", [SEEDREAM, "doubao-seedream-3-0-t2i-250415", SEEDEDIT])
def test_watermark_asks_seedream_and_seededit_for_theirs(fake_api, invoke, model):
    assert dry_body(invoke, "-m", model)["watermark"] is False  # the family's default
    assert dry_body(invoke, "-m", model, "--watermark")["watermark"] is True


def test_watermark_really_sent_to_seedream(fake_api, invoke):
    assert sent(invoke, fake_api, "-m", SEEDREAM, "--watermark")["watermark"] is True


@pytest.mark.parametrize(
    ("model", "title"),
    [("gpt-image-2", "GPT image 2"), (NEW, "GPT image"), ("dall-e-3", "DALL·E 3"),
     ("dall-e-2", "DALL·E 2")],
)  # fmt: skip
def test_watermark_is_refused_where_there_is_none(fake_api, invoke, model, title):
    result = invoke("generate", "a fox", "-m", model, "--watermark")
    refused(fake_api, result, f"--watermark is not for {model}: {title}", "takes no watermark",
            "Seedream 4.5", "hint: to send it anyway, use -p watermark=true")  # fmt: skip


def test_watermark_goes_to_the_generic_family_as_typed(fake_api, invoke):
    assert dry_body(invoke, "-m", "acme-image-9", "--watermark")["watermark"] is True


# --style and --quality standard/hd: legacy, DALL·E only


@pytest.mark.parametrize("model", ["gpt-image-2", NEW, "gpt-image-1.5", SEEDREAM])
def test_style_is_legacy_and_refused_outside_dall_e_3(fake_api, invoke, model):
    result = invoke("generate", "a fox", "-m", model, "--style", "vivid")
    refused(fake_api, result, f"--style is not for {model}", "takes no style (a legacy field: "
            "DALL·E 3 only)", "-p style=vivid")  # fmt: skip


@pytest.mark.parametrize("quality", ["standard", "hd"])
@pytest.mark.parametrize("model", ["gpt-image-2", NEW, "gpt-image-1-mini"])
def test_standard_and_hd_are_refused_by_gpt_image(fake_api, invoke, model, quality):
    result = invoke("generate", "a fox", "-m", model, "-q", quality)
    refused(fake_api, result, f"invalid value for --quality: '{quality}'", "takes auto, low")


def test_dall_e_3_takes_style_and_hd(fake_api, invoke):
    body = sent(invoke, fake_api, "-m", "dall-e-3", "--style", "natural", "-q", "hd")
    assert (body["style"], body["quality"]) == ("natural", "hd")


def test_the_refusals_come_from_the_family_table():
    for model in ("gpt-image-2", NEW, "doubao-seedream-5-0-260128"):
        assert "legacy" in (family_of(model).refusal("style", "vivid") or "")
    assert family_of("dall-e-3").refusal("style", "vivid") is None
    assert family_of("acme-image-9").refusal("style", "vivid") is None
    for field in ("complexity", "frame_count", "markup", "watermark", "style"):
        assert family_of("acme-image-9").takes_field(field)
    assert family_of(NEW).takes_field("markup") and not family_of("gpt-image-2").takes_field(
        "markup"
    )
    assert family_of(SEEDEDIT).takes_field("watermark")  # from its defaults' watermark false


# edit --markup


def markup(name: str = "markup.png", size: tuple[int, int] = (64, 48), alpha: bool = True) -> Path:
    return write_mask(name, size, alpha)


def test_markup_is_a_multipart_file_and_shown_by_dry_run(fake_api, invoke):
    write_image("photo.png")
    markup()
    args = ("edit", "photo.png", "follow the arrows", "-m", NEW, "--markup", "markup.png")
    dry = invoke(*args, "--dry-run")
    assert dry.exit_code == 0, dry
    files = json.loads(dry.stdout)["files"]
    assert [(f["field"], f["name"], f["type"]) for f in files] == [
        ("image", "photo.png", "image/png"),
        ("markup", "markup.png", "image/png"),
    ]
    assert fake_api.requests == []
    result = invoke(*args, "-o", "out.png")
    assert result.exit_code == 0, result
    (request,) = fake_api.edit_requests()
    parts = {part.name: part for part in request.parts if part.filename}
    assert parts["markup"].data == Path("markup.png").read_bytes()
    assert "markup" not in request.json  # a file, not a text field


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (lambda: (markup(), write_mask("m.png")), ["--markup", "markup.png", "--mask", "m.png"],
         "a markup cannot be combined with a mask"),
        (lambda: markup(alpha=False), ["--markup", "markup.png"],
         "markup markup.png has no alpha channel"),
        (lambda: markup(size=(32, 32)), ["--markup", "markup.png"],
         "markup markup.png is 32x32, but photo.png is 64x48"),
        (lambda: write_image("m.jpg", "jpeg"), ["--markup", "m.jpg"],
         "markup m.jpg must be a PNG with an alpha channel"),
        (lambda: markup(), ["--markup", "markup.png", "-m", "gpt-image-2"],
         "--markup is not for gpt-image-2: GPT image 2 takes no markup (GPT image 2.5/2.6 only)"),
        (lambda: markup(), ["--markup", "markup.png", "-m", SEEDEDIT], "takes no markup"),
        (lambda: None, ["-p", "markup=markup.png"], "-p markup=… is not a file: give it with "
         "--markup"),
    ],
)  # fmt: skip
def test_markup_is_refused(fake_api, invoke, setup, args, message):
    write_image("photo.png", size=(64, 48))
    setup()
    result = invoke("edit", "photo.png", "guide it", "-m", NEW, *args)
    refused(fake_api, result, message)


def test_markup_goes_to_the_generic_family(fake_api, invoke):
    write_image("photo.png")
    markup()
    result = invoke("edit", "photo.png", "x", "-m", "acme-image-9", "--markup", "markup.png",
                    "--dry-run")  # fmt: skip
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["files"][-1]["field"] == "markup"


def test_a_json_line_names_its_own_markup(fake_api, invoke):
    write_image("a.png", size=(64, 48))
    write_image("b.png", size=(32, 32))
    markup("big.png", size=(64, 48))
    markup("small.png", size=(32, 32))
    write_mask("m.png")
    Path("lines.jsonl").write_text(
        '{"prompt": "one", "markup": "big.png"}\n'
        '{"prompt": "two", "image": "b.png", "markup": "small.png"}\n'
    )
    result = invoke("edit", "a.png", "-f", "lines.jsonl", "-m", NEW, "-o", "{index}.png")
    assert result.exit_code == 0, result
    sent_files = sorted(
        [(p.name, p.filename) for p in request.parts if p.filename]
        for request in fake_api.edit_requests()
    )
    assert sent_files == [[("image", "a.png"), ("markup", "big.png")],
                          [("image", "b.png"), ("markup", "small.png")]]  # fmt: skip
    fake_api.reset()
    Path("bad.jsonl").write_text('{"prompt": "ok"}\n{"prompt": "both", "markup": "big.png"}\n')
    result = invoke("edit", "a.png", "-f", "bad.jsonl", "-m", NEW, "--mask", "m.png")
    refused(fake_api, result, "bad.jsonl line 2: a markup cannot be combined with a mask")
    Path("odd.jsonl").write_text('{"prompt": "x", "markup": 3}\n')
    result = invoke("edit", "a.png", "-f", "odd.jsonl", "-m", NEW)
    refused(fake_api, result, 'odd.jsonl line 1: "markup" must be a path')


# the fake DeerAPI answers as the API does for what deerimg refuses before sending


def test_the_fake_refuses_markup_with_a_mask_and_gif_with_a_mask(fake_api):
    png = write_image("photo.png").read_bytes()
    over = markup().read_bytes()
    headers = {"Authorization": f"Bearer {TEST_KEY}"}
    url = f"{fake_api.base_url}/v1/images/edits"
    for overlays, fields, message in (
        (("markup", "mask"), {}, "'markup' cannot be combined with 'mask'"),
        (("mask",), {"output_format": "gif"}, "GIF output does not support masks"),
    ):
        files = [("image", ("p.png", png, "image/png"))]
        files += [(name, (f"{name}.png", over, "image/png")) for name in overlays]
        data = {"model": NEW, "prompt": "x", **fields}
        answer = httpx.post(url, data=data, files=files, headers=headers, timeout=10)
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["error"]["message"]
    files = [("image", ("p.png", png, "image/png")), ("markup", ("m.png", over, "image/png"))]
    older = {"model": "gpt-image-2", "prompt": "x"}
    answer = httpx.post(url, data=older, files=files, headers=headers, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Unknown parameter: 'markup'."
