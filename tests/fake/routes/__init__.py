"""The fake's endpoints, one module per family; importing this package registers them all."""

from __future__ import annotations

from tests.fake.routes import files, gemini, images, models

__all__ = ["files", "gemini", "images", "models"]
