"""What a name is made of: the slug, the model's safe name, placeholders filled in or added."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from deerimg.imaging.formats import IMAGE_EXTS
from deerimg.jobs.outputs import has_placeholder

SLUG_MAX = 48
RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes, at most 48 characters, never empty or reserved."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-") or "image"
    if slug in RESERVED:
        slug = f"{slug}-image"
    return slug


def safe_model(model: str) -> str:
    """MODEL as {model} puts it in a name: never a folder (owner/name → owner-name), never empty
    or reserved."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip(".-") or "model"
    # Windows reserves NUL, CON, … before any extension: NUL.png is the null device.
    return f"{name}-model" if name.split(".")[0].lower() in RESERVED else name


def render(template: str, values: dict[str, str]) -> str:
    """TEMPLATE with each {key} of VALUES filled in."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def numbered_template(template: str, placeholder: str) -> str:
    """out.jpg → out-{index}.jpg, {slug}.{ext} → {slug}-{model}.{ext}: before the extension."""
    path = Path(template)
    suffix = path.suffix if path.suffix.lower() in (*IMAGE_EXTS, ".{ext}") else ""
    stem = template[: len(template) - len(suffix)] if suffix else template
    return f"{stem}-{placeholder}{suffix}"


def told_apart(template: str, by_model: bool, number: str | None) -> str:
    """-o or a line's "output" with what tells its images apart added where it has none: the
    model where several models share it (BY_MODEL: out.png → out-gpt-image-2.png), then NUMBER
    ({index} for -o, {n} for a line) where one model makes several images of a name with no
    placeholder (out.png → out-1.png; out-gpt-image-2-1.png)."""
    plain = not has_placeholder(template)
    if by_model and "{model}" not in template:
        template = numbered_template(template, "{model}")
    if plain and number is not None:
        template = numbered_template(template, number)
    return template
