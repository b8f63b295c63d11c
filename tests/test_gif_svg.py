"""Issue 17: the GIF and SVG that OpenAI's November-2026 models answer are read and labelled."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree import ElementTree

from PIL import Image

from deerimg.imaging import embed, images, provenance
from deerimg.imaging.formats import sniff, sniff_any

RECORD = provenance.build_record({"model": "gpt-image-2.5-sunburst", "prompt": "a fox & <owl>"})
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by a model -->\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64px" height="32" viewBox="0 0 64 32">'
    b'<rect width="64" height="32" fill="red"/></svg>\n'
)


def gif(size: tuple[int, int] = (40, 30), frames: int = 1) -> bytes:
    shots = [Image.new("RGB", size, (60 * k, 0, 255 - 60 * k)) for k in range(frames)]
    out = io.BytesIO()
    shots[0].save(out, "GIF", save_all=frames > 1, append_images=shots[1:], duration=200)
    return out.getvalue()


def test_gif_and_svg_are_told_from_their_bytes_but_are_no_upload_or_info_input() -> None:
    assert sniff_any(gif()) == "gif"
    assert sniff_any(SVG) == "svg"
    assert sniff_any(b"<svg/>") == "svg"
    assert sniff_any(b"<html><body>no</body></html>") is None
    assert sniff_any(b'<?xml version="1.0"?><feed/>') is None
    assert sniff(gif()) is None and sniff(SVG) is None  # edit's inputs: PNG, JPEG, WebP only


def test_gif_and_svg_sizes_and_cut_off_answers() -> None:
    assert images.pixel_size(gif((40, 30))) == (40, 30)
    assert images.pixel_size(SVG) == (64, 32)
    assert images.pixel_size(b'<svg viewBox="0 0 300 150"></svg>') == (300, 150)
    assert images.pixel_size(b'<svg width="100%"></svg>') is None
    assert not images.cut_off(gif(), "gif")
    assert images.cut_off(gif()[:-1], "gif")
    assert not images.cut_off(SVG, "svg")
    assert images.cut_off(SVG[:-12], "svg")


def test_a_gif_carries_the_record_and_still_plays() -> None:
    animated = gif(frames=3)
    labelled = embed.embed(animated, "gif", RECORD)
    assert labelled is not None
    assert labelled.startswith(animated[:-1]) and labelled.endswith(b"\x3b")
    assert b"<deerimg:record>" in labelled
    shown = Image.open(io.BytesIO(labelled))
    assert (shown.format, shown.size, shown.n_frames) == ("GIF", (40, 30), 3)
    assert embed.embed(labelled, "gif", RECORD) is None  # one packet, never two
    assert embed.embed(animated[:-1], "gif", RECORD) is None  # no trailer: a sidecar


def test_an_svg_carries_the_record_in_a_metadata_element() -> None:
    labelled = embed.embed(SVG, "svg", RECORD)
    assert labelled is not None
    root = ElementTree.fromstring(labelled)  # noqa: S314 - our own bytes, no DTD
    children = [child.tag.rsplit("}", 1)[-1] for child in root]
    assert children == ["metadata", "rect"]
    assert "a fox &amp; &lt;owl&gt;" in labelled.decode()
    assert embed.embed(labelled, "svg", RECORD) is None
    assert embed.embed(b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg", RECORD) is None


def test_an_svg_and_a_gif_from_gpt_image_25_are_saved_labelled_and_read_by_info(
    fake_api, invoke
) -> None:
    import json

    svg = invoke("generate", "a logo", "-m", "gpt-image-2.5-sunburst", "--format", "svg",
                 "-o", "logo.svg")  # fmt: skip
    assert svg.exit_code == 0, svg
    assert fake_api.generation_requests()[0].json["output_format"] == "svg"
    spin = invoke("generate", "a spinning fox", "-m", "gpt-image-2.5-flare", "-o", "spin.gif")
    assert spin.exit_code == 0, spin
    assert svg.stdout.splitlines() == ["logo.svg"] and spin.stdout.splitlines() == ["spin.gif"]
    ElementTree.fromstring(Path("logo.svg").read_bytes())  # noqa: S314 - our own file
    assert Image.open("spin.gif").n_frames == 2
    shown = invoke("info", "logo.svg", "spin.gif", "--json")
    assert shown.exit_code == 0, shown
    infos = json.loads(shown.stdout)
    assert [(i["format"], i["record_source"]) for i in infos] == [
        ("svg", "embedded"),
        ("gif", "embedded"),
    ]
    assert infos[0]["record"]["prompt"] == "a logo"
    assert infos[1]["record"]["model"] == "gpt-image-2.5-flare"
