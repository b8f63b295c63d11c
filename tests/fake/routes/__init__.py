"""The fake's endpoints, one module per family; importing this package registers them all."""

from __future__ import annotations

from tests.fake.routes import files, flux, gemini, images, kling, midjourney, models, replicate

__all__ = ["files", "flux", "gemini", "images", "kling", "midjourney", "models", "replicate"]
