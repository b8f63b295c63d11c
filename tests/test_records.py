"""Issue 11: provenance in every image, C2PA respected, `deerimg info`, the history ledger."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.fake import C2PA_DUMMY, make_image, png_with_chunk
from tests.helpers import ledger_path, pixels


def test_edit_writes_provenance_and_info_shows_the_prompt(fake_api, invoke):
    Path("photo.png").write_bytes(make_image("png", 64, 48))
    Image.new("RGBA", (64, 48)).save("m.png")
    made = invoke("edit", "photo.png", "make it night", "--mask", "m.png", "-o", "night.png")
    assert made.exit_code == 0, made
    data = Path("night.png").read_bytes()
    assert b"trainedAlgorithmicMedia" in data
    assert pixels(data) == pixels(fake_api.expected_image("png", "1024x1024"))
    shown = invoke("info", "night.png")
    assert shown.exit_code == 0, shown
    assert "make it night" in shown.stdout
    assert "trainedAlgorithmicMedia" in shown.stdout
    record = json.loads(invoke("info", "night.png", "--json").stdout)[0]
    assert record["record"]["prompt"] == "make it night"
    assert record["record"]["model"] == "gpt-image-2"
    assert record["record"]["request_id"].startswith("req_")
    assert record["c2pa"] is False


def test_jpeg_and_webp_keep_their_pixels(fake_api, invoke):
    for fmt, name in (("jpeg", "a.jpg"), ("webp", "a.webp")):
        result = invoke("generate", "a fox", "-o", name)
        assert result.exit_code == 0, result
        data = Path(name).read_bytes()
        assert b"trainedAlgorithmicMedia" in data
        assert pixels(data) == pixels(fake_api.expected_image(fmt))


def test_c2pa_image_is_saved_exactly_as_sent_with_a_sidecar(fake_api, invoke):
    fake_api.always(c2pa=True)
    result = invoke("generate", "a fox", "-o", "fox.png", "-n", "2")
    assert result.exit_code == 0, result
    sent = png_with_chunk(fake_api.expected_image("png"), b"caBX", C2PA_DUMMY)
    for name in ("fox-1.png", "fox-2.png"):
        assert Path(name).read_bytes() == sent
        sidecar = json.loads(Path(name + ".json").read_text())
        assert sidecar["prompt"] == "a fox"
    assert result.stderr.count("C2PA") == 1  # said once per run
    info = json.loads(invoke("info", "fox-1.png", "--json").stdout)[0]
    assert (info["c2pa"], info["record_source"]) == (True, "sidecar")


def test_no_metadata_and_sidecar(fake_api, invoke):
    plain = invoke("generate", "a fox", "-o", "plain.png", "--no-metadata")
    assert plain.exit_code == 0, plain
    assert Path("plain.png").read_bytes() == fake_api.expected_image("png")
    assert not Path("plain.png.json").exists()
    both = invoke("generate", "a fox", "-o", "both.png", "--sidecar")
    assert both.exit_code == 0, both
    assert b"trainedAlgorithmicMedia" in Path("both.png").read_bytes()
    assert json.loads(Path("both.png.json").read_text())["prompt"] == "a fox"


def test_info_reads_other_tools_parameters(invoke):
    png = make_image("png", 8, 8)
    png = png_with_chunk(png, b"tEXt", b"parameters\x00a castle\nSteps: 20, Sampler: Euler")
    png = png_with_chunk(png, b"tEXt", b'prompt\x00{"3": {"class_type": "KSampler"}}')
    Path("other.png").write_bytes(png)
    result = invoke("info", "other.png", "--json")
    assert result.exit_code == 0, result
    (item,) = json.loads(result.stdout)
    assert item["parameters"]["parameters"].startswith("a castle")
    assert item["parameters"]["prompt"] == {"3": {"class_type": "KSampler"}}
    assert invoke("info", "missing.png").exit_code == 2


def test_history_counts_every_generation_and_edit(fake_api, invoke):
    invoke("generate", "one", "-n", "2")
    invoke("generate", "-f", "-", input="two\nthree\n")
    Path("photo.png").write_bytes(make_image("png", 16, 16))
    invoke("edit", "photo.png", "four")
    fake_api.reject_prompts("bad")
    invoke("generate", "bad five")
    entries = [json.loads(line) for line in ledger_path().read_text().splitlines()]
    assert [e["outcome"] for e in entries].count("ok") == 4
    assert [e["outcome"] for e in entries].count("failed") == 1
    assert sum(len(e["files"]) for e in entries) == 5
    usage = invoke("history", "--usage", "--json")
    assert usage.exit_code == 0, usage
    rows = json.loads(usage.stdout)
    total = sum(r["total_tokens"] for r in rows)
    expected = sum((e["usage"] or {}).get("total_tokens", 0) for e in entries)
    assert total == expected > 0
    assert sum(r["images"] for r in rows) == 5
    table = invoke("history", "--usage")
    assert f"{expected:,}" in table.stdout
    listing = invoke("history", "--search", "four")
    assert "four" in listing.stdout and "three" not in listing.stdout


def test_corrupt_ledger_line_is_skipped_never_rewritten(fake_api, invoke):
    invoke("generate", "one")
    path = ledger_path()
    with path.open("ab") as handle:
        handle.write(b'{"torn": ')  # a crash mid-line
    before = path.read_bytes()
    made = invoke("generate", "two")
    assert made.exit_code == 0, made
    assert path.read_bytes().startswith(before)
    shown = invoke("history", "--json")
    assert shown.exit_code == 0
    assert "1 unreadable line" in shown.stderr
    assert [e["prompt"] for e in json.loads(shown.stdout)] == ["one", "two"]


def test_history_can_be_turned_off(fake_api, invoke):
    from deerimg.settings import file as config

    invoke("generate", "one", "--no-history")
    assert not ledger_path().exists()
    config.write_config({"history": False})
    invoke("generate", "two")
    assert not ledger_path().exists()
