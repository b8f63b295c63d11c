"""The image families DeerAPI serves: which model ids each holds, and what each takes and answers.

The one table every other part reads (issue 17): validation, help, `models`, the dry run, and the
fake DeerAPI of the tests. Sources, per family, in research/model-families.md (§1, §2.1, §6) and
research/peers-2026-12.md §5 (OpenAI's images API as of November 2026). A model id the table does
not know belongs to the generic OpenAI-shaped family: sent as typed, checked only for shape. A new
id of a known family (gpt-image-2.7-…, doubao-seedream-4-5-261231) needs no release: families
match by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deerimg.sizes import Sizes

ANY_SIZE = Sizes(("auto", "adaptive", "1K", "2K", "3K", "4K"), free=True)
# Fields a known family takes only when its row names them (in values, takes or defaults): the
# newer or one-family fields, each with what its refusal adds. The generic family takes them all.
GATED: dict[str, str] = {
    "complexity": "",
    "frame_count": "",
    "frame_duration_ms": "",
    "markup": "",
    "watermark": "",
    "style": "a legacy field: ",  # peers-2026-12.md §5: "Legacy … Unsupported for GPT image"
}


@dataclass(slots=True)
class Family:
    """One family of models: how deerimg talks to it and what it may refuse before paying."""

    name: str  # short, lower case: gpt-image, seedream-4.5, generic
    title: str  # as people say it: GPT image, Seedream 4.5
    pattern: str  # a regular expression matched at the start of the lower-cased model id
    # "images": POST /v1/images/generations and /edits; "gemini": Google's generateContent
    route: str = "images"
    sizes: Sizes = field(default_factory=lambda: ANY_SIZE)
    # Allowed values of request fields; a field not named here is sent as typed.
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # How -n is sent: "n", "max_images" (Seedream's group mode), "one", or "requests" (one
    # request an image: Gemini)
    count: str = "n"
    max_count: int = 10
    references: int = 0  # reference images it takes (-i, or edit's images), 0: none
    # How they go: "edits", as files on POST /v1/images/edits (multipart); "inline", as data URLs
    # (or the URLs given) in the JSON `image` of POST /v1/images/generations (Seedream)
    references_as: str = "edits"
    max_with_outputs: int | None = None  # references + images asked for, at most (Seedream: 15)
    references_advised: int | None = None  # more work less well: a note past this many
    answers: str = "b64_json"  # or "url": downloaded at once
    url_lifetime: str | None = None  # how long an answer's URL lives
    defaults: Mapping[str, Any] = field(default_factory=dict)  # sent unless the user sends them
    takes: tuple[str, ...] = ()  # GATED fields it takes with any value (values: with those)
    renames: Mapping[str, str] = field(default_factory=dict)  # a flag's field sent by another name
    dropped: tuple[str, ...] = ()  # fields new-api relays are known to drop (research §2.1)
    retired: str | None = None  # the date the model stopped being served: a warning, still sent
    # The ids known to be served (README, research/model-families.md §1, peers-2026-12.md §5):
    # what -m<TAB> offers before `deerimg models` has saved the list, and the man page names.
    ids: tuple[str, ...] = ()
    # It streams partial images (`stream`, `partial_images`): OpenAI's GPT image models.
    streams: bool = False

    def matches(self, model: str) -> bool:
        return re.match(self.pattern, model.lower()) is not None

    def takes_field(self, name: str) -> bool:
        """Whether this family's requests may hold field NAME at all: any but a GATED one, and a
        GATED one its row names."""
        return (
            name not in GATED or name in self.takes or name in self.values or name in self.defaults
        )

    def refusal(self, name: str, value: Any) -> str | None:
        """Why VALUE for request field NAME is not one this family takes, or None."""
        if not self.takes_field(name):
            takers = ", ".join(f.title for f in FAMILIES if f.takes_field(name))
            return f"takes no {name} ({GATED[name]}{takers} only)"
        if name == "size" and isinstance(value, str):
            return self.sizes.refusal(value)
        allowed = self.values.get(name)
        if allowed is not None and value not in allowed:
            return f"takes {', '.join(allowed)}"
        return None


GPT_QUALITY = ("auto", "low", "medium", "high")
GPT_FORMATS = ("png", "jpeg", "webp")
# OpenAI's free-form rule (peers-2026-12.md §5): sides multiples of 16, ratio 1:3 to 3:1, at most
# 3840x2160; it names gpt-image-2 and the 2.5 models. Earlier GPT image models take three sizes.
GPT_FREE = Sizes(
    ("auto",), free=True, multiple=16, max_ratio=3, max_side=3840, max_pixels=3840 * 2160
)
GPT_FIXED = Sizes(("auto", "1024x1024", "1536x1024", "1024x1536"))
# OpenAI's safety_identifier "takes precedence over the deprecated `user`" (peers-2026-12.md §5).
GPT_RENAMES = {"user": "safety_identifier"}
SEEDREAM_DROPPED = (
    "seed", "guidance_scale", "sequential_image_generation", "sequential_image_generation_options",
    "optimize_prompt_options", "tools", "stream",
)  # fmt: skip


def _seedream_sizes(tiers: tuple[str, ...], min_pixels: int) -> Sizes:
    """A tier, or WxH of MIN_PIXELS to 4096x4096 at a ratio of at most 16:1 (research §2.1)."""
    return Sizes(tiers, free=True, max_ratio=16, min_pixels=min_pixels, max_pixels=4096 * 4096)


def _seedream(name: str, title: str, pattern: str, sizes: Sizes, **more: Any) -> Family:
    """A Seedream 4.x/5.x family: group mode for -n, up to 14 references, URL answers."""
    return Family(
        name,
        title,
        pattern,
        sizes=sizes,
        count="max_images",  # no `n`: sequential_image_generation "auto" with max_images
        max_count=15,
        references=14,
        references_as="inline",  # DeerAPI's Seedream page: `image`, data URLs or URLs
        max_with_outputs=15,
        answers="url",
        url_lifetime="24 h",
        # Upstream stamps a visible "AI生成" watermark unless told not to (research §2.1).
        defaults={"watermark": False},
        dropped=SEEDREAM_DROPPED,
        **more,
    )


FAMILIES: tuple[Family, ...] = (
    Family(
        "gpt-image-2.5",
        "GPT image 2.5/2.6",
        r"gpt-image-2\.[5-9]",
        sizes=GPT_FREE,
        # GIF and SVG: OpenAI's November-2026 formats (peers-2026-12.md §5)
        values={
            "quality": (*GPT_QUALITY, "xhigh", "max"),
            "output_format": (*GPT_FORMATS, "gif", "svg"),
            "complexity": ("low", "medium", "high"),
        },
        references=16,
        # GIF's frames and edit's markup: "Supports GPT Image 2.5" (peers-2026-12.md §5)
        takes=("frame_count", "frame_duration_ms", "markup"),
        renames=GPT_RENAMES,
        streams=True,
        ids=(
            "gpt-image-2.5-sunburst",
            "gpt-image-2.5-flare",
            "gpt-image-2.6-sunburst",
            "gpt-image-2.6-flare",
        ),
    ),
    Family(
        "gpt-image-2",
        "GPT image 2",
        r"gpt-image-2(?![.\d])",
        sizes=GPT_FREE,
        values={"quality": GPT_QUALITY, "output_format": GPT_FORMATS},
        references=16,
        renames=GPT_RENAMES,
        streams=True,
        ids=("gpt-image-2",),
    ),
    Family(
        "gpt-image-1",
        "GPT image 1",
        r"gpt-image-1(?![.\d-])",
        sizes=GPT_FIXED,
        values={"quality": GPT_QUALITY, "output_format": GPT_FORMATS},
        references=16,
        renames=GPT_RENAMES,
        streams=True,
        retired="gpt-image-1 was shut down on 2026-10-23 (OpenAI); use gpt-image-2.5-sunburst "
        "or gpt-image-2.5-flare",
        ids=("gpt-image-1",),
    ),
    Family(
        "gpt-image",
        "GPT image 1.5 / 1 mini / chatgpt-image",
        r"(gpt-image-1|chatgpt-image)",
        sizes=GPT_FIXED,
        values={"quality": GPT_QUALITY, "output_format": GPT_FORMATS},
        references=16,
        renames=GPT_RENAMES,
        streams=True,
        ids=("gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest"),
    ),
    Family(
        "dall-e-3",
        "DALL·E 3",
        r"dall-e-3",
        sizes=Sizes(("1024x1024", "1792x1024", "1024x1792")),
        values={"quality": ("standard", "hd"), "style": ("vivid", "natural")},
        count="one",
        max_count=1,
        answers="url",
        url_lifetime="60 min",
        retired="dall-e-3 was retired on 2026-05-12 (OpenAI); use gpt-image-2",
        ids=("dall-e-3",),
    ),
    Family(
        "dall-e-2",
        "DALL·E 2",
        r"dall-e-2",
        sizes=Sizes(("256x256", "512x512", "1024x1024")),
        values={"quality": ("standard",)},
        answers="url",
        url_lifetime="60 min",
        retired="dall-e-2 was retired on 2026-05-12 (OpenAI); use gpt-image-2",
        ids=("dall-e-2",),
    ),
    Family(
        "seedream-3.0",
        "Seedream 3.0",
        r"(doubao-)?seedream-3-0",
        sizes=Sizes(free=True, min_side=512, max_side=2048),
        count="one",
        max_count=1,
        answers="url",
        url_lifetime="24 h",
        defaults={"watermark": False},
        dropped=SEEDREAM_DROPPED,
        ids=("doubao-seedream-3-0-t2i-250415",),
    ),
    _seedream(
        "seedream-4.0",
        "Seedream 4.0",
        r"(doubao-)?seedream-4-0",
        _seedream_sizes(("1K", "2K", "4K"), 1280 * 720),
        ids=("doubao-seedream-4-0-250828",),
    ),
    _seedream(
        "seedream-4.5",
        "Seedream 4.5",
        r"(doubao-)?seedream-4-5",
        _seedream_sizes(("2K", "4K"), 2560 * 1440),
        ids=("doubao-seedream-4-5-251128",),
    ),
    _seedream(
        "seedream-5.0",
        "Seedream 5.0",
        r"(doubao-)?seedream-5-0",
        # 2K/3K per Volcengine, 4K per some relays: where sources disagree, accept all.
        _seedream_sizes(("2K", "3K", "4K"), 2560 * 1440),
        values={"output_format": ("jpeg", "png")},
        ids=("doubao-seedream-5-0-260128",),
    ),
    Family(
        "seededit",
        "SeedEdit 3.0",
        r"(bytedance-seededit|doubao-seededit|seededit)",
        sizes=Sizes(("adaptive",)),
        count="one",
        max_count=1,
        references=1,
        answers="url",
        url_lifetime="24 h",
        defaults={"watermark": False},
        ids=("bytedance-seedEdit-3.0-i2i", "doubao-seededit-3-0-i2i-250628"),
    ),
)
GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
GEMINI_SIZES = ("512px", "1K", "2K", "4K")  # upper-case K: "2k" is refused (research §2.2)


def _gemini(name: str, title: str, pattern: str, **more: Any) -> Family:
    """A Gemini image model on Google's own endpoint (research/model-families.md §2.2): one
    image a request, references as inline_data parts, an aspect ratio and an image size."""
    return Family(
        name,
        title,
        pattern,
        route="gemini",
        sizes=Sizes(("auto", *GEMINI_SIZES), free=True),  # WxH: the nearest ratio, said
        count="requests",
        references=14,
        references_as="gemini",
        **more,
    )


GEMINI_ANY = r"gemini-[\w.-]*image"
FLUX_ANY = r"flux-"
REPLICATE_ANY = r"[a-z0-9][\w.-]*/[\w.-]+$"  # owner/name
MIDJOURNEY_ANY = r"(midjourney|mj[-_]|niji)"
KLING_ANY = r"kling"
# The family an id routed there falls to (config [routes]).
CATCH_ALL = {
    "images": "", "gemini": GEMINI_ANY, "flux": FLUX_ANY, "replicate": REPLICATE_ANY,
    "midjourney": MIDJOURNEY_ANY, "kling": KLING_ANY,
}  # fmt: skip
GEMINI = (
    _gemini(
        "gemini-3.1",
        "Gemini 3.1 Flash Image",
        r"gemini-3\.1-flash-image",
        ids=("gemini-3.1-flash-image-preview",),
        values={
            "aspectRatio": (*GEMINI_RATIOS, "1:4", "4:1", "1:8", "8:1"),
            "imageSize": GEMINI_SIZES,
        },
    ),
    _gemini(
        "gemini-3",
        "Gemini 3 Pro Image",
        r"gemini-3-pro-image",
        ids=("gemini-3-pro-image-preview",),
        values={"aspectRatio": GEMINI_RATIOS, "imageSize": GEMINI_SIZES},
    ),
    _gemini(
        "gemini-2.5",
        "Gemini 2.5 Flash Image",
        r"gemini-2\.5-flash-image",
        ids=("gemini-2.5-flash-image",),
        # "fixed at 1024 px, no imageSize" (DeerAPI); "works best with up to 3 images" (Google)
        values={"aspectRatio": GEMINI_RATIOS, "imageSize": ()},
        references_advised=3,
    ),
    _gemini(
        "gemini",
        "Gemini image",
        GEMINI_ANY,
        values={
            "aspectRatio": (*GEMINI_RATIOS, "1:4", "4:1", "1:8", "8:1"),
            "imageSize": GEMINI_SIZES,
        },
    ),
)
FAMILIES += GEMINI


def _task(name: str, title: str, pattern: str, route: str, **more: Any) -> Family:
    """A family served as a task: submitted, polled until it ends, its image links downloaded at
    once (research/model-families.md §2.4, §2.8, §2.9, §2.13, §6 item 8)."""
    more.setdefault("count", "requests")
    return Family(name, title, pattern, route=route, answers="url", **more)


FLUX_SIZES = Sizes(("auto",), free=True, multiple=32, min_side=256, max_side=1440)
KLING_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9")
TASKS = (
    _task(
        "flux-kontext",
        "FLUX.1 Kontext",
        r"flux-kontext",
        "flux",
        ids=("flux-kontext-pro", "flux-kontext-max"),
        # input_image, input_image_2..4; aspect_ratio from 21:9 to 9:21 (research §2.4)
        references=4,
        sizes=Sizes(("auto",)),
        values={"output_format": ("jpeg", "png")},
        url_lifetime="10 min",
    ),
    _task(
        "flux",
        "FLUX (Black Forest Labs)",
        FLUX_ANY,
        "flux",
        ids=("flux-pro-1.1", "flux-pro-1.1-ultra", "flux-pro", "flux-dev"),
        sizes=FLUX_SIZES,  # width and height, multiples of 32
        values={"output_format": ("jpeg", "png")},
        url_lifetime="10 min",
    ),
    _task(
        "replicate",
        "Replicate model",
        REPLICATE_ANY,
        "replicate",
        ids=(
            "black-forest-labs/flux-kontext-pro",
            "black-forest-labs/flux-2-pro",
            "black-forest-labs/flux-schnell",
            "stability-ai/stable-diffusion-3.5-large",
        ),
        references=4,  # input_image(_2..4) on Kontext, image on the others: one
        url_lifetime="1 h",
    ),
    _task(
        "midjourney",
        "Midjourney",
        MIDJOURNEY_ANY,
        "midjourney",
        ids=("midjourney", "niji-journey"),
        count="one",  # a 2x2 grid; --upscale makes its single images
        references=5,  # base64Array
        sizes=Sizes(("auto",), free=True),  # --aspect or -s WxH, as --ar W:H in the prompt
    ),
    _task(
        "kling",
        "Kling image",
        KLING_ANY,
        "kling",
        ids=("kling-v2-1", "kling-v2", "kling-v1-5", "kling-v1"),
        count="n",
        max_count=9,
        references=1,  # image: bare base64 or a URL
        sizes=Sizes(("auto",), free=True),  # -s WxH: the nearest aspect_ratio, said
        values={"aspect_ratio": KLING_RATIOS, "resolution": ("1k", "2k")},
        url_lifetime="30 days",
    ),
)
FAMILIES += TASKS
# OpenAI-shaped: references go as an edit, as OpenAI's own API takes them.
GENERIC = Family(
    "generic", "OpenAI-shaped (not in deerimg's table)", r"", references=16, takes=tuple(GATED)
)


ROUTES = ("images", "gemini", "flux", "replicate", "midjourney", "kling")
# The config's [routes] table: model id → route, for ids whose route the table cannot tell (a
# gateway's own name for a Gemini model). Set once a command has read its settings (use_routes).
_routed: dict[str, str] = {}


def use_routes(routes: Mapping[str, str]) -> None:
    """Send each model id of ROUTES by its route, whatever its name says (config [routes])."""
    _routed.clear()
    _routed.update({model.lower(): route for model, route in routes.items()})


def family_of(model: str) -> Family:
    """The family MODEL belongs to; the generic one for an id the table does not know. An id the
    config routes elsewhere belongs to that route's family that matches it, else to the route's
    catch-all (the generic family, or the catch-all Gemini family)."""
    family = next((family for family in FAMILIES if family.matches(model)), GENERIC)
    route = _routed.get(model.lower())
    if route is None or route == family.route:
        return family
    return next(
        (f for f in FAMILIES if f.route == route and f.pattern == CATCH_ALL[route]), GENERIC
    )
