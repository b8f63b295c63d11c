"""Issue 17: one family table decides what each model takes, before anything is paid."""

from __future__ import annotations

import json

import pytest

from deerimg.errors import DeerimgError
from deerimg.families import FAMILIES, GENERIC, family_of
from deerimg.jobs import request
from deerimg.jobs.request import RequestSpec

SEEDREAM = "doubao-seedream-4-5-251128"


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-image-2", "gpt-image-2"),
        ("gpt-image-2-2026-04-21", "gpt-image-2"),
        ("gpt-image-2.5-sunburst", "gpt-image-2.5"),
        ("gpt-image-2.5-flare-2026-09-08", "gpt-image-2.5"),
        ("gpt-image-2.6-flare", "gpt-image-2.5"),
        ("GPT-Image-2.7-anything", "gpt-image-2.5"),  # a new id of a known family
        ("gpt-image-1", "gpt-image-1"),
        ("gpt-image-1.5", "gpt-image"),
        ("gpt-image-1-mini", "gpt-image"),
        ("chatgpt-image-latest", "gpt-image"),
        ("dall-e-3", "dall-e-3"),
        ("dall-e-2", "dall-e-2"),
        ("doubao-seedream-3-0-t2i-250415", "seedream-3.0"),
        ("doubao-seedream-4-0-250828", "seedream-4.0"),
        ("seedream-4-0-250828", "seedream-4.0"),
        (SEEDREAM, "seedream-4.5"),
        ("doubao-seedream-4-5-261231", "seedream-4.5"),
        ("doubao-seedream-5-0-260128", "seedream-5.0"),
        ("bytedance-seedEdit-3.0-i2i", "seededit"),
        ("doubao-seededit-3-0-i2i-250628", "seededit"),
        ("acme-image-9", "generic"),
        ("flux-pro-1.1", "flux"),  # part 3: FLUX's own task route
        ("flux-kontext-pro", "flux-kontext"),
        ("black-forest-labs/flux-2-pro", "replicate"),
        ("midjourney", "midjourney"),
        ("kling-v2-1", "kling"),
    ],
)
def test_a_model_id_finds_its_family(model: str, family: str) -> None:
    assert family_of(model).name == family


def test_every_family_has_a_distinct_name_and_says_what_size_it_takes() -> None:
    names = [family.name for family in (*FAMILIES, GENERIC)]
    assert len(names) == len(set(names))
    for family in FAMILIES:
        assert family.sizes.describe()
        assert family.count in ("n", "max_images", "one", "requests")
        assert family.route in ("images", "gemini", "flux", "replicate", "midjourney", "kling")


@pytest.mark.parametrize(
    ("model", "size", "ok"),
    [
        # OpenAI's rule for gpt-image-2 and 2.5: multiples of 16, 1:3 to 3:1, at most 3840x2160
        ("gpt-image-2", "1024x1536", True),
        ("gpt-image-2", "3840x2160", True),
        ("gpt-image-2", "2160x3840", True),
        ("gpt-image-2", "auto", True),
        ("gpt-image-2", "1000x1000", False),  # not multiples of 16
        ("gpt-image-2", "3840x1024", False),  # wider than 3:1
        ("gpt-image-2", "3856x2160", False),  # past 3840
        ("gpt-image-2", "3840x3840", False),  # more pixels than 3840x2160
        ("gpt-image-2", "2K", False),
        ("gpt-image-2.5-sunburst", "2048x1152", True),
        ("gpt-image-1.5", "1536x1024", True),
        ("gpt-image-1.5", "2048x2048", False),  # three sizes only
        ("dall-e-3", "1792x1024", True),
        ("dall-e-3", "1536x1024", False),
        # Seedream: tiers by version, or WxH in its pixel range
        (SEEDREAM, "2K", True),
        (SEEDREAM, "4K", True),
        (SEEDREAM, "1K", False),
        (SEEDREAM, "2560x1440", True),
        (SEEDREAM, "1024x1024", False),  # under 3,686,400 pixels
        ("doubao-seedream-4-0-250828", "1K", True),
        ("doubao-seedream-5-0-260128", "3K", True),
        ("doubao-seedream-3-0-t2i-250415", "1024x1024", True),
        ("doubao-seedream-3-0-t2i-250415", "2K", False),
        ("doubao-seededit-3-0-i2i-250628", "adaptive", True),
        ("doubao-seededit-3-0-i2i-250628", "1024x1024", False),
        # a family the table does not know: any size of the right shape
        ("acme-image-9", "2K", True),
        ("acme-image-9", "1000x1000", True),
    ],
)
def test_sizes_are_checked_by_the_models_family(model: str, size: str, ok: bool) -> None:
    spec = RequestSpec(model=model, size=size)
    if ok:
        request.check_spec(spec)
        return
    with pytest.raises(DeerimgError) as caught:
        request.check_spec(spec)
    assert f"invalid value for --size: {size!r} ({family_of(model).title} takes " in (
        caught.value.message
    )
    assert caught.value.hint == f"to send it anyway, use -p size={size}"


@pytest.mark.parametrize(
    ("model", "quality", "ok"),
    [
        ("gpt-image-2", "high", True),
        ("gpt-image-2", "xhigh", False),  # the 2.5 models' only
        ("gpt-image-2.5-sunburst", "max", True),
        ("gpt-image-2", "hd", False),  # legacy models' only
        ("dall-e-3", "hd", True),
        ("dall-e-3", "high", False),
        ("acme-image-9", "xhigh", True),
    ],
)
def test_quality_is_checked_by_the_models_family(model: str, quality: str, ok: bool) -> None:
    spec = RequestSpec(model=model, quality=quality)
    if ok:
        request.check_spec(spec)
    else:
        with pytest.raises(DeerimgError, match="takes"):
            request.check_spec(spec)


def test_a_p_value_is_never_checked() -> None:
    request.check_spec(RequestSpec(model=SEEDREAM, size="1K", params={"size": "1K"}))


def test_seedream_takes_n_as_group_mode_and_no_watermark_by_default() -> None:
    body = request.build_body(RequestSpec(model=SEEDREAM, n=3, size="2K"), "a fox", None)
    assert body == {
        "model": SEEDREAM,
        "prompt": "a fox",
        "size": "2K",
        "sequential_image_generation": "auto",
        "sequential_image_generation_options": {"max_images": 3},
        "watermark": False,
    }
    assert request.count_of(body) == 3
    assert request.count_of(request.with_count(body, 1)) == 1
    assert "sequential_image_generation" not in request.with_count(body, 1)
    asked = request.build_body(RequestSpec(model=SEEDREAM, params={"watermark": True}), "x", None)
    assert asked["watermark"] is True  # -p wins over the family's default


def test_seedream_2k_passes_and_1k_is_refused_from_the_command_line(fake_api, invoke) -> None:
    dry = invoke("generate", "a fox", "-m", SEEDREAM, "-s", "2K", "-n", "3", "--dry-run")
    assert dry.exit_code == 0, dry
    record = json.loads(dry.stdout)
    assert record["body"]["size"] == "2K"
    assert record["body"]["sequential_image_generation_options"] == {"max_images": 3}
    assert len(record["outputs"]) == 3
    refused = invoke("generate", "a fox", "-m", SEEDREAM, "-s", "1K")
    assert refused.exit_code == 2
    assert "Seedream 4.5 takes 2K, 4K or WxH" in refused.stderr
    assert "-p size=1K" in refused.stderr
    assert fake_api.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "gpt-image-2", "--format", "svg"], "GPT image 2 takes png, jpeg, webp"),
        (["-m", "gpt-image-2", "-o", "logo.svg"], "--format svg is not made by GPT image 2"),
        (["-m", "gpt-image-2.5-sunburst", "--format", "svg", "-n", "2"], "an SVG is made one"),
        (["-m", "gpt-image-2.5-flare", "--format", "gif", "--compression", "50"], "asks for gif"),
    ],
)
def test_gif_and_svg_are_asked_only_of_the_models_that_make_them(
    fake_api, invoke, args: list[str], message: str
) -> None:
    refused = invoke("generate", "a logo", *args)
    assert refused.exit_code == 2, refused
    assert message in refused.stderr
    assert "-p " in refused.stderr
    assert fake_api.requests == []


def test_an_svg_name_asks_a_25_model_for_svg(fake_api, invoke) -> None:
    dry = invoke(
        "generate", "a logo", "-m", "gpt-image-2.5-sunburst", "-o", "logo.svg", "--dry-run"
    )
    assert dry.exit_code == 0, dry
    record = json.loads(dry.stdout)
    assert (record["body"]["output_format"], record["outputs"]) == ("svg", ["logo.svg"])
    line = json.dumps({"prompt": "x", "output_format": "svg"})  # a line is sent as written
    assert invoke("generate", "--dry-run", input=line + "\n").exit_code == 0


@pytest.mark.parametrize(
    ("model", "aspect", "resolution", "size"),
    [
        # GPT image 2: that ratio on its grid of 16, near the tier's pixels, within its rule
        ("gpt-image-2", "16:9", "2K", "2736x1536"),
        ("gpt-image-2", "1:1", "4K", "2880x2880"),  # 3840x2160's pixels at most
        ("gpt-image-2", "9:16", None, "768x1360"),
        # three sizes: the nearest in ratio
        ("gpt-image-1.5", "16:9", "2K", "1536x1024"),
        ("dall-e-3", "9:16", None, "1024x1792"),
        # Seedream: an explicit WxH (a tier alone lets the model pick the shape), in its range
        (SEEDREAM, "16:9", "2K", "2736x1536"),
        (SEEDREAM, "16:9", None, "2560x1440"),  # 4.5's fewest pixels
        (SEEDREAM, None, "4K", "4K"),  # a tier alone is the tier
        ("doubao-seedream-3-0-t2i-250415", "9:16", "1K", "768x1360"),
    ],
)
def test_aspect_and_resolution_become_the_familys_size(
    model: str, aspect: str | None, resolution: str | None, size: str
) -> None:
    spec = RequestSpec(model=model, aspect=aspect, resolution=resolution)
    request.check_spec(spec)
    body = request.build_body(spec, "x", None)
    assert body["size"] == size
    assert family_of(model).refusal("size", size) is None


def test_aspect_a_family_cannot_make_is_refused_and_s_wins() -> None:
    with pytest.raises(DeerimgError, match="GPT image 2 takes no size for --aspect 1:8"):
        request.build_body(RequestSpec(model="gpt-image-2", aspect="1:8"), "x", None)
    with pytest.raises(DeerimgError, match="expected W:H"):
        request.check_spec(RequestSpec(model="gpt-image-2", aspect="wide"))
    with pytest.raises(DeerimgError, match="allowed: 512px, 1K, 2K, 3K, 4K"):
        request.check_spec(RequestSpec(model="gpt-image-2", resolution="8K"))
    spec = RequestSpec(model="gpt-image-2", size="1024x1024", aspect="16:9")
    assert request.build_body(spec, "x", None)["size"] == "1024x1024"


def test_seedream_end_to_end_against_the_fake(fake_api, invoke) -> None:
    """The issue's first line: -s 2K to Seedream 4.5 writes the image its URL answers."""
    saved = invoke("generate", "a fox", "-m", SEEDREAM, "-s", "2K", "-o", "fox.jpg")
    assert saved.exit_code == 0, saved
    (sent,) = fake_api.generation_requests()
    assert sent.json == {"model": SEEDREAM, "prompt": "a fox", "size": "2K", "watermark": False}
    assert len(fake_api.downloads) == 1  # Seedream answers with a URL, downloaded at once
    shown = json.loads(invoke("info", "fox.jpg", "--json").stdout)[0]
    assert (shown["format"], shown["record"]["model"]) == ("jpeg", SEEDREAM)


def test_seedream_group_mode_answering_fewer_is_a_warning(fake_api, invoke) -> None:
    fake_api.always(images=2)
    result = invoke("generate", "a fox", "-m", SEEDREAM, "-n", "3", "-o", "fox.jpg")
    assert result.exit_code == 0, result
    body = fake_api.generation_requests()[0].json
    assert body["sequential_image_generation_options"] == {"max_images": 3}
    assert result.stdout.splitlines() == ["fox-1.jpg", "fox-2.jpg"]
    assert "the API sent 2 of the up to 3 images asked for (request id " in result.stderr
    assert "--skip-existing" in result.stderr


def test_a_value_seedream_refuses_is_its_400(fake_api, invoke) -> None:
    sent = invoke("generate", "a fox", "-m", SEEDREAM, "-p", "size=1K", "-o", "fox.jpg")
    assert sent.exit_code == 1
    assert "400 The parameter `size` 1K is not supported by this model." in sent.stderr


def test_a_url_answer_keeps_its_source_and_lifetime_in_the_record(fake_api, invoke) -> None:
    assert invoke("generate", "a fox", "-m", SEEDREAM, "-o", "fox.jpg").exit_code == 0
    (url,) = [d.path for d in fake_api.downloads]
    record = json.loads(invoke("info", "fox.jpg", "--json").stdout)[0]["record"]
    assert record["source"]["lifetime"] == "24 h"
    assert record["source"]["url"].split("?")[0].endswith(url)


@pytest.mark.parametrize(
    ("model", "date"), [("gpt-image-1", "2026-10-23"), ("dall-e-3", "2026-05-12")]
)
def test_a_retired_model_is_sent_with_a_warning_naming_the_date(fake_api, invoke, model, date):
    result = invoke("generate", "a fox", "-m", model, "-o", "fox.png")
    assert result.exit_code == 0, result
    assert f"warning: {model} was " in result.stderr and date in result.stderr
    assert len(fake_api.generation_requests()) == 1


def test_aspect_and_resolution_flags_reach_each_family_as_its_size(fake_api, invoke) -> None:
    seedream = invoke("generate", "a fox", "-m", SEEDREAM, "--aspect", "16:9",
                      "--resolution", "2K", "--dry-run")  # fmt: skip
    assert seedream.exit_code == 0, seedream
    assert json.loads(seedream.stdout)["body"]["size"] == "2736x1536"
    gpt = invoke("generate", "a fox", "--aspect", "16:9", "--dry-run")
    assert json.loads(gpt.stdout)["body"]["size"] == "1360x768"
    both = invoke("generate", "a fox", "-s", "1024x1024", "--aspect", "16:9", "--dry-run")
    assert json.loads(both.stdout)["body"]["size"] == "1024x1024"
    assert "-s is sent as given" in both.stderr
    refused = invoke("generate", "a fox", "--aspect", "1:8")
    assert refused.exit_code == 2 and "GPT image 2 takes no size for --aspect 1:8" in refused.stderr
    assert fake_api.requests == []
