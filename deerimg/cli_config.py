"""The `config` sub-app and the `models` command: options in, calls to config/settings/catalog out."""

from __future__ import annotations

import typer

config_app = typer.Typer(
    help="Read and change settings in config.toml (the API key, defaults).",
    no_args_is_help=True,
)


def models_command() -> None:
    """List the image models DeerAPI serves."""
    raise typer.Exit(0)
