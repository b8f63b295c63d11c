"""A gallery page: one self-contained HTML contact sheet of images, every text escaped; pure."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from deerimg.report.prices import cost

# The page's own style and script, allowed by their hashes: no other script runs, nothing is
# fetched from elsewhere (Content-Security-Policy), and the images are the page's own files.
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f2;color:#222}
header{position:sticky;top:0;background:#fff;padding:.6em 1em;border-bottom:1px solid #ddd;
display:flex;gap:1em;align-items:center;flex-wrap:wrap}
h1{font-size:1.1em;margin:0}
#filter{flex:1;min-width:12em;max-width:30em;padding:.35em .5em;font:inherit}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:1em;padding:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;margin:0;overflow:hidden}
.card[hidden]{display:none}
.card img{display:block;width:100%;height:240px;object-fit:contain;background:#e8e8e6}
figcaption{padding:.5em .7em}
.prompt{margin:0 0 .4em;white-space:pre-wrap;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:auto 1fr;gap:0 .6em;margin:0;color:#555;font-size:.9em}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
""".strip()
SCRIPT = """
(function () {
  var box = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var cards = document.querySelectorAll(".card");
  box.addEventListener("input", function () {
    var needle = box.value.toLowerCase();
    var count = 0;
    cards.forEach(function (card) {
      var keep = card.getAttribute("data-text").indexOf(needle) !== -1;
      card.hidden = !keep;
      count += keep ? 1 : 0;
    });
    shown.textContent = String(count);
  });
})();
""".strip()


class CardLike(Protocol):
    """What the page shows of one image (deerimg.run.gallery.Card)."""

    @property
    def path(self) -> Path: ...
    @property
    def prompt(self) -> str | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def pixels(self) -> str | None: ...
    @property
    def cost_usd(self) -> float | None: ...
    @property
    def images(self) -> int: ...
    @property
    def date(self) -> str | None: ...
    @property
    def request_id(self) -> str | None: ...
    @property
    def source(self) -> str: ...


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


POLICY = (
    f"default-src 'none'; img-src 'self' file: data:; style-src {_hash(STYLE)}; "
    f"script-src {_hash(SCRIPT)}; base-uri 'none'; form-action 'none'"
)


def link(path: Path, folder: Path) -> str:
    """PATH as a relative URL from FOLDER (each part percent-encoded), else a file: URL."""
    try:
        relative = os.path.relpath(path.absolute(), folder.absolute())
    except ValueError:  # another drive
        return path.absolute().as_uri()
    return "/".join(quote(part, safe="") for part in Path(relative).parts)


def _date(text: str | None) -> str | None:
    """2026-12-06T03:35:06Z as 2026-12-06 03:35:06 UTC; anything else as it is."""
    if text and len(text) == 20 and text[10] == "T" and text.endswith("Z"):
        return f"{text[:10]} {text[11:19]} UTC"
    return text


def _cost(card: CardLike) -> str | None:
    if card.cost_usd is None:
        return None
    per = f" (the request, {card.images} images)" if card.images > 1 else ""
    return cost(card.cost_usd) + per


def _card(card: CardLike, folder: Path) -> str:
    href = escape(link(card.path, folder), quote=True)
    prompt = card.prompt if card.prompt is not None else ""
    facts = [
        ("file", card.path.name),
        ("model", card.model),
        ("size", card.pixels),
        ("cost", _cost(card)),
        ("date", _date(card.date)),
        ("request", card.request_id),
        ("from", {"none": "no record"}.get(card.source, card.source)),
    ]
    rows = "".join(
        f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in facts if value
    )
    searched = escape(f"{prompt}\n{card.model or ''}".lower(), quote=True)
    alt = escape(prompt or card.path.name, quote=True)
    shown = escape(prompt) if prompt else "<em>no prompt recorded</em>"
    return (
        f'<figure class="card" data-text="{searched}">'
        f'<a href="{href}"><img src="{href}" loading="lazy" alt="{alt}"></a>'
        f'<figcaption><p class="prompt">{shown}</p><dl>{rows}</dl></figcaption></figure>'
    )


def render(cards: Sequence[CardLike], folder: Path, *, made: str) -> str:
    """The page for CARDS, its links relative to FOLDER (where it is written); MADE: when."""
    count = len(cards)
    title = f"deerimg gallery: {count} image{'s' if count != 1 else ''}"
    body = "\n".join(_card(card, folder) for card in cards)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(POLICY, quote=True)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="deerimg">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{escape(title)}</h1>
<input id="filter" type="search" placeholder="Filter by prompt or model" aria-label="Filter">
<span><span id="shown">{count}</span> of {count} shown · made {escape(made)}</span></header>
<main>
{body}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
