"""The `config` sub-app and the `models` command: options in, calls to config/settings/catalog out.

For `config list` and `models` the table is the data, so it goes to standard output: a rich table
for a person at a terminal, plain aligned columns without colour otherwise. Notes and warnings go
to standard error; failures rise as DeerimgError for cli.py to render.
"""

import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deerimg.report import note, print_table, retry_line

if TYPE_CHECKING:
    from deerimg.client import Retrying
    from deerimg.settings import Origin

config_app = typer.Typer(
    help="Read and change settings in config.toml (the API key, defaults).",
    no_args_is_help=True,
)

KEY_HELP = (
    "A setting: api-key, base-url, model, size, quality, format, output-dir, jobs, timeout, "
    "retries, … (a dash or an underscore; `deerimg config list` shows every one)."
)


@config_app.command("set")
def set_command(
    key: Annotated[str, typer.Argument(help=KEY_HELP, show_default=False)],
    value: Annotated[
        str | None,
        typer.Argument(
            help="The value, checked before it is saved. For api-key leave it out (or give '-'): "
            "the key is read without echo from the terminal, or from piped standard input.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Save a setting in config.toml (mode 0600), after checking its value.

    Example: deerimg config set api-key   (paste the key: it does not echo)
    """
    set_setting(key, value)


@config_app.command("get")
def get_command(
    key: Annotated[str, typer.Argument(help=KEY_HELP, show_default=False)],
    reveal: Annotated[bool, typer.Option("--reveal", help="Print the API key unmasked.")] = False,
) -> None:
    """Print the value deerimg uses for a setting: environment, else config file, else default.

    The API key is masked (sk-…abcd) unless --reveal. Exit 1 when the setting has no value.
    Example: deerimg config get model
    """
    get_setting(key, reveal)


@config_app.command("unset")
def unset_command(key: Annotated[str, typer.Argument(help=KEY_HELP, show_default=False)]) -> None:
    """Remove a setting from config.toml, so its default applies again.

    Example: deerimg config unset size
    """
    unset_setting(key)


@config_app.command("list")
def list_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object: key → value, source, env_var.")
    ] = False,
) -> None:
    """Show every setting, its value and where it comes from (environment, config file, default).

    The API key is always masked here, --json included.
    Example: deerimg config list
    """
    from deerimg.settings import explain

    show_settings(explain(), as_json)


@config_app.command("path")
def path_command() -> None:
    """Print the path of config.toml (set DEERIMG_CONFIG_DIR to move its folder).

    Example: $EDITOR "$(deerimg config path)"
    """
    from deerimg.config import config_path

    typer.echo(str(config_path()))


def models_command(
    all_models: Annotated[
        bool, typer.Option("--all", help="Every model the API serves, not only image models.")
    ] = False,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            metavar="TEXT",
            help="Only models whose id or owner contains every word of TEXT (any case). "
            "Default: every image model.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="The API's model objects, as one JSON array.")
    ] = False,
) -> None:
    """List the image models DeerAPI serves (GET /v1/models): id, owner, created date.

    The API does not say which models draw, so image models are told by their id (gpt-image,
    dall-e, flux, midjourney, seedream, imagen, ideogram, recraft, stable-diffusion, qwen-image,
    gemini …-image, …); --all shows every model.
    Example: deerimg models --search flux
    """
    from deerimg import catalog
    from deerimg.settings import resolve_settings

    models = catalog.fetch_models(resolve_settings(), on_retry=_announce_retry)
    shown = catalog.select(models, all_models=all_models, search=search)
    show_models(shown, len(models), all_models=all_models, search=search, as_json=as_json)


# -- plain functions behind the commands --------------------------------------------------------


def set_setting(name: str, value: str | None) -> None:
    from deerimg import config
    from deerimg.errors import usage_error

    key = config.normalize_key(name)
    if key == "api_key" and value in (None, "-"):
        value = read_secret()
    elif value is None:
        raise usage_error(
            f"config set {config.dashed(key)} needs a VALUE", hint=config.KEYS[key].help
        )
    elif key == "api_key":
        config.warn(
            "the key given on the command line is now in your shell history; next time run "
            "`deerimg config set api-key` and paste it at the prompt"
        )
    checked = config.checked_value(key, value)
    if key == "base_url" and config.plain_http_warning(checked):
        config.warn(str(config.plain_http_warning(checked)))
    update = config.update_config(key, checked)
    if update.was_open:
        config.warn(f"config file {update.path} could be read by other users; it is now 0600")
    shown = config.display_value(key, checked)
    note(f"saved {config.dashed(key)} = {shown} in {update.path}")
    _note_env_override(key)


def get_setting(name: str, reveal: bool) -> None:
    from deerimg import config
    from deerimg.errors import DeerimgError, ExitCode
    from deerimg.settings import explain

    key = config.normalize_key(name)
    origin = next(o for o in explain() if o.key == key)
    if origin.value is None:
        # A hint that runs as given: a VALUE to fill in, but none for the key, which
        # `config set api-key` asks for hidden rather than from the command line.
        value = "" if key == "api_key" else " VALUE"
        hint = f"set it with `deerimg config set {config.dashed(key)}{value}`"
        raise DeerimgError(f"{config.dashed(key)} is not set", ExitCode.FAILURE, hint=hint)
    typer.echo(config.display_value(key, origin.value, reveal))


def unset_setting(name: str) -> None:
    from deerimg import config

    key = config.normalize_key(name)
    update = config.update_config(key, None)
    if update.changed:
        note(f"removed {config.dashed(key)} from {update.path}")
    else:
        note(f"{config.dashed(key)} is not set in {update.path}")
    _note_env_override(key)


def read_secret() -> str:
    """The key without echo from a terminal, else all of standard input (a pipe, a file)."""
    from deerimg.errors import usage_error

    if _stdin_is_terminal():
        return str(typer.prompt("DeerAPI key (input is hidden)", hide_input=True, err=True))
    text = sys.stdin.read().strip()
    if not text:
        raise usage_error(
            "no API key on standard input",
            hint='printf %s "$KEY" | deerimg config set api-key, or run it at a terminal',
        )
    return text


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def show_settings(origins: "Sequence[Origin]", as_json: bool) -> None:
    from deerimg import config

    def shown(origin: "Origin") -> Any:
        if origin.key == "api_key" and origin.value is not None:
            return config.mask_key(origin.value)  # masked even for scripts: `get --reveal`
        return origin.value

    if as_json:
        data = {
            o.key: {"value": shown(o), "source": o.source, "env_var": o.env_var,
                    "overrides_config": o.overrides_config}
            for o in origins
        }  # fmt: skip
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    rows = []
    for o in origins:
        if o.value is None:
            value = "(not set)" if o.key == "api_key" else "(the API's default)"
        else:
            value = config.display_value(o.key, o.value)  # masks the key
        source = {"config": "config file", "default": "default"}.get(o.source, o.source)
        if o.source == "env":
            source = f"env {o.env_var}" + (", over config file" if o.overrides_config else "")
        rows.append((config.dashed(o.key), value, source))
    path = config.config_path()
    note(f"config file: {path}" + ("" if path.exists() else " (not created yet)"))
    print_table(("KEY", "VALUE", "SOURCE"), rows)


def show_models(
    shown: list[dict[str, Any]],
    total: int,
    *,
    all_models: bool,
    search: str | None,
    as_json: bool,
) -> None:
    from deerimg import catalog

    if as_json:
        typer.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    print_table(("ID", "OWNER", "CREATED"), catalog.rows(shown))
    kind = "models" if all_models else "image models"
    matching = f" matching {search!r}" if search else ""
    more = "" if all_models else "; --all lists every model"
    note(f"{len(shown)} {kind}{matching} of {total}{more}")


def _note_env_override(key: str) -> None:
    from deerimg import config
    from deerimg.settings import ENV_VARS

    variable = ENV_VARS.get(key)
    if variable and os.environ.get(variable):
        config.warn(f"{variable} is set in the environment, and it wins over the config file")


def _announce_retry(retry: "Retrying") -> None:
    note(retry_line("GET /v1/models: ", retry))
