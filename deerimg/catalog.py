"""`models`: fetch /v1/models, keep image models, --search, --all; cache the ids for completion.

Which models are image models. DeerAPI's `GET /v1/models` gives only `id`, `owned_by` and
`created`, with no capability flag (research/peers.md §5), so the rule has two steps:

1. A field that says what the model makes decides, when the API gives one (other gateways do):
   `output_modalities`, at the top or under `architecture` (OpenRouter), lists "image" or not;
   `supported_endpoint_types` (new-api gateways) holds "image-generation" (its absence decides
   nothing: those gateways guess it from names, and miss families such as Seedream);
   `type` (Together) or `mode` (LiteLLM) names image generation or another kind of model.
2. Otherwise the id decides, case-insensitively. A word naming another kind of model excludes it
   (OTHER_KINDS, OTHER_WORDS: embedding, vision, vl, video, t2v, i2v, tts, whisper, audio, ocr,
   transcribe, describe, caption, understanding, moderation, rerank, shorten). Then a known image
   family includes it (IMAGE_FAMILIES: gpt-image, chatgpt-image, dall-e, flux, midjourney, mj,
   niji, seedream, seededit, imagen, ideogram, recraft, stable-diffusion, stable-image, sdxl, sd3,
   qwen-image, cogview, kolors, hidream, playground-v, nano-banana, wanx, t2i), and so does the
   word "image" (gemini-2.5-flash-image, gemini-3-pro-image-preview, grok-2-image, image-01).
   A family is a whole word or glued to a version: flux.1-dev, recraftv3, not influx, imagenet.

The cache: the image-model ids of the last successful fetch (whatever --all or --search showed),
sorted, one per line, in `models.txt` inside platformdirs' user cache folder for deerimg, or in
`$DEERIMG_CONFIG_DIR/cache` when that is set (inside the folder the user named, never beside it:
DEERIMG_CONFIG_DIR=/etc/deerimg must not create /etc/cache). Image models only, because shell
completion offers the file's lines as they are for `generate -m` without starting Python. It is
written atomically, and a failure to write it is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deerimg.families import family_of

if TYPE_CHECKING:
    from deerimg.events import Retrying
    from deerimg.settings.resolve import Settings

CACHE_FILE = "models.txt"

OTHER_KINDS = (
    "embed", "vision", "video", "t2v", "i2v", "tts", "whisper", "audio", "transcribe", "describe",
    "caption", "understand", "moderation", "rerank", "shorten",
)  # fmt: skip
OTHER_WORDS = ("vl", "ocr")  # too short to match as the start of a word: whole words only
IMAGE_FAMILIES = (
    "gpt-image", "chatgpt-image", "dall-e", "dalle", "flux", "midjourney", "mj", "niji", "seedream",
    "seededit", "imagen", "ideogram", "recraft", "stable-diffusion", "stable-image", "sdxl", "sd3",
    "qwen-image", "cogview", "kolors", "hidream", "playground-v", "nano-banana", "wanx", "t2i",
)  # fmt: skip

# A word starts after anything but a letter ("sd3" in "sd3.5", "t2i" in "wan2.2-t2i-flash").
_START = r"(?<![a-z])"
_OTHER_RE = re.compile(
    _START + "(?:" + "|".join(map(re.escape, OTHER_KINDS)) + ")"
    "|" + _START + "(?:" + "|".join(OTHER_WORDS) + ")(?![a-z])"
)
# A family is a whole word, or glued to its version: recraftv3, dalle3, flux1 (not imagenet).
_FAMILY_RE = re.compile(
    _START + "(?:" + "|".join(map(re.escape, IMAGE_FAMILIES)) + r")(?=[^a-z]|v\d|$)"
)
_IMAGE_WORD_RE = re.compile(_START + r"image(?![a-z])")

_IMAGE_KINDS = {"image", "images", "image_generation", "image-generation", "text-to-image"}
_OTHER_KIND_NAMES = {
    "chat", "language", "code", "completion", "embedding", "embeddings", "moderation", "rerank",
    "audio", "audio_speech", "audio_transcription", "transcribe", "video", "video_generation",
    "text",
}  # fmt: skip


def declared_image(model: dict[str, Any]) -> bool | None:
    """What the API's own fields say: True, False, or None when they say nothing (DeerAPI)."""
    for holder in (model, model.get("architecture")):
        if isinstance(holder, dict):
            modalities = holder.get("output_modalities")
            if isinstance(modalities, list) and modalities:
                return "image" in {str(m).lower() for m in modalities}
    endpoints = model.get("supported_endpoint_types")
    if isinstance(endpoints, list) and "image-generation" in endpoints:
        return True
    for field in ("type", "mode"):
        kind = model.get(field)
        if isinstance(kind, str):
            if kind.lower() in _IMAGE_KINDS:
                return True
            if kind.lower() in _OTHER_KIND_NAMES:
                return False
    return None


def is_image_id(model_id: str) -> bool:
    """The id rule (step 2 of the module docstring)."""
    name = model_id.lower()
    if _OTHER_RE.search(name):
        return False
    return bool(_FAMILY_RE.search(name) or _IMAGE_WORD_RE.search(name))


def is_image_model(model: dict[str, Any]) -> bool:
    declared = declared_image(model)
    return declared if declared is not None else is_image_id(str(model.get("id", "")))


def matches(model: dict[str, Any], search: str) -> bool:
    """Every word of SEARCH appears in the id or the owner, case-insensitively."""
    haystack = f"{model.get('id', '')} {model.get('owned_by') or ''}".casefold()
    return all(word in haystack for word in search.casefold().split())


def family_name(model: dict[str, Any]) -> str:
    """The name of the family deerimg's table puts the model in (families.py); generic if none."""
    return family_of(str(model.get("id", ""))).name


def select(
    models: Iterable[dict[str, Any]],
    *,
    all_models: bool = False,
    search: str | None = None,
    family: str | None = None,
) -> list[dict[str, Any]]:
    """The models to show: image models unless ALL_MODELS, matching SEARCH, of a family whose name
    holds FAMILY (seedream: every Seedream version), one per id, sorted; each with its "family"."""
    chosen: dict[str, dict[str, Any]] = {}
    for model in models:
        model_id = str(model.get("id", ""))
        if model_id in chosen or not (all_models or is_image_model(model)):
            continue
        if search and not matches(model, search):
            continue
        name = family_name(model)
        if family and family.casefold() not in name:
            continue
        chosen[model_id] = {**model, "family": name}
    return [chosen[key] for key in sorted(chosen, key=lambda k: (k.casefold(), k))]


def created_date(model: dict[str, Any]) -> str:
    """`created` (Unix seconds; milliseconds are recognised) as YYYY-MM-DD in UTC, else ''."""
    created = model.get("created")
    if not isinstance(created, (int, float)) or isinstance(created, bool) or created <= 0:
        return ""
    if created > 10**11:  # some gateways send milliseconds
        created /= 1000
    try:
        return datetime.fromtimestamp(created, tz=timezone.utc).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return ""


def rows(models: Iterable[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(id, family, owner, created date) for the table."""
    return [
        (str(m["id"]), family_name(m), str(m.get("owned_by") or ""), created_date(m))
        for m in models
    ]


def fetch_models(
    settings: Settings, on_retry: Callable[[Retrying], None] | None = None
) -> list[dict[str, Any]]:
    """GET {base}/v1/models with generate's retries and errors; remember the ids for completion."""
    from deerimg.wire.client import ApiClient

    client = ApiClient(settings, on_retry=on_retry, connections=1)
    try:
        models = client.list_models()
    finally:
        client.close()
    save_cache(str(m["id"]) for m in models if is_image_model(m))
    return models


# -- the cache ----------------------------------------------------------------------------------


def cache_path() -> Path:
    from deerimg.settings.dirs import cache_dir

    return cache_dir() / CACHE_FILE


def save_cache(ids: Iterable[str]) -> None:
    """Write the ids atomically (temp file, then rename); any failure is ignored."""
    from deerimg.atomic import write_atomic

    text = "".join(f"{i}\n" for i in sorted(set(ids)) if i and "\n" not in i)
    try:
        path = cache_path()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"), prefix=".models-")
    except OSError:
        pass  # only completion reads it; `models` must not fail for it


def cached_model_ids() -> list[str]:
    """The image-model ids the last `deerimg models` fetched, for completion; [] when none."""
    try:
        text = cache_path().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]
