from __future__ import annotations

import json
from pathlib import Path

from PIL import Image


def test_one_prompt_writes_jpeg(fake_api, invoke):
    result = invoke("generate", "A paper boat floating on calm water at sunrise.", "-o", "boat.jpg")
    assert result.exit_code == 0, result
    assert result.stdout == "boat.jpg\n"
    with Image.open("boat.jpg") as image:
        assert image.format == "JPEG"
    body = fake_api.generation_requests()[0].json
    assert body == {
        "model": "gpt-image-2",
        "prompt": "A paper boat floating on calm water at sunrise.",
        "output_format": "jpeg",
    }
    assert "tokens: input 16 (text 16, image 0), output 208, total 224" in result.stderr
    assert "revised prompt: Revised: A paper boat" in result.stderr
    assert sorted(p.name for p in Path().iterdir()) == ["boat.jpg"]
