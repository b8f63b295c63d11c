"""The command tree: the Typer app as plain data, and what each value completes to."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import typer
import typer.main

from tools.gen import app

PROG = "deerimg"
HELP_PANEL = "Options"


@dataclass(slots=True)
class Values:
    """What a value completes to: words, files, dirs, models, config-value (per key), or none."""

    kind: str = "none"
    words: tuple[str, ...] = ()
    only: bool = True  # the words are all the option takes (False: what TAB offers, not a limit)


@dataclass(slots=True)
class Param:
    names: tuple[str, ...]  # option names, short first; () for an argument
    name: str
    metavar: str
    help: str
    takes_value: bool
    repeatable: bool
    required: bool
    values: Values
    panel: str
    default: str  # "" when there is none worth showing


@dataclass(slots=True)
class Command:
    path: tuple[str, ...]
    help: str
    options: tuple[Param, ...]
    arguments: tuple[Param, ...]
    subcommands: tuple[Command, ...]

    @property
    def key(self) -> str:
        return " ".join(self.path)

    @property
    def summary(self) -> str:
        return first_sentence(self.help)

    def walk(self) -> Iterator[Command]:
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


def first_sentence(text: str) -> str:
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    match = re.match(r"(.+?\.)(\s|$)", paragraph)
    return (match.group(1) if match else paragraph).rstrip(".")


# A model id is written into the scripts as a bare word: nothing a shell would read otherwise.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")  # owner/name: Replicate


def known_model_ids() -> tuple[str, ...]:
    """What -m<TAB> offers until `deerimg models` has saved the served list: the default model,
    then the ids the family table knows (families.Family.ids)."""
    ids = dict.fromkeys([app.default_model(), *(i for _, _, ids in app.families() for i in ids)])
    bad = [model for model in ids if not _PLAIN_ID.match(model)]
    if bad:
        raise ValueError(f"model ids a shell would not read as one word: {bad}")
    return tuple(ids)


def config_keys() -> tuple[str, ...]:
    return tuple(key.replace("_", "-") for key in app.config_keys())


def config_key_values() -> dict[str, Values]:
    """`config set KEY VALUE`: what VALUE completes to, per key (only keys with known values)."""
    value_sets = app.value_sets()
    found: dict[str, Values] = {}
    for name, key in app.config_keys().items():
        if key.choices or name in value_sets:
            found[name] = Values("words", tuple(key.choices or value_sets[name]))
        elif name == "model":
            found[name] = Values("models")
        elif name.endswith("_dir"):
            found[name] = Values("dirs")
    return found


def _option_values(param: Any) -> Values:
    value_sets = app.value_sets()
    choices = getattr(param.type, "choices", None)
    if choices:
        return Values("words", tuple(str(choice) for choice in choices))
    set_of_flag = {flag: name for name, flag in app.flag_of().items() if name in value_sets}
    for name in param.opts:
        if name in set_of_flag:
            return Values("words", value_sets[set_of_flag[name]])
    if "--model" in param.opts:
        return Values("models")
    if "--family" in param.opts:  # models --family: a part of a family's name; its kinds
        kinds = (re.sub(r"-[\d.]+$", "", name) for name, _, _ in app.families())
        return Values("words", tuple(dict.fromkeys(kinds)), only=False)
    if param.name.endswith("_dir") or getattr(param.type, "file_okay", True) is False:
        return Values("dirs")
    if param.name in ("file", "output", "image") or getattr(param.type, "name", "") == "path":
        return Values("files")
    return Values()


def _argument_values(param: Any, path: tuple[str, ...], names: list[str]) -> Values:
    if path[:1] == ("config",) and param.name == "key":
        return Values("words", config_keys())
    if path[:1] == ("config",) and param.name == "value" and "key" in names:
        return Values("config-value")
    choices = getattr(param.type, "choices", None)
    if choices:
        return Values("words", tuple(str(choice) for choice in choices))
    if getattr(param.type, "name", "") == "path" or "IMAGE" in (param.metavar or "").upper():
        return Values("files")
    return Values()


def _default(param: Any) -> str:
    """The default Typer shows as [default: …], for the man page; "" when there is none."""
    default = param.default
    if getattr(param, "is_flag", False) or getattr(param, "show_default", None) is False:
        return ""
    if default is None or default == () or default == [] or callable(default):
        return ""
    return str(getattr(default, "value", default))


def _param(param: Any, path: tuple[str, ...], arg_names: list[str]) -> Param:
    is_option = param.param_type_name == "option"
    takes_value = is_option and not getattr(param, "is_flag", False) and not param.count
    if is_option:
        names = tuple(sorted(list(param.opts) + list(param.secondary_opts), key=len))
        long = next((n for n in names if n.startswith("--")), names[0])
        metavar = param.metavar or long.lstrip("-").upper().replace("-", "_")
        values = _option_values(param) if takes_value else Values()
    else:
        names = ()
        metavar = (param.metavar or param.name).upper()
        values = _argument_values(param, path, arg_names)
    return Param(
        names=names,
        name=param.name,
        metavar=metavar,
        help=" ".join((getattr(param, "help", None) or "").split()),
        takes_value=takes_value or not is_option,
        repeatable=bool(param.multiple) or param.nargs == -1,
        required=bool(param.required),
        values=values,
        panel=getattr(param, "rich_help_panel", None) or HELP_PANEL,
        default=_default(param),
    )


def _command(command: Any, ctx: Any, path: tuple[str, ...]) -> Command:
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arg_names = [p.name for p in params if p.param_type_name == "argument"]
    built = [_param(p, path, arg_names) for p in params]
    subs: list[Command] = []
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                settings = sub.context_settings
                sub_ctx = typer.Context(sub, parent=ctx, info_name=name, **settings)
                subs.append(_command(sub, sub_ctx, (*path, name)))
    return Command(
        path=path,
        help=(command.help or "").strip(),
        options=tuple(p for p in built if p.names),
        arguments=tuple(p for p in built if not p.names),
        subcommands=tuple(subs),
    )


def command_tree() -> Command:
    """The app as plain data: Typer's Click tree with its help option, hidden things left out."""
    # Typer swaps its completion options when this test switch is set; the shipped files must not.
    saved = os.environ.pop("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", None)
    try:
        root = typer.main.get_command(app.typer_app())
    finally:
        if saved is not None:
            os.environ["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = saved
    return _command(root, typer.Context(root, info_name=PROG, **root.context_settings), ())
