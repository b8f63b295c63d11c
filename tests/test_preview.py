"""--preview: the Kitty and iTerm2 sequences byte by byte, the terminal chosen, and a real run."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from deerimg.report import preview
from deerimg.report.preview import (
    detect,
    fit,
    iterm2_sequence,
    kitty_sequence,
    sequence_for,
    tmux_wrap,
)
from deerimg.report.thumbnails import Thumbnails

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 8
TERMINALS = ("TERM", "TERM_PROGRAM", "KITTY_WINDOW_ID", "LC_TERMINAL", "TMUX", "NO_COLOR")
posix_only = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals")

# -- the terminal, from the environment only ---------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-kitty"}, "kitty"),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "3"}, "kitty"),
        ({"TERM": "xterm-ghostty"}, "kitty"),
        ({"TERM_PROGRAM": "ghostty"}, "kitty"),
        ({"TERM_PROGRAM": "WezTerm"}, "kitty"),  # WezTerm speaks both: Kitty's first
        ({"TERM_PROGRAM": "iTerm.app"}, "iterm2"),
        (
            {"TERM": "screen-256color", "TMUX": "tmux-1/default,1,0", "LC_TERMINAL": "iTerm2"},
            "iterm2",
        ),
        ({"TERM": "xterm-256color"}, None),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "Apple_Terminal"}, None),
        ({"TERM": "linux"}, None),
        ({}, None),
    ],
)
def test_the_protocol_is_chosen_from_the_environment(env: dict, expected: str | None) -> None:
    assert detect(env) == expected


def test_wezterm_offers_both_protocols_kitty_first() -> None:
    assert preview.protocols({"TERM_PROGRAM": "WezTerm"}) == ("kitty", "iterm2")


# -- the sequences, byte by byte ---------------------------------------------------------------


def test_a_small_png_is_one_kitty_code() -> None:
    payload = base64.b64encode(PNG).decode()
    assert kitty_sequence(PNG, 40, 0) == f"\x1b_Ga=T,f=100,t=d,q=2,c=40,m=0;{payload}\x1b\\"
    assert kitty_sequence(PNG, 0, 20) == f"\x1b_Ga=T,f=100,t=d,q=2,r=20,m=0;{payload}\x1b\\"
    assert kitty_sequence(PNG, 40, 20).startswith("\x1b_Ga=T,f=100,t=d,q=2,c=40,r=20,m=0;")


def test_a_large_png_goes_in_4096_byte_chunks_m1_then_m0() -> None:
    data = bytes(range(256)) * 40  # 10240 bytes: 13656 base64 characters, four chunks
    payload = base64.b64encode(data).decode()
    expected = (
        f"\x1b_Ga=T,f=100,t=d,q=2,c=40,m=1;{payload[:4096]}\x1b\\"
        f"\x1b_Gm=1;{payload[4096:8192]}\x1b\\"
        f"\x1b_Gm=1;{payload[8192:12288]}\x1b\\"
        f"\x1b_Gm=0;{payload[12288:]}\x1b\\"
    )
    assert kitty_sequence(data, 40, 0) == expected


def test_the_iterm2_sequence() -> None:
    name = base64.b64encode("fox é.jpg".encode()).decode()
    payload = base64.b64encode(JPEG).decode()
    assert iterm2_sequence(JPEG, "fox é.jpg", 40, 20) == (
        f"\x1b]1337;File=name={name};size={len(JPEG)};width=40;height=20;"
        f"preserveAspectRatio=1;inline=1:{payload}\x07"
    )


def test_tmux_passes_each_code_through_with_its_escapes_doubled() -> None:
    assert tmux_wrap("\x1b_Gm=1;AA\x1b\\\x1b_Gm=0;BB\x1b\\") == (
        "\x1bPtmux;\x1b\x1b_Gm=1;AA\x1b\x1b\\\x1b\\\x1bPtmux;\x1b\x1b_Gm=0;BB\x1b\x1b\\\x1b\\"
    )
    assert tmux_wrap("\x1b]1337;File=inline=1:QQ\x07") == (
        "\x1bPtmux;\x1b\x1b]1337;File=inline=1:QQ\x07\x1b\\"
    )


@pytest.mark.parametrize(
    ("pixels", "cells"),
    [(None, (40, 20)), ((1024, 1024), (40, 0)), ((1024, 1536), (0, 20)), ((1536, 1024), (40, 0))],
)
def test_the_box_keeps_the_image_shape(pixels: Any, cells: tuple[int, int]) -> None:
    assert fit(pixels) == cells


def test_the_sequence_chosen_for_each_terminal_and_format() -> None:
    kitty, _ = sequence_for(PNG, "a.png", (1, 1), {"TERM": "xterm-kitty"})
    assert kitty == kitty_sequence(PNG, 40, 0)
    wrapped, _ = sequence_for(PNG, "a.png", (1, 1), {"TERM_PROGRAM": "WezTerm", "TMUX": "x"})
    assert wrapped == tmux_wrap(kitty_sequence(PNG, 40, 0))
    # JPEG: Kitty's protocol takes PNG only; WezTerm shows it through iTerm2's, Kitty not at all
    wez, why = sequence_for(JPEG, "a.jpg", None, {"TERM_PROGRAM": "WezTerm"})
    assert (wez, why) == (iterm2_sequence(JPEG, "a.jpg", 40, 20), None)
    assert sequence_for(JPEG, "a.jpg", None, {"TERM": "xterm-kitty"}) == (
        None,
        "no preview of JPEG images here: Kitty's protocol shows PNG only",
    )
    none, why = sequence_for(b"<svg/>", "a.svg", None, {"TERM_PROGRAM": "iTerm.app"})
    assert none is None and why and "format" in why
    none, why = sequence_for(PNG, "a.png", None, {"TERM": "xterm-256color"})
    assert none is None and why and why.startswith("this terminal is not known to show images")


def test_notes_are_given_once_and_an_unknown_terminal_only_to_the_flag(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(PNG)
    plain = {"TERM": "xterm-256color"}
    typed = Thumbnails("flag", plain)
    assert typed.of(str(image), None)[1] == (
        "no preview: this terminal is not known to show images (Kitty, Ghostty, WezTerm, iTerm2)"
    )
    assert typed.of(str(image), None) == (None, None)
    assert Thumbnails("config", plain).of(str(image), None) == (None, None)
    assert Thumbnails("env", plain).of(str(image), None) == (None, None)
    assert Thumbnails("config", {"TERM": "xterm-kitty"}).of(None, None) == (None, None)
    jpeg = tmp_path / "a.jpg"
    jpeg.write_bytes(JPEG)
    assert Thumbnails("config", {"TERM": "xterm-kitty"}).of(str(jpeg), None)[1]


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [({}, "", (False, "default")), ({"DEERIMG_PREVIEW": "1"}, "", (True, "env")),
     ({"DEERIMG_PREVIEW": "0"}, "preview = true\n", (False, "env")),
     ({}, "preview = true\n", (True, "config"))],
)  # fmt: skip
def test_the_setting_comes_from_the_environment_or_the_config(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, env: dict, config: str, expected: Any
) -> None:
    from deerimg.settings.resolve import resolve_settings

    if config:
        config_file.parent.mkdir(mode=0o700)
        config_file.write_text(config)
        config_file.chmod(0o600)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = resolve_settings({})
    assert (settings.preview, settings.sources["preview"]) == expected
    assert resolve_settings({"preview": True}).sources["preview"] == "flag"


# -- a real run: stderr on a pseudo-terminal ---------------------------------------------------


def at_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """`python -m deerimg ARGS` with standard error on a pseudo-terminal (80x24) and standard
    output on a pipe: its exit code, what the terminal got, what the pipe got."""
    import fcntl
    import pty
    import select
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in TERMINALS} | env
    process = subprocess.Popen(
        [sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=full,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the process and its terminal are gone
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        assert process.stdout is not None
        return process.wait(timeout=30), seen, process.stdout.read()
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


def png_pixels(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@posix_only
def test_kitty_shows_the_saved_image_from_a_pseudo_terminal(fake_api: Any) -> None:
    code, seen, out = at_terminal(
        ["generate", "a fox", "-o", "fox.png", "--preview"], {"TERM": "xterm-kitty"}
    )
    assert code == 0, seen
    data = Path("fox.png").read_bytes()
    expected = kitty_sequence(data, *fit(png_pixels(data))).encode()
    assert expected in seen  # every chunk, in order, unbroken by the live display
    assert base64.b64encode(data)[:4096] in seen
    assert seen.count(b"\x1b_Ga=T") == 1
    assert seen.index(b"saved fox.png") < seen.index(b"\x1b_Ga=T")  # below its saved line
    assert out == b"fox.png\n"  # the path on stdout (a pipe), no image there
    assert b"\x1b[?25l" in seen  # rich's live display ran around it


@posix_only
def test_each_image_of_a_batch_is_shown(fake_api: Any) -> None:
    code, seen, _ = at_terminal(
        ["generate", "a fox", "-n", "2", "-o", "fox.png"],
        {"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1", "DEERIMG_PREVIEW": "1"},
    )
    assert code == 0, seen
    for name in ("fox-1.png", "fox-2.png"):
        data = Path(name).read_bytes()
        assert kitty_sequence(data, *fit(png_pixels(data))).encode() in seen


@posix_only
def test_iterm2_shows_the_saved_image_inside_tmux(fake_api: Any) -> None:
    env = {"TERM": "screen-256color", "LC_TERMINAL": "iTerm2", "TMUX": "tmux-1/default,1,0"}
    code, seen, _ = at_terminal(["generate", "a fox", "-o", "fox.jpg", "--preview"], env)
    assert code == 0, seen
    data = Path("fox.jpg").read_bytes()
    assert tmux_wrap(iterm2_sequence(data, "fox.jpg", 40, 20)).encode() in seen


@posix_only
@pytest.mark.parametrize("asked", ["--preview", "DEERIMG_PREVIEW=1"])
def test_an_unknown_terminal_gets_no_escape_sequence(fake_api: Any, asked: str) -> None:
    env = {"TERM": "xterm-256color"} | ({"DEERIMG_PREVIEW": "1"} if "=" in asked else {})
    args = ["generate", "a fox", "-n", "2", "-o", "fox.png"] + ([asked] if "=" not in asked else [])
    code, seen, _ = at_terminal(args, env)
    assert code == 0, seen
    assert b"\x1b_G" not in seen and b"\x1b]1337" not in seen and b"\x1bPtmux" not in seen
    note = b"no preview: this terminal is not known to show images"
    assert seen.count(note) == (1 if asked == "--preview" else 0)


@posix_only
def test_quiet_shows_nothing(fake_api: Any) -> None:
    code, seen, _ = at_terminal(
        ["generate", "a fox", "-o", "fox.png", "--preview", "--quiet"], {"TERM": "xterm-kitty"}
    )
    assert code == 0 and b"\x1b_G" not in seen


def test_off_a_terminal_nothing_is_sent(fake_api: Any, cli_subprocess: Any) -> None:
    done = cli_subprocess(
        ["generate", "a fox", "-o", "fox.png", "--preview", "--json"],
        env={"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1", "TERM_PROGRAM": "iTerm.app"},
    )
    assert done.returncode == 0, done.stderr
    for stream in (done.stdout, done.stderr):
        assert b"\x1b_G" not in stream and b"\x1b]1337" not in stream
    assert b"no preview" not in done.stderr


@posix_only
def test_json_keeps_the_preview_on_stderr_and_stdout_clean(fake_api: Any) -> None:
    code, seen, out = at_terminal(
        ["generate", "a fox", "-o", "fox.png", "--preview", "--json"], {"TERM": "xterm-kitty"}
    )
    assert code == 0, seen
    data = Path("fox.png").read_bytes()
    assert kitty_sequence(data, *fit(png_pixels(data))).encode() in seen
    assert json.loads(out)["path"] == "fox.png" and b"\x1b" not in out
