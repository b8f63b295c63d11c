"""deerimg: text prompts in, image files out, through DeerAPI's images API."""

__version__ = "0.1.0"
