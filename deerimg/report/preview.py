"""Inline previews: which image protocol a terminal speaks, and its escape sequences (pure).

Kitty's graphics protocol (Kitty, Ghostty, WezTerm) takes a PNG's bytes as they are (`f=100`);
iTerm2's inline images (iTerm2, WezTerm) take any format the terminal decodes. Neither needs
the image decoded here: the file's bytes go out in base64, sized in cells by the terminal.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

KITTY = "kitty"
ITERM2 = "iterm2"
COLUMNS = 40  # the thumbnail's box, in cells
ROWS = 20
CHUNK = 4096  # Kitty's largest payload per escape code
# What each protocol shows, by the file's own bytes (its extension may say otherwise).
SHOWS = {KITTY: ("png",), ITERM2: ("png", "jpeg", "webp", "gif")}


def protocols(env: Mapping[str, str]) -> tuple[str, ...]:
    """The protocols the terminal of ENV shows images with, best first; () for one not known.

    Only the environment is read: no query is sent to the terminal (its answer would land in
    standard input). Inside tmux, TERM and TERM_PROGRAM are tmux's own, but KITTY_WINDOW_ID and
    LC_TERMINAL come from the terminal around it.
    """
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "")
    found: list[str] = []
    if (
        term in ("xterm-kitty", "xterm-ghostty")
        or env.get("KITTY_WINDOW_ID")
        or program in ("ghostty", "WezTerm")
    ):
        found.append(KITTY)
    if program in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        found.append(ITERM2)
    return tuple(found)


def detect(env: Mapping[str, str]) -> str | None:
    """The protocol to use in the terminal of ENV: "kitty", "iterm2", or None (not known)."""
    found = protocols(env)
    return found[0] if found else None


def image_format(data: bytes) -> str | None:
    """png, jpeg, webp or gif, from the file's first bytes; None for anything else (SVG)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def fit(pixels: tuple[int, int] | None, cols: int = COLUMNS, rows: int = ROWS) -> tuple[int, int]:
    """The cells (columns, rows) of the box; one of them 0 when the image's PIXELS are known:
    the terminal then computes it from the image's shape (a cell is about twice as tall as it is
    wide), so the thumbnail is not stretched."""
    if not pixels or not pixels[0] or not pixels[1]:
        return cols, rows
    width, height = pixels
    return (cols, 0) if rows * 2 * width >= cols * height else (0, rows)


def kitty_sequence(data: bytes, cols: int, rows: int, image_id: int | None = None) -> str:
    """A PNG shown at the cursor with Kitty's graphics protocol, in chunks of 4096 base64 bytes.

    a=T transmits and shows it; t=d, the data is in the codes; q=2, the terminal answers
    nothing (an answer would land in standard input); c/r, the box in cells (0: not given).
    """
    payload = base64.standard_b64encode(data).decode("ascii")
    chunks = [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)] or [""]
    size = (f",c={cols}" if cols else "") + (f",r={rows}" if rows else "")
    size += f",i={image_id}" if image_id is not None else ""  # deleted by it (erase_box)
    codes = []
    for index, chunk in enumerate(chunks):
        more = 1 if index < len(chunks) - 1 else 0
        keys = f"a=T,f=100,t=d,q=2{size},m={more}" if index == 0 else f"m={more}"
        codes.append(f"\x1b_G{keys};{chunk}\x1b\\")
    return "".join(codes)


def iterm2_sequence(data: bytes, name: str, cols: int, rows: int) -> str:
    """An image shown at the cursor with iTerm2's inline images (OSC 1337), fitted in the box of
    COLS by ROWS cells, its shape kept."""
    encoded_name = base64.standard_b64encode(name.encode("utf-8", "surrogateescape")).decode()
    payload = base64.standard_b64encode(data).decode("ascii")
    return (
        f"\x1b]1337;File=name={encoded_name};size={len(data)};width={cols};height={rows};"
        f"preserveAspectRatio=1;inline=1:{payload}\x07"
    )


def tmux_wrap(sequence: str) -> str:
    """SEQUENCE passed through tmux to the terminal around it (tmux's `allow-passthrough on`):
    each escape code in its own DCS, every ESC in it doubled."""
    codes = [code for code in sequence.split("\x1b\\") if code]
    ends = sequence.endswith("\x1b\\")
    wrapped = []
    for index, code in enumerate(codes):
        whole = code + ("\x1b\\" if index < len(codes) - 1 or ends else "")
        wrapped.append("\x1bPtmux;" + whole.replace("\x1b", "\x1b\x1b") + "\x1b\\")
    return "".join(wrapped)


def protocol_for(data: bytes, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The protocol that shows the image DATA in the terminal of ENV, or None and why not."""
    found = protocols(env)
    if not found:
        return None, "this terminal is not known to show images (Kitty, Ghostty, WezTerm, iTerm2)"
    kind = image_format(data)
    usable = [protocol for protocol in found if kind in SHOWS[protocol]]
    if not usable:
        what = f"{kind.upper()} images" if kind else "this image's format"
        why = "Kitty's protocol shows PNG only" if found == (KITTY,) else "not shown inline"
        return None, f"no preview of {what} here: {why}"
    return usable[0], None


def sequence_for(
    data: bytes, name: str, pixels: tuple[int, int] | None, env: Mapping[str, str]
) -> tuple[str | None, str | None]:
    """The escape sequence that shows the image DATA (file NAME) in the terminal of ENV, or
    None and why not: (sequence, None) or (None, reason)."""
    protocol, why = protocol_for(data, env)
    if protocol is None:
        return None, why
    cols, rows = fit(pixels)
    if protocol == KITTY:
        sequence = kitty_sequence(data, cols, rows)
    else:
        sequence = iterm2_sequence(data, name, COLUMNS, ROWS)
    return (tmux_wrap(sequence) if env.get("TMUX") else sequence), None


def box(pixels: tuple[int, int] | None, cols: int = COLUMNS, rows: int = ROWS) -> tuple[int, int]:
    """Both sides of the box, in cells, that a partial image is shown in: its rows must be known,
    so the next partial can take its place (a cell about twice as tall as it is wide)."""
    if not pixels or not pixels[0] or not pixels[1]:
        return cols, rows
    width, height = pixels
    tall = max(1, round(cols * height / width / 2))
    if tall <= rows:
        return cols, tall
    return max(1, round(rows * 2 * width / height)), rows


def boxed(
    data: bytes, name: str, pixels: tuple[int, int] | None, env: Mapping[str, str], image_id: int
) -> tuple[str, int] | None:
    """The sequence that shows a partial image in a box of known rows, and the rows; None where
    the terminal cannot show it. The rows are made first (scrolling as need be), the image drawn
    from their top with the cursor saved and restored, and the cursor left below them: where it
    ends is known whatever the protocol does with the cursor (erase_box takes it back)."""
    protocol, _why = protocol_for(data, env)
    if protocol is None:
        return None
    cols, rows = box(pixels)
    if protocol == KITTY:
        image = kitty_sequence(data, cols, rows, image_id)
    else:
        image = iterm2_sequence(data, name, cols, rows)
    image = tmux_wrap(image) if env.get("TMUX") else image
    return f"{chr(10) * rows}\x1b[{rows}A\r\x1b7{image}\x1b8\x1b[{rows}B\r", rows


def erase_box(rows: int, image_id: int, env: Mapping[str, str]) -> str:
    """Back to the top of a box of ROWS shown by boxed(), the text below cleared and the image
    deleted (Kitty keeps an image over the text until it is deleted)."""
    delete = f"\x1b_Ga=d,d=I,i={image_id},q=2\x1b\\"
    delete = "" if KITTY not in protocols(env) else tmux_wrap(delete) if env.get("TMUX") else delete
    return f"{delete}\x1b[{rows}A\r\x1b[J"
