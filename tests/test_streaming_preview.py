"""Issue 21, streaming seen: with --preview each partial image is shown as it comes, in the place
of the one before, and the final image takes the last one's place; checked byte by byte from a
pseudo-terminal, and never where the terminal is not known to show images."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from deerimg.report import preview
from deerimg.report.preview import box, boxed, erase_box, fit, kitty_sequence
from tests.fake import images as fake_images
from tests.test_preview import at_terminal, png_pixels, posix_only

KITTY = {"TERM": "xterm-kitty"}


def test_the_box_of_a_partial_has_both_sides_and_keeps_the_shape() -> None:
    assert box((1024, 1024)) == (40, 20)
    assert box((1536, 1024)) == (40, 13)
    assert box((1024, 1536)) == (27, 20)  # too tall for 40 columns: 20 rows, fewer columns
    assert box(None) == (40, 20)


def test_a_partial_is_drawn_in_rows_made_first_and_erased_from_their_top() -> None:
    png = fake_images.make_image("png", 64, 64)
    sequence, rows = boxed(png, "p", (64, 64), KITTY, 7) or ("", 0)
    image = kitty_sequence(png, 40, 20, 7)
    assert ",i=7," in image
    assert (sequence, rows) == ("\n" * 20 + "\x1b[20A\r\x1b7" + image + "\x1b8\x1b[20B\r", 20)
    assert erase_box(20, 7, KITTY) == "\x1b_Ga=d,d=I,i=7,q=2\x1b\\\x1b[20A\r\x1b[J"
    iterm = {"TERM_PROGRAM": "iTerm.app"}
    assert erase_box(20, 7, iterm) == "\x1b[20A\r\x1b[J"  # iTerm2's images go with the text
    assert boxed(png, "p", (64, 64), {"TERM": "xterm-256color"}, 7) is None
    inside = boxed(png, "p", (64, 64), KITTY | {"TMUX": "t,1,0"}, 7)
    assert inside is not None and "\x1bPtmux;" in inside[0]
    assert preview.tmux_wrap(image) in inside[0]


def partials_of(seen: bytes) -> list[tuple[int, bytes]]:
    """The Kitty image ids and first payload chunk of each partial shown (those with an id)."""
    found = re.findall(
        rb"\x1b_Ga=T,f=100,t=d,q=2,c=\d+,r=\d+,i=(\d+),m=\d;([A-Za-z0-9+/=]{1,64})", seen
    )
    return [(int(image_id), start) for image_id, start in found]


@posix_only
def test_kitty_shows_each_partial_in_place_then_the_image(
    fake_api: Any, isolated_env: Path
) -> None:
    args = ["generate", "a fox", "--partial-images", "2", "-o", "fox.png", "--preview"]
    code, seen, out = at_terminal(args, KITTY)
    assert code == 0, seen
    assert out == b"fox.png\n"
    assert sorted(p.name for p in isolated_env.iterdir()) == ["fox.png"]
    shown = partials_of(seen)
    assert len(shown) == 2
    image_id = shown[0][0]
    assert shown[1][0] == image_id  # one box per image: the second partial takes the first's place
    for index, (_id, start) in enumerate(shown):
        width, height = fake_images.pixel_size(1024, 1024)
        data, b64 = fake_images.cached_image(
            "png", width // (4 + index), height // (4 + index), None
        )
        assert b64.encode().startswith(start)
        cols, rows = box(png_pixels(data))
        expected = kitty_sequence(data, cols, rows, image_id).encode()
        made = b"\r\n" * rows  # the terminal's line discipline writes each newline as CR LF
        assert made + b"\x1b[%dA\r\x1b7" % rows + expected + b"\x1b8" in seen
    erase = b"\x1b_Ga=d,d=I,i=%d,q=2\x1b\\" % image_id
    assert seen.count(erase) == 2  # the second partial, then the image, in the place before
    final = Path("fox.png").read_bytes()
    shown_final = kitty_sequence(final, *fit(png_pixels(final))).encode()
    assert shown_final in seen
    assert seen.index(erase, seen.index(erase) + 1) < seen.index(b"saved fox.png")
    assert seen.index(b"saved fox.png") < seen.index(shown_final)


@posix_only
@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_no_sequence_where_the_terminal_shows_no_images(
    fake_api: Any, isolated_env: Path, term: str
) -> None:
    args = ["generate", "a fox", "--partial-images", "2", "-o", "fox.png", "--preview"]
    code, seen, _ = at_terminal(args, {"TERM": term})
    assert code == 0, seen
    assert b"\x1b_G" not in seen and b"\x1b]1337" not in seen and b"\x1b7" not in seen
    assert seen.count(b"no preview: this terminal is not known to show images") == 1
    assert sorted(p.name for p in isolated_env.iterdir()) == ["fox.png"]


@posix_only
def test_iterm2_shows_each_partial_in_place_inside_tmux(fake_api: Any, isolated_env: Path) -> None:
    env = {"TERM": "screen-256color", "LC_TERMINAL": "iTerm2", "TMUX": "tmux-1/default,1,0"}
    args = ["generate", "a fox", "--partial-images", "3", "-o", "fox.jpg", "--preview"]
    code, seen, _ = at_terminal(args, env)
    assert code == 0, seen
    assert sorted(p.name for p in isolated_env.iterdir()) == ["fox.jpg"]
    width, height = fake_images.pixel_size(1024, 1024)
    for index in range(3):
        data, _b64 = fake_images.cached_image(
            "jpeg", width // (4 + index), height // (4 + index), None
        )
        cols, rows = box((width // (4 + index), height // (4 + index)))
        image = preview.tmux_wrap(preview.iterm2_sequence(data, "partial-1", cols, rows))
        assert b"\x1b7" + image.encode() + b"\x1b8" in seen
    assert seen.count(b"\x1b[20A\r\x1b[J") == 3  # partials 2 and 3, then the image, in place
    assert b"\x1b_G" not in seen.replace(b"\x1bPtmux;", b"")  # no Kitty code, not even a delete
    final = Path("fox.jpg").read_bytes()
    assert preview.tmux_wrap(preview.iterm2_sequence(final, "fox.jpg", 40, 20)).encode() in seen
