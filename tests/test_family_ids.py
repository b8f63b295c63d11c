"""Issue 17: every model id the family table names belongs, by its pattern, to that family."""

from __future__ import annotations

import pytest

from deerimg.families import FAMILIES, family_of

# README's Model families table, research/model-families.md §1 and peers-2026-12.md §5.
KNOWN = (
    "gpt-image-2.5-sunburst", "gpt-image-2.5-flare", "gpt-image-2.6-sunburst",
    "gpt-image-2.6-flare", "gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini",
    "chatgpt-image-latest", "gpt-image-1", "dall-e-3", "dall-e-2",
    "doubao-seedream-3-0-t2i-250415", "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128",
    "doubao-seedream-5-0-260128", "bytedance-seedEdit-3.0-i2i", "doubao-seededit-3-0-i2i-250628",
    "gemini-3.1-flash-image-preview", "gemini-3-pro-image-preview", "gemini-2.5-flash-image",
    "flux-kontext-pro", "flux-kontext-max", "flux-pro-1.1", "flux-pro-1.1-ultra", "flux-pro",
    "flux-dev", "black-forest-labs/flux-kontext-pro", "black-forest-labs/flux-2-pro",
    "black-forest-labs/flux-schnell", "stability-ai/stable-diffusion-3.5-large", "midjourney",
    "niji-journey", "kling-v2-1", "kling-v2", "kling-v1-5", "kling-v1",
)  # fmt: skip
PAIRS = [(family.name, model) for family in FAMILIES for model in family.ids]


@pytest.mark.parametrize(("name", "model"), PAIRS, ids=[model for _, model in PAIRS])
def test_an_id_of_a_family_is_that_family_s_by_its_pattern(name, model):
    assert family_of(model).name == name


def test_the_table_names_every_known_id_once():
    named = [model for _, model in PAIRS]
    assert sorted(named) == sorted(KNOWN)
    assert len(set(named)) == len(named)
    # The catch-all of other gemini-*image ids has no id of its own to offer.
    assert all(family.ids for family in FAMILIES if family.name != "gemini"), "nothing on TAB"
