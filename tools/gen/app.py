"""The one module that imports deerimg: every fact the generator reads from the runtime package."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


def typer_app() -> typer.Typer:
    """The Typer app whose command tree the shipped files describe."""
    from deerimg.cli import app

    return app


def version() -> str:
    from deerimg import __version__

    return __version__


def config_keys() -> Mapping[str, Any]:
    """settings.keys.KEYS: each config key by its name (api_key), with its .help and .choices."""
    from deerimg.settings.keys import KEYS

    return KEYS


def display_value(name: str, value: Any) -> str:
    """A config value as `config get` shows it."""
    from deerimg.settings.keys import display_value

    return display_value(name, value)


def value_sets() -> Mapping[str, tuple[str, ...]]:
    """values.VALUE_SETS: the allowed values of a request field, by its name."""
    from deerimg.values import VALUE_SETS

    return VALUE_SETS


def flag_of() -> Mapping[str, str]:
    """values.FLAG_OF: the option that sets a request field, by the field's name."""
    from deerimg.values import FLAG_OF

    return FLAG_OF


def default_model() -> str:
    from deerimg.settings.resolve import DEFAULT_MODEL

    return DEFAULT_MODEL


def families() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """families.FAMILIES and the generic one: (name, title, known ids) of each, in table order."""
    from deerimg.families import FAMILIES, GENERIC

    return tuple((f.name, f.title, f.ids) for f in (*FAMILIES, GENERIC))


def defaults() -> Mapping[str, Any]:
    """settings.resolve.DEFAULTS: each setting's built-in default, by its name."""
    from deerimg.settings.resolve import DEFAULTS

    return DEFAULTS


def env_vars() -> Mapping[str, str]:
    """settings.resolve.ENV_VARS: the environment variable that sets a setting, by its name."""
    from deerimg.settings.resolve import ENV_VARS

    return ENV_VARS
