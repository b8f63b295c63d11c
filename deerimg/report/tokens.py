"""An answer's tokens as the saved line shows them: its usage, then its svg_usage."""

from __future__ import annotations

from typing import Any

from deerimg.values import whole_number


def format_usage(usage: Any, svg_usage: Any = None) -> str | None:
    """tokens: input 16 (text 16, image 0), output 208, total 224; svg: input 40, output 900
    (reasoning 300), total 940. None when neither says a count."""
    head, svg = _counts(usage), _counts(svg_usage)
    if head and svg:
        return f"tokens: {head}; svg: {svg}"
    if svg:
        return f"tokens: svg: {svg}"
    return f"tokens: {head}" if head else None


def _counts(usage: Any) -> str | None:
    """input N (text N, image N), output N (reasoning N), total N: the counts USAGE gives."""
    if not isinstance(usage, dict):
        return None
    parts = []
    for key, details, inner in (
        ("input_tokens", usage.get("input_tokens_details"), ("text_tokens", "image_tokens")),
        ("output_tokens", usage, ("reasoning_tokens",)),
        ("total_tokens", None, ()),
    ):
        value = whole_number(usage.get(key))
        if value is None:
            continue
        text = f"{key.removesuffix('_tokens')} {value:,}"
        if isinstance(details, dict):
            shown = [f"{k.removesuffix('_tokens')} {details[k]:,}" for k in inner
                     if whole_number(details.get(k)) is not None]  # fmt: skip
            text += f" ({', '.join(shown)})" if shown else ""
        parts.append(text)
    return ", ".join(parts) or None
