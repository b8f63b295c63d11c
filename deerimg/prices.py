"""What an image costs: a dated price table with its sources, the actual cost, the estimate.

List prices, in USD, by model id pattern, first match wins. DeerAPI resells at prices of its own,
so the config file's `[prices."MODEL"]` overrides any row (use_prices). A model with no price is
"cost unknown", never 0. Sources (each row names its own):
- GPT image, per 1M tokens: OpenAI's model pages as LiteLLM's table carries them
  (research/peers-2026-12.md §4.3; research/peers.md §4.6 for gpt-image-1-mini).
- Output tokens by quality and size, for estimates: OpenAI's image-generation guide (gpt-image-1:
  1024x1024 low 272, medium 1056, high 4160; 1536x1024 and 1024x1536 one and a half times those,
  so the count follows the pixels).
- Seedream, per image: BytePlus ModelArk's list prices (2026-06, as docs.gogogotoken.ai relays
  them; 4.0 and 3.0: modellix.ai's, 2026-04-30).
- Gemini image, per image: LiteLLM's `output_cost_per_image` (research/peers-2026-12.md §4.3).
- FLUX, per image: Black Forest Labs' list prices (developer.puter.com, 2026-06; workflowlab.dev
  for FLUX 1.1 [pro], 2026-05; basedlabs.ai for Ultra).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from deerimg.sizes import WXH

TOKEN_FIELDS = ("text_in", "image_in", "image_out", "text_out")  # USD per 1M tokens


@dataclass(slots=True)
class Price:
    """One row: a model id pattern, per-image or per-token prices, its date and source."""

    pattern: str  # matched at the start of the lower-cased model id (a config row: the id)
    per_image: float | None = None  # USD an image
    text_in: float | None = None  # USD per 1M tokens
    image_in: float | None = None
    image_out: float | None = None
    text_out: float | None = None
    date: str = ""
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


OPENAI = "OpenAI's model pages, via LiteLLM's price table"
BYTEPLUS = "BytePlus ModelArk list price"
BFL = "Black Forest Labs list price"
TABLE: tuple[Price, ...] = (
    Price(r"gpt-image-2", text_in=5, image_in=8, image_out=30, date="2026-11", source=OPENAI),
    Price(r"gpt-image-1-mini", text_in=2, image_in=2.5, image_out=8, date="2026-08",
          source="OpenAI's gpt-image-1-mini page"),
    Price(r"(gpt-image-1\.5|chatgpt-image)", text_in=5, image_in=8, image_out=32, text_out=10,
          date="2026-11", source=OPENAI),
    Price(r"gpt-image-1", text_in=5, image_in=10, image_out=40, date="2026-11", source=OPENAI),
    Price(r"(doubao-)?seedream-4-5", per_image=0.04, date="2026-06", source=BYTEPLUS),
    Price(r"(doubao-)?seedream-5-0", per_image=0.035, date="2026-06", source=BYTEPLUS),
    Price(r"(doubao-)?seedream-(4-0|3-0)", per_image=0.03, date="2026-04", source=BYTEPLUS),
    Price(r"gemini-3\.1-flash-image", per_image=0.0672, date="2026-11",
          source="LiteLLM's price table"),
    Price(r"gemini-3-pro-image", per_image=0.134, date="2026-11", source="LiteLLM's price table"),
    Price(r"flux-kontext-max", per_image=0.08, date="2026-06", source=BFL),
    Price(r"flux-kontext-pro", per_image=0.04, date="2026-06", source=BFL),
    Price(r"flux-pro-1\.1-ultra", per_image=0.06, date="2026-05", source=BFL),
    Price(r"flux-pro-1\.1", per_image=0.04, date="2026-05", source=BFL),
)  # fmt: skip
_configured: dict[str, Price] = {}  # the config's [prices."MODEL"] rows, by lower-cased id

# Output tokens of one 1024x1024 image by quality (OpenAI's guide); the count follows the pixels.
# auto is counted as high, xhigh and max as 2 and 3 times high: assumptions, said as such.
OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
BEYOND_HIGH = {"auto": 1.0, "xhigh": 2.0, "max": 3.0}
PROMPT_TOKENS = 100  # a prompt's text tokens, for estimates (a long prompt: a few hundred)


def use_prices(rows: Mapping[str, Mapping[str, Any]]) -> None:
    """The config's [prices."MODEL"] rows (checked by settings), in force from now on."""
    _configured.clear()
    for model, row in rows.items():
        given = {k: float(v) for k, v in row.items() if k in ("per_image", *TOKEN_FIELDS)}
        _configured[model.lower()] = Price(model, **given, date=str(row.get("date", "")),
                                           source="config file")  # fmt: skip


def price_of(model: str) -> Price | None:
    """The price in force for MODEL: the config's row for it, else the table's first match."""
    found = _configured.get(model.lower())
    if found is not None:
        return found
    return next((row for row in TABLE if re.match(row.pattern, model.lower())), None)


def table() -> list[Price]:
    """Every row in force: the config's first, then the shipped table."""
    return [*_configured.values(), *TABLE]


@dataclass(slots=True)
class Cost:
    usd: float | None  # None: unknown
    source: str  # "usage", "per_image" or "unknown"


def cost_of(
    model: str, usage: Mapping[str, Any] | None, images: int, *, answered: int | None = None
) -> Cost:
    """What one answer cost: per image (IMAGES saved of ANSWERED made; Seedream's
    usage.generated_images wins), else from its token usage; unknown without a price."""
    price = price_of(model)
    if price is None:
        return Cost(None, "unknown")
    if price.per_image is not None:
        made = usage.get("generated_images") if isinstance(usage, Mapping) else None
        count = _count(made) if _whole(made) else (answered if answered is not None else images)
        return Cost(round(price.per_image * count, 6), "per_image")
    if not isinstance(usage, Mapping) or price.image_out is None:
        return Cost(None, "unknown")
    if not _whole(usage.get("output_tokens")):  # no count to price: unknown, never $0
        return Cost(None, "unknown")
    details = usage.get("input_tokens_details")
    details = details if isinstance(details, Mapping) else {}
    text, image = _count(details.get("text_tokens")), _count(details.get("image_tokens"))
    if not text and not image:
        text = _count(usage.get("input_tokens"))
    usd = (
        text * (price.text_in or 0)
        + image * (price.image_in or price.text_in or 0)
        + _count(usage.get("output_tokens")) * price.image_out
    ) / 1e6
    return Cost(round(usd, 6), "usage")


@dataclass(slots=True)
class Estimate:
    usd: float | None  # None: no estimate
    how: str  # how it was made, for --dry-run and messages


def estimate_of(model: str, size: str | None, quality: str | None, images: int) -> Estimate:
    """What IMAGES images of MODEL at SIZE and QUALITY should cost, before anything is sent."""
    price = price_of(model)
    if price is None:
        return Estimate(None, "no price known for this model")
    if price.per_image is not None:
        return Estimate(round(price.per_image * images, 6), "per image")
    if price.image_out is None:
        return Estimate(None, "no output price known for this model")
    match = WXH.match(size or "")
    pixels = int(match.group(1)) * int(match.group(2)) if match else 1536 * 1024
    level = quality if quality in OUTPUT_TOKENS else "high"
    tokens = OUTPUT_TOKENS[level] * BEYOND_HIGH.get(quality or "auto", 1.0) * pixels / 1024**2
    usd = (tokens * price.image_out + PROMPT_TOKENS * (price.text_in or 0)) * images / 1e6
    assumed = []
    if quality not in OUTPUT_TOKENS:
        factor = BEYOND_HIGH.get(quality or "auto", 1.0)
        times = "" if factor == 1 else f"{factor:g} times "
        assumed.append(f"{quality or 'auto'} quality counted as {times}high")
    if match is None:
        assumed.append(f"size {size or 'auto'} counted as 1536x1024")
    note = f" ({'; '.join(assumed)})" if assumed else ""
    return Estimate(round(usd, 6), f"{round(tokens):,} output tokens an image{note}")


def _count(value: Any) -> int:
    return value if _whole(value) else 0


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def cost_of_entry(entry: Mapping[str, Any]) -> Cost | None:
    """What a history ledger ENTRY's request cost: its own cost_usd when it holds one, else
    counted now from its model, usage and images with the prices in force (older ledgers); None
    when no answer came (a failure, a task still pending): nothing known to be billed."""
    recorded = entry.get("cost_usd")
    if isinstance(recorded, (int, float)) and not isinstance(recorded, bool) and recorded >= 0:
        source = entry.get("cost_source")
        return Cost(float(recorded), source if isinstance(source, str) else "ledger")
    usage = entry.get("usage") if isinstance(entry.get("usage"), Mapping) else None
    if entry.get("outcome") != "ok" and usage is None:
        return None
    model, files, sources = entry.get("model"), entry.get("files"), entry.get("sources")
    if not isinstance(model, str):
        return Cost(None, "unknown")
    answered = len(sources) if isinstance(sources, list) and sources else None
    return cost_of(model, usage, len(files) if isinstance(files, list) else 0, answered=answered)


def readable(row: Price) -> str:
    """ROW's models as a person reads them: a config row's id as written; a table row's pattern
    as the ids it matches, `*` for "and what follows" and [optional] parts: `(doubao-)?seedream-
    (4-0|3-0)` is "[doubao-]seedream-4-0*, [doubao-]seedream-3-0*". A pattern beyond that: as is."""
    if any(row is configured for configured in _configured.values()):
        return row.pattern
    found = _spelled(row.pattern)
    return ", ".join(f"{text}*" for text in found) if found else row.pattern


def _spelled(pattern: str) -> list[str] | None:
    """The texts a pattern of literals, `\\.`, `(a|b)` and `(a)?` stands for; None beyond that."""
    at = 0

    def alternatives() -> list[str] | None:
        nonlocal at
        done: list[str] = []
        texts = [""]
        while at < len(pattern) and pattern[at] != ")":
            char, at = pattern[at], at + 1
            if char == "|":
                done, texts = done + texts, [""]
                continue
            if char == "\\" and at < len(pattern) and not pattern[at].isalnum():
                pieces, at = [pattern[at]], at + 1
            elif char == "(":
                inner = alternatives()
                if inner is None or at >= len(pattern):
                    return None
                at += 1  # the ")"
                optional = pattern.startswith("?", at)
                at += optional
                pieces = [f"[{'|'.join(inner)}]"] if optional else inner
            elif char in "\\.*+?[]{}^$":
                return None
            else:
                pieces = [char]
            texts = [text + piece for text in texts for piece in pieces]
        return done + texts

    found = alternatives()
    return found if found is not None and at == len(pattern) else None
