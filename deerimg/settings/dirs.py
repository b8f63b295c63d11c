"""deerimg's folders for config, data and cache: platformdirs', or the DEERIMG_* overrides."""

from __future__ import annotations

import os
from pathlib import Path


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """DEERIMG_CONFIG_DIR, else platformdirs' user config folder for deerimg."""
    found = _override("DEERIMG_CONFIG_DIR")
    if found is not None:
        return found
    import platformdirs

    return platformdirs.user_config_path("deerimg")


def data_dir() -> Path:
    """DEERIMG_DATA_DIR, else platformdirs' user data folder for deerimg."""
    found = _override("DEERIMG_DATA_DIR")
    if found is not None:
        return found
    import platformdirs

    return platformdirs.user_data_path("deerimg")


def cache_dir() -> Path:
    """`cache` inside DEERIMG_CONFIG_DIR when that is set (inside the folder the user named, never
    beside it: DEERIMG_CONFIG_DIR=/etc/deerimg must not create /etc/cache), else platformdirs'
    user cache folder for deerimg."""
    found = _override("DEERIMG_CONFIG_DIR")
    if found is not None:
        return found / "cache"
    import platformdirs

    return platformdirs.user_cache_path("deerimg")
