"""Imaging: bytes to a typed image to a file; provenance written and other metadata read."""
