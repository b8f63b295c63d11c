"""The `config` sub-app: set, get, unset, list and path, over the settings package.

For `config list` the table is the data, so it goes to standard output: a rich table for a person
at a terminal, plain aligned columns without colour otherwise. Notes and warnings go to standard
error; failures rise as DeerimgError for the app's boundary to render.
"""

# No `from __future__ import annotations` here: typer would then eval every parameter's annotation
# string when it builds a command, 5 ms of `deerimg --help` (issue 10's bar; STYLE §2.9 aside).

import os
import sys
from collections.abc import Iterable
from typing import Annotated

import typer

from deerimg.cli.app import HelpGroup
from deerimg.report.terminal import data, note, warn

config_app = typer.Typer(
    cls=HelpGroup,
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
    from deerimg.report.listings import show_settings
    from deerimg.settings.file import config_path
    from deerimg.settings.resolve import explain

    origins, warnings = explain()
    _warn(warnings)
    show_settings(origins, config_path(), as_json)


@config_app.command("path")
def path_command() -> None:
    """Print the path of config.toml (set DEERIMG_CONFIG_DIR to move its folder).

    Example: $EDITOR "$(deerimg config path)"
    """
    from deerimg.settings.file import config_path

    data(str(config_path()))


# -- plain functions behind the commands --------------------------------------------------------


def set_setting(name: str, value: str | None) -> None:
    from deerimg.errors import usage_error
    from deerimg.settings import file, keys

    key = keys.normalize_key(name)
    if key == "api_key" and value in (None, "-"):
        value = read_secret()
    elif value is None:
        raise usage_error(f"config set {keys.dashed(key)} needs a VALUE", hint=keys.KEYS[key].help)
    elif key == "api_key":
        warn(
            "the key given on the command line is now in your shell history; next time run "
            "`deerimg config set api-key` and paste it at the prompt"
        )
    checked = keys.checked_value(key, value)
    if key == "base_url" and keys.plain_http_warning(checked):
        warn(str(keys.plain_http_warning(checked)))
    update = file.update_config(key, checked)
    if update.was_open:
        warn(f"config file {update.path} could be read by other users; it is now 0600")
    shown = keys.display_value(key, checked)
    note(f"saved {keys.dashed(key)} = {shown} in {update.path}")
    _note_env_override(key)


def get_setting(name: str, reveal: bool) -> None:
    from deerimg.errors import DeerimgError, ExitCode
    from deerimg.settings import keys
    from deerimg.settings.resolve import explain

    key = keys.normalize_key(name)
    origins, warnings = explain()
    _warn(warnings)
    origin = next(o for o in origins if o.key == key)
    if origin.source == "default":
        # Set nowhere: exit 1 with nothing on stdout (the contract), the default named. A hint
        # that runs as given: a VALUE to fill in, but none for the key, which `config set
        # api-key` asks for hidden rather than from the command line.
        value = "" if key == "api_key" else " VALUE"
        hint = f"set it with `deerimg config set {keys.dashed(key)}{value}`"
        default = (
            f"; the default applies: {keys.display_value(key, origin.value, reveal)}"
            if origin.value is not None
            else ""
        )
        raise DeerimgError(f"{keys.dashed(key)} is not set{default}", ExitCode.FAILURE, hint=hint)
    data(keys.display_value(key, origin.value, reveal))


def unset_setting(name: str) -> None:
    from deerimg.settings import file, keys

    key = keys.normalize_key(name)
    update = file.update_config(key, None)
    done = "removed {} from {}" if update.changed else "{} is not set in {}"
    note(done.format(keys.dashed(key), update.path))
    variable = _env_override(key)
    if variable:  # not a warning: the unset worked, and what applies now is said plainly
        what = "key" if key == "api_key" else "value"
        note(f"the {what} in the environment variable {variable} still applies")


def read_secret() -> str:
    """The key without echo from a terminal, else all of standard input (a pipe, a file)."""
    from deerimg.errors import usage_error
    from deerimg.report import terminal

    if terminal.stdin_is_terminal():
        try:
            text = typer.prompt(
                "DeerAPI key (input is hidden)",
                hide_input=True,
                err=True,
                default="",  # an empty Enter is said, not asked again in silence
                show_default=False,
            )
        except typer.Abort as exc:  # click turns Ctrl-C and Ctrl-D at a prompt into Abort
            if isinstance(exc.__context__, KeyboardInterrupt):
                raise KeyboardInterrupt from None  # exit 130, as everywhere else
            text = ""
        text = str(text).strip()
        if not text:
            raise usage_error(
                "no key entered; nothing was saved",
                hint="run `deerimg config set api-key` again and paste the key at the prompt",
            )
        return text
    text = sys.stdin.read().strip()
    if not text:
        raise usage_error(
            "no API key on standard input",
            hint='printf %s "$KEY" | deerimg config set api-key, or run it at a terminal',
        )
    return text


def _note_env_override(key: str) -> None:
    variable = _env_override(key)
    if variable:
        warn(f"{variable} is set in the environment, and it wins over the config file")


def _env_override(key: str) -> str | None:
    """The environment variable that sets KEY over the config file, when it is set."""
    from deerimg.settings.resolve import ENV_VARS

    variable = ENV_VARS.get(key)
    return variable if variable and os.environ.get(variable) else None


def _warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        warn(warning)
