"""completions/* and man/deerimg.1 from typer.main.get_command(app); --check reports drift.

`python -m tools.gen` writes completions/deerimg.bash, completions/_deerimg (zsh),
completions/deerimg.fish and man/deerimg.1; `python -m tools.gen --check` writes nothing and
exits 1 naming each file that differs (tests/test_shipped.py runs it). Every command, option, help
text and value set comes from the app, request.VALUE_SETS and config.KEYS, so a new flag reaches
the shells and the man page by running the one command. The scripts are static words: pressing TAB
never starts Python (issue 5). The one value only the program knows, the model ids, is read from the
cache that `deerimg models` keeps (catalog.cache_path: image-model ids, one a line).
Output is deterministic: no dates, no machine paths, code order kept where it means something.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROG = "deerimg"
ROOT = Path(__file__).resolve().parents[2]
FILES = (
    "completions/deerimg.bash",
    "completions/_deerimg",
    "completions/deerimg.fish",
    "man/deerimg.1",
)
HEADER = "Generated from the Typer app by `python -m deerimg._gen`; do not edit."
HELP_PANEL = "Options"

# Each script looks for the model ids where catalog.cache_path() keeps them: inside
# $DEERIMG_CONFIG_DIR/cache when that is set, else platformdirs' user cache folder (Linux:
# $XDG_CACHE_HOME or ~/.cache; macOS: ~/Library/Caches). tests/test_shipped.py checks all three.


# -- the command tree ----------------------------------------------------------------------------


@dataclass(slots=True)
class Values:
    """What a value completes to: words, files, dirs, models, config-value (per key), or none."""

    kind: str = "none"
    words: tuple[str, ...] = ()


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


def config_keys() -> tuple[str, ...]:
    from deerimg.config import KEYS

    return tuple(key.replace("_", "-") for key in KEYS)


def config_key_values() -> dict[str, Values]:
    """`config set KEY VALUE`: what VALUE completes to, per key (only keys with known values)."""
    from deerimg.config import KEYS
    from deerimg.request import VALUE_SETS

    found: dict[str, Values] = {}
    for name, key in KEYS.items():
        if key.choices or name in VALUE_SETS:
            found[name] = Values("words", tuple(key.choices or VALUE_SETS[name]))
        elif name == "model":
            found[name] = Values("models")
        elif name.endswith("_dir"):
            found[name] = Values("dirs")
    return found


def _option_values(param: Any) -> Values:
    from deerimg.request import FLAG_OF, VALUE_SETS

    choices = getattr(param.type, "choices", None)
    if choices:
        return Values("words", tuple(str(choice) for choice in choices))
    set_of_flag = {flag: name for name, flag in FLAG_OF.items() if name in VALUE_SETS}
    for name in param.opts:
        if name in set_of_flag:
            return Values("words", VALUE_SETS[set_of_flag[name]])
    if "--model" in param.opts:
        return Values("models")
    if param.name.endswith("_dir") or getattr(param.type, "file_okay", True) is False:
        return Values("dirs")
    if param.name in ("file", "output") or getattr(param.type, "name", "") == "path":
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
        import typer

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
    import typer
    import typer.main

    from deerimg.cli import app

    # Typer swaps its completion options when this test switch is set; the shipped files must not.
    saved = os.environ.pop("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", None)
    try:
        root = typer.main.get_command(app)
    finally:
        if saved is not None:
            os.environ["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = saved
    return _command(root, typer.Context(root, info_name=PROG, **root.context_settings), ())


def default_model() -> str:
    from deerimg.settings import DEFAULT_MODEL

    return DEFAULT_MODEL


# -- bash ----------------------------------------------------------------------------------------


def _bash_word(kind: Values) -> str:
    if kind.kind == "words":
        return " ".join(kind.words)
    return f"@{kind.kind}"


def _case(arms: dict[str, list[str]], indent: str = "        ") -> str:
    """Case arms grouped by body, in first-seen order: {body: [pattern, ...]}; lines kept short."""
    out = []
    for body, patterns in arms.items():
        lines = [indent + patterns[0]]
        for pattern in patterns[1:]:
            if len(lines[-1]) + len(pattern) > 94:
                lines[-1] += " |"
                lines.append(f"{indent}    {pattern}")
            else:
                lines[-1] += f" | {pattern}"
        out.append(" \\\n".join(lines) + f") {body} ;;\n")
    return "".join(out)


def _add(arms: dict[str, list[str]], body: str, pattern: str) -> None:
    arms.setdefault(body, []).append(pattern)


def render_bash(tree: Command) -> str:
    takes: dict[str, list[str]] = {}
    kinds: dict[str, list[str]] = {}
    options: dict[str, list[str]] = {}
    subs: dict[str, list[str]] = {}
    args: dict[str, list[str]] = {}
    for cmd in tree.walk():
        names = [n for o in cmd.options for n in o.names]
        _add(options, f'words="{" ".join(names)}"', f'"{cmd.key}"')
        if cmd.subcommands:
            words = " ".join(s.path[-1] for s in cmd.subcommands)
            _add(subs, f'subs="{words}"', f'"{cmd.key}"')
        for opt in cmd.options:
            if opt.takes_value:
                for name in opt.names:
                    _add(takes, "return 0", f'"{cmd.key}/{name}"')
                    _add(kinds, f'kind="{_bash_word(opt.values)}"', f'"{cmd.key}/{name}"')
        for index, arg in enumerate(cmd.arguments):
            pattern = f'"{cmd.key}/{index}"' if not arg.repeatable else f'"{cmd.key}/"*'
            if arg.values.kind == "config-value":
                _add(args, '__deerimg_config_value "$3"', pattern)
            elif arg.values.kind != "none":
                _add(args, f'kind="{_bash_word(arg.values)}"', pattern)
    key_arms: dict[str, list[str]] = {}
    for name, values in config_key_values().items():
        for spelling in sorted({name.replace("_", "-"), name}):
            _add(key_arms, f'kind="{_bash_word(values)}"', spelling)
    return BASH.format(
        header=HEADER,
        default_model=default_model(),
        takes=_case(takes),
        kinds=_case(kinds),
        options=_case(options),
        subs=_case(subs),
        args=_case(args),
        keys=_case(key_arms),
    )


BASH = r"""# bash completion for deerimg                                      -*- shell-script -*-
# {header}
# Copy to ~/.local/share/bash-completion/completions/deerimg, or `source` it from ~/.bashrc.
# Static: pressing TAB never starts Python. Model ids come from the cache `deerimg models` keeps.

# The image-model ids of the last `deerimg models` (catalog.cache_path()), else the default model.
__deerimg_model_ids() {{
    local file=""
    if [[ -n ${{DEERIMG_CONFIG_DIR-}} ]]; then
        file=$DEERIMG_CONFIG_DIR/cache/models.txt
    else
        for file in "${{XDG_CACHE_HOME:-$HOME/.cache}}/deerimg/models.txt" \
            "$HOME/Library/Caches/deerimg/models.txt"; do
            [[ -r $file ]] && break
        done
    fi
    if [[ -r $file && -s $file ]]; then
        printf '%s\n' "$(<"$file")"
    else
        printf '%s\n' {default_model}
    fi
}}

# Does option $2 of command "$1" take a value?
_deerimg_takes_value() {{
    case "$1/$2" in
{takes}    esac
    return 1
}}

# Sets the caller's `kind` for the value of option $2 of command "$1".
_deerimg_option_kind() {{
    case "$1/$2" in
{kinds}        *) kind=@none ;;
    esac
}}

# Sets the caller's `words` to the options of command "$1".
_deerimg_options() {{
    case "$1" in
{options}        *) words="" ;;
    esac
}}

# Sets the caller's `subs` to the subcommands of command "$1".
_deerimg_subcommands() {{
    case "$1" in
{subs}        *) subs="" ;;
    esac
}}

# Sets the caller's `kind` for argument $2 (from 0) of command "$1"; $3 is its first argument.
_deerimg_argument_kind() {{
    case "$1/$2" in
{args}        *) kind=@none ;;
    esac
}}

# Sets the caller's `kind` for the VALUE of `config set KEY VALUE`.
__deerimg_config_value() {{
    case $1 in
{keys}        *) kind=@none ;;
    esac
}}

# Sets COMPREPLY from $1 (a word list, @files, @dirs, @models or @none) for the word $2. Words are
# matched here, not by `compgen -W`, which would expand $(...) in a model id from the cache file.
_deerimg_reply() {{
    local cur=$2 word
    local -a words=()
    COMPREPLY=()
    case $1 in
        @files | @dirs)
            compopt -o filenames 2>/dev/null
            [[ $1 == @dirs ]] && word=-d || word=-f
            while IFS= read -r word; do
                COMPREPLY+=("$word")
            done < <(compgen "$word" -- "$cur")
            return 0
            ;;
        @models) while IFS= read -r word; do words+=("$word"); done < <(__deerimg_model_ids) ;;
        @none | "") return 0 ;;
        *) read -ra words <<<"$1" ;;
    esac
    for word in "${{words[@]}}"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$word")
    done
    return 0
}}

_deerimg() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} path="" word kind=@none words subs i dashdash=""
    local -a args=()
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ -z $dashdash && $word == -?* ]]; then
            if [[ $word == -- ]]; then
                dashdash=1
            elif [[ $word != *=* ]] && _deerimg_takes_value "$path" "$word"; then
                if [[ ${{COMP_WORDS[i + 1]-}} == = ]]; then  # --opt=value, split at the "="
                    ((i += 1))
                    ((i == COMP_CWORD)) && cur=""
                fi
                if ((i + 1 >= COMP_CWORD)); then
                    _deerimg_option_kind "$path" "$word"
                    _deerimg_reply "$kind" "$cur"
                    return 0
                fi
                ((i += 1))
            fi
            continue
        fi
        _deerimg_subcommands "$path"
        if [[ ${{#args[@]}} -eq 0 && " $subs " == *" $word "* ]]; then
            path=${{path:+$path }}$word
        else
            args+=("$word")
        fi
    done
    if [[ -z $dashdash && $cur == --*=* ]] && _deerimg_takes_value "$path" "${{cur%%=*}}"; then
        word=${{cur%%=*}}
        _deerimg_option_kind "$path" "$word"
        _deerimg_reply "$kind" "${{cur#*=}}"
        COMPREPLY=("${{COMPREPLY[@]/#/$word=}}")
    elif [[ -z $dashdash && $cur == -* ]]; then
        _deerimg_options "$path"
        _deerimg_reply "$words" "$cur"
    else
        _deerimg_subcommands "$path"
        if [[ -n $subs && ${{#args[@]}} -eq 0 ]]; then
            _deerimg_reply "$subs" "$cur"
        else
            _deerimg_argument_kind "$path" "${{#args[@]}}" "${{args[0]-}}"
            _deerimg_reply "$kind" "$cur"
        fi
    fi
    return 0
}}

complete -F _deerimg deerimg
"""


# -- zsh -----------------------------------------------------------------------------------------


def _zq(text: str) -> str:
    """A zsh (or bash) single-quoted word."""
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_desc(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", first_sentence(text))


def _zsh_action(values: Values) -> str:
    if values.kind == "words":
        return "(" + " ".join(values.words) + ")"
    return {
        "files": "_files",
        "dirs": "_files -/",
        "models": "__deerimg_model_ids",
        "config-value": "__deerimg_config_value",
    }.get(values.kind, " ")


def _zsh_option(opt: Param) -> str:
    desc = f"[{_zsh_desc(opt.help)}]"
    tail = f":{opt.metavar.lower()}:{_zsh_action(opt.values)}" if opt.takes_value else ""
    forms = [
        n + (("=" if n.startswith("--") else "+") if opt.takes_value else "") for n in opt.names
    ]
    if opt.name == "help":
        exclude = "(- *)"
    elif opt.repeatable:
        exclude = "*"
    else:
        exclude = "(" + " ".join(opt.names) + ")" if len(opt.names) > 1 else ""
    if len(forms) == 1:
        return _zq(exclude + forms[0] + desc + tail)
    return (_zq(exclude) if exclude else "") + "{" + ",".join(forms) + "}" + _zq(desc + tail)


def _zsh_function(cmd: Command) -> str:
    name = "_" + "_".join((PROG, *cmd.path)).replace("-", "_")
    specs = [_zsh_option(o) for o in cmd.options]
    lines = [f"{name}() {{"]
    if cmd.subcommands:
        specs += ["': :->command'", "'*:: :->args'"]
        lines += [
            "  local curcontext=$curcontext state state_descr line ret=1",
            "  typeset -A opt_args",
        ]
        lines.append("  _arguments -C -s -S \\\n    " + " \\\n    ".join(specs) + " && ret=0")
        described = " ".join(
            _zq(s.path[-1] + ":" + first_sentence(s.help)) for s in cmd.subcommands
        )
        context = "-".join((PROG, *cmd.path))
        cases = "".join(
            f"        ({s.path[-1]}) {name}_{s.path[-1].replace('-', '_')} && ret=0 ;;\n"
            for s in cmd.subcommands
        )
        lines.append(
            "  case $state in\n"
            "    (command)\n"
            f"      local -a commands=({described})\n"
            f"      _describe -t commands {_zq(context + ' command')} commands && ret=0 ;;\n"
            "    (args)\n"
            f"      curcontext=${{curcontext%:*:*}}:{context}-$words[1]:\n"
            "      case $words[1] in\n"
            f"{cases}"
            "      esac ;;\n"
            "  esac\n"
            "  return ret"
        )
    else:
        for index, arg in enumerate(cmd.arguments, start=1):
            message = arg.metavar.lower()
            action = _zsh_action(arg.values)
            if arg.repeatable:
                specs.append(_zq(f"*:{message}:{action}"))
            else:
                specs.append(_zq(f"{index}:{'' if arg.required else ':'}{message}:{action}"))
        lines.append("  _arguments -s -S \\\n    " + " \\\n    ".join(specs))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_zsh(tree: Command) -> str:
    key_cases = ""
    for key, values in config_key_values().items():
        spellings = "|".join(sorted({key, key.replace("_", "-")}))
        key_cases += f"    ({spellings}) {_zsh_value_call(values)} ;;\n"
    functions = "\n".join(_zsh_function(cmd) for cmd in tree.walk())
    return ZSH.format(
        header=HEADER,
        default_model=default_model(),
        key_cases=key_cases,
        functions=functions,
    )


def _zsh_value_call(values: Values) -> str:
    if values.kind == "words":
        return "_wanted values expl value compadd -- " + " ".join(values.words)
    return _zsh_action(values)


ZSH = r"""#compdef deerimg
# zsh completion for deerimg
# {header}
# Copy to a folder in $fpath as _deerimg (such as ~/.zfunc), then run compinit.
# Static: pressing TAB never starts Python. Model ids come from the cache `deerimg models` keeps.

# The image-model ids of the last `deerimg models` (catalog.cache_path()), else the default model.
__deerimg_model_ids() {{
  local file= expl
  local -a ids
  if [[ -n ${{DEERIMG_CONFIG_DIR-}} ]]; then
    file=$DEERIMG_CONFIG_DIR/cache/models.txt
  else
    for file in "${{XDG_CACHE_HOME:-$HOME/.cache}}/deerimg/models.txt" \
      "$HOME/Library/Caches/deerimg/models.txt"; do
      [[ -r $file ]] && break
    done
  fi
  [[ -r $file ]] && ids=(${{(f)"$(<$file)"}})
  (( $#ids )) || ids=({default_model})
  _wanted models expl 'model id' compadd -a ids
}}

# The VALUE of `config set KEY VALUE`, per key.
__deerimg_config_value() {{
  local expl
  case $line[1] in
{key_cases}    (*) _message value ;;
  esac
}}

{functions}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _deerimg "$@"
else
  compdef _deerimg deerimg
fi
"""


# -- fish ----------------------------------------------------------------------------------------


def _fq(text: str) -> str:
    """A fish single-quoted word."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_values(values: Values) -> str:
    if values.kind == "words":
        return "-x -a " + _fq(" ".join(values.words))
    return {
        "files": "-r -F",
        "dirs": "-x -a '(__fish_complete_directories (commandline -ct))'",
        "models": "-x -a '(__deerimg_model_ids)'",
        "config-value": "-x -a '(__deerimg_config_value)'",
    }.get(values.kind, "-x")


def render_fish(tree: Command) -> str:
    valued: list[str] = []
    commands: list[str] = []
    lines: list[str] = []
    for cmd in tree.walk():
        at = f"__deerimg_at '{cmd.key}'"
        for sub in cmd.subcommands:
            commands.append(f"{cmd.key}/{sub.path[-1]}")
            lines.append(
                f'complete -c {PROG} -n "{at} 0" -a {_fq(sub.path[-1])} -d {_fq(sub.summary)}'
            )
        for opt in cmd.options:
            flags = []
            for name in opt.names:
                if name.startswith("--"):
                    flags.append(f"-l {name[2:]}")
                elif len(name) == 2:
                    flags.append(f"-s {name[1]}")
                else:
                    flags.append(f"-o {name[1:]}")
                if opt.takes_value:
                    valued.append(f"{cmd.key}/{name}")
            value = " " + _fish_values(opt.values) if opt.takes_value else ""
            lines.append(
                f'complete -c {PROG} -n "{at}" {" ".join(flags)}{value} '
                f"-d {_fq(first_sentence(opt.help))}"
            )
        for index, arg in enumerate(cmd.arguments):
            if arg.values.kind == "none":
                continue
            where = at if arg.repeatable else f"{at} {index}"
            action = "-F" if arg.values.kind == "files" else _fish_values(arg.values)[3:]
            lines.append(f'complete -c {PROG} -n "{where}" {action}')
    key_cases = ""
    for key, values in config_key_values().items():
        spellings = " ".join(sorted({key, key.replace("_", "-")}))
        key_cases += f"        case {spellings}\n            {_fish_value_call(values)}\n"
    return FISH.format(
        header=HEADER,
        valued=" ".join(_fq(v) for v in valued),
        commands=" ".join(_fq(c) for c in commands),
        default_model=default_model(),
        key_cases=key_cases,
        completions="\n".join(lines),
    )


def _fish_value_call(values: Values) -> str:
    if values.kind == "words":
        return "printf '%s\\n' " + " ".join(values.words)
    return {
        "models": "__deerimg_model_ids",
        "dirs": "__fish_complete_directories (commandline -ct)",
    }.get(values.kind, "true")


FISH = r"""# fish completion for deerimg
# {header}
# Copy to ~/.config/fish/completions/deerimg.fish.
# Static: pressing TAB never starts Python. Model ids come from the cache `deerimg models` keeps.

# The command path on the command line ("config set"), then its arguments, one a line.
function __deerimg_state
    set -l valued {valued}
    set -l commands {commands}
    set -l path
    set -l args
    set -l skip 0
    set -l dashdash 0
    for token in (commandline -opc)[2..-1]
        set -l here (string join ' ' -- $path)
        if test $skip = 1
            set skip 0
        else if test $dashdash = 0; and string match -qr -- '^-.' $token
            if test $token = --
                set dashdash 1
            else if not string match -q -- '*=*' $token; and contains -- "$here/$token" $valued
                set skip 1
            end
        else if test (count $args) = 0; and contains -- "$here/$token" $commands
            set -a path $token
        else
            set -a args $token
        end
    end
    echo (string join ' ' -- $path)
    string join \n -- $args
end

# Is the command path $argv[1], with $argv[2] arguments so far when given?
function __deerimg_at
    set -l state (__deerimg_state)
    test "$state[1]" = "$argv[1]"; or return 1
    test (count $argv) -lt 2; or test (math (count $state) - 1) = $argv[2]
end

# The image-model ids of the last `deerimg models` (catalog.cache_path()), else the default model.
function __deerimg_model_ids
    set -l file "$DEERIMG_CONFIG_DIR/cache/models.txt"
    if test -z "$DEERIMG_CONFIG_DIR"
        set -l cache $HOME/.cache
        test -n "$XDG_CACHE_HOME"; and set cache $XDG_CACHE_HOME
        set file $cache/deerimg/models.txt
        test -r $file; or set file $HOME/Library/Caches/deerimg/models.txt
    end
    set -l ids
    test -r "$file"; and set ids (string match -rv -- '^\\s*$' <$file)
    set -q ids[1]; or set ids {default_model}
    printf '%s\n' $ids
end

# The VALUE of `config set KEY VALUE`, per key.
function __deerimg_config_value
    set -l state (__deerimg_state)
    switch "$state[2]"
{key_cases}    end
end

complete -c deerimg -f
{completions}
"""


# -- man page ------------------------------------------------------------------------------------


def roff(text: str) -> str:
    """Text for a roff line: escapes, ASCII only, and no control character at its start."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\e")
        elif char == "-":
            out.append("\\-")
        elif char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) > 126:
            out.append(f"\\[u{ord(char):04X}]")
        else:
            out.append(char)
    line = "".join(out)
    return "\\&" + line if line[:1] in (".", "'") else line


ESCAPES = {"'": "\\(aq", "`": "\\(ga", "~": "\\(ti", "^": "\\(ha"}


def _bold(text: str) -> str:
    return f"\\fB{roff(text)}\\fR"


def _italic(text: str) -> str:
    return f"\\fI{roff(text)}\\fR"


def _paragraphs(text: str) -> list[str]:
    """Help text as roff: a paragraph per blank-line block; `Example:` lines kept apart."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        prose: list[str] = []
        for line in lines:
            if line.startswith(("Example:", "Examples:")):
                if prose:
                    out += [".PP", roff(" ".join(prose))]
                    prose = []
                out += [".PP", roff(line)]
            else:
                prose.append(line)
        if prose:
            out += [".PP", roff(" ".join(prose))]
    return out


def _synopsis(cmd: Command) -> str:
    words = [_bold(" ".join((PROG, *cmd.path)))]
    if cmd.options:
        words.append("[\\fIOPTIONS\\fR]")
    if cmd.subcommands:
        words.append("\\fICOMMAND\\fR")
    for arg in cmd.arguments:
        dots = "..." if arg.repeatable and "..." not in arg.metavar else ""
        name = _italic(arg.metavar + dots)
        words.append(name if arg.required else f"[{name}]")
    return " ".join(words)


def _option_entry(opt: Param) -> list[str]:
    tag = ", ".join(_bold(name) for name in opt.names)
    if opt.takes_value:
        tag += " " + _italic(opt.metavar)
    text = opt.help or ""
    if opt.values.kind == "words" and not all(w in text for w in opt.values.words):
        text += f" Allowed: {', '.join(opt.values.words)}."
    if opt.default and "default" not in text.lower():
        text += f" Default: {opt.default}."
    if opt.repeatable and "repeat" not in text.lower():
        text += " Repeatable."
    return [".TP", tag, roff(text.strip())]


def _options_by_panel(cmd: Command, heading: str) -> list[str]:
    panels: dict[str, list[Param]] = {}
    for opt in cmd.options:
        panels.setdefault(opt.panel, []).append(opt)
    out: list[str] = []
    for panel, options in panels.items():
        title = heading if panel == HELP_PANEL else f"{panel} options"
        out.append(f'.SS "{roff(title)}"')
        for opt in options:
            out += _option_entry(opt)
    return out


def _arguments(cmd: Command) -> list[str]:
    out: list[str] = []
    for arg in cmd.arguments:
        out += [".TP", _italic(arg.metavar), roff(arg.help)]
    return out


def _command_section(cmd: Command) -> list[str]:
    out = [f'.SH "{roff(" ".join((PROG, *cmd.path)).upper())}"', _synopsis(cmd)]
    out += _paragraphs(cmd.help)
    if cmd.subcommands:
        for sub in cmd.subcommands:
            out += [f'.SS "{roff(" ".join((PROG, *sub.path)))}"', _synopsis(sub)]
            out += _paragraphs(sub.help)
            out += _arguments(sub)
            out += [line for opt in sub.options for line in _option_entry(opt)]
        if cmd.path == ("config",):
            out += _config_keys()
        return out
    if cmd.arguments:
        out.append('.SS "Arguments"')
        out += _arguments(cmd)
    out += _options_by_panel(cmd, "Options")
    return out


def _config_keys() -> list[str]:
    from deerimg.config import KEYS, display_value
    from deerimg.settings import DEFAULTS, ENV_VARS

    out = ['.SS "Keys"', roff(KEYS_INTRO)]
    values = config_key_values()
    for name, key in KEYS.items():
        text = key.help[:1].upper() + key.help[1:] + "."
        if values.get(name, Values()).kind == "words":
            text += f" Allowed: {', '.join(values[name].words)}."
        if DEFAULTS.get(name) is not None:  # as config get shows it: 300, true, the folder "."
            shown = display_value(name, DEFAULTS[name])
            text += f' Default: "{shown}".' if name == "output_dir" else f" Default: {shown}."
        if name in ENV_VARS:
            text += f" Environment: {ENV_VARS[name]}."
        out += [".TP", _bold(name.replace("_", "-")), roff(text)]
    return out


KEYS_INTRO = (
    "Keys may be written with a dash or an underscore (api-key, api_key). A flag beats the "
    "environment, which beats the config file, which beats the built-in default."
)


def _section(title: str, body: str) -> list[str]:
    """A static section: paragraphs split on blank lines; `TAG :: text` lines become .TP items."""
    out = [f".SH {title}"]
    for block in body.strip().split("\n\n"):
        tag, sep, text = block.partition(" :: ")
        if sep:
            out += [".TP", _bold(tag), roff(" ".join(text.split()))]
        else:
            out += [".PP", roff(" ".join(block.split()))]
    return out


def _examples() -> list[str]:
    out = [".SH EXAMPLES"]
    for text, commands in EXAMPLES:
        out += [".PP", roff(text), ".PP", ".RS 4", ".EX"]
        out += [roff(command) for command in commands]
        out += [".EE", ".RE"]
    return out


def render_man(tree: Command) -> str:
    from deerimg import __version__

    out = [
        f'.\\" {HEADER}',
        f'.TH DEERIMG 1 "" "deerimg {__version__}" "User Commands"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{PROG} \\- {roff(first_sentence(tree.help)[:1].lower() + first_sentence(tree.help)[1:])}",
        ".SH SYNOPSIS",
    ]
    for cmd in tree.walk():
        if not cmd.subcommands or not cmd.path:
            out += [_synopsis(cmd), ".br"]
    out[-1:] = []
    out += _section("DESCRIPTION", DESCRIPTION)
    out += _options_by_panel(tree, "Global options")
    for cmd in tree.subcommands:
        out += _command_section(cmd)
    out += _section("ENVIRONMENT", ENVIRONMENT)
    out += _section("FILES", FILES_TEXT)
    out += _section('"EXIT STATUS"', EXIT_STATUS)
    out += _examples()
    out += ['.SH "SEE ALSO"', ".BR jq (1),", ".BR curl (1)", ".PP", roff(SEE_ALSO)]
    return "\n".join(out) + "\n"


DESCRIPTION = """
deerimg sends text prompts to DeerAPI's OpenAI-compatible images API (POST /v1/images/generations,
/v1/images/edits) and writes the images it answers with to files. One prompt makes one image, or
several with -n; a prompt file or piped standard input makes a batch, run a few requests at once.

Every target is planned before anything is sent, so a run that would overwrite a file (without
--force) or write where it cannot stops before it costs anything. Files are written under a
temporary name and linked into place: no half-written image is left behind, and several deerimg
processes may share a folder without replacing each other's files.

Standard output carries data only: the path of each saved image, one a line, or JSON lines with
--json, or the image bytes with -o -. Progress, the revised prompt, token usage, warnings and
errors go to standard error.

Failed requests with status 408, 409, 429 or 5xx, dropped connections and read time-outs are
retried with exponential back-off, honouring Retry-After. The API key is never printed.
"""

ENVIRONMENT = """
DEERAPI_KEY :: The API key. It beats the api-key of the config file.

DEERIMG_BASE_URL :: The API's base URL, with or without /v1. Default: https://api.deerapi.com.

DEERIMG_CONFIG_DIR :: The folder of config.toml (and of the model-id cache, in its cache
folder), instead of the platform's user config folder.

DEERIMG_DATA_DIR :: The folder of the history ledger (history.jsonl), instead of the platform's
user data folder.

DEERIMG_DEBUG :: When set to anything but 0 or empty, errors show a Python traceback, as --debug.

NO_COLOR :: When set, standard error gets plain lines: no colour, spinner or progress bar (as when
it is not a terminal).

SSL_CERT_FILE, SSL_CERT_DIR :: A CA bundle file (or a folder of CA files) to trust for https instead
of certifi's bundle. A file that cannot be loaded is a configuration error (exit status 3).

HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY :: The proxies to use, as httpx reads them.
"""

FILES_TEXT = """
~/.config/deerimg/config.toml :: The config file on Linux ($XDG_CONFIG_HOME/deerimg/config.toml
when XDG_CONFIG_HOME is set). TOML, written atomically, mode 0600 in a 0700 folder; a file that
cannot be parsed is never rewritten. deerimg config path prints the one in use.

~/Library/Application Support/deerimg/config.toml :: The config file on macOS.

%LOCALAPPDATA%\\deerimg\\deerimg\\config.toml :: The config file on Windows.

~/.local/share/deerimg/history.jsonl :: The history ledger on Linux: one JSON line per request
(~/Library/Application Support/deerimg/history.jsonl on macOS,
%LOCALAPPDATA%\\deerimg\\deerimg\\history.jsonl on Windows;
$DEERIMG_DATA_DIR/history.jsonl when that is set). Read by deerimg history; never rewritten;
--no-history or history = false turns it off.

~/.cache/deerimg/models.txt :: The model ids of the last deerimg models, read by shell completion
(~/Library/Caches/deerimg/models.txt on macOS; $DEERIMG_CONFIG_DIR/cache/models.txt when that is
set).
"""

EXIT_STATUS = """
0 :: Every image was saved (or --dry-run printed the requests).

1 :: A generation failed: an API error after retries, a network error, or an answer that is not a
valid image. In a batch: any prompt failed.

2 :: Usage error: a bad flag or value, no prompt, a target that exists (without --force) or
cannot be written.

3 :: Authentication or configuration: no API key, 401 or 403 from the API, a config file that
cannot be read.

130 :: Interrupted (Ctrl-C): finished images are kept, no partial file is left, a summary is
printed.
"""

# Every command here is run against the fake API by tests/test_examples.py.
EXAMPLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Save the API key in the config file (it is read without echo), and check the settings:",
        ("deerimg config set api-key", "deerimg config list"),
    ),
    (
        "Make one image; its path is printed on standard output:",
        ('deerimg generate "A paper boat floating on calm water at sunrise." -o boat.jpg',),
    ),
    (
        "Make a batch from a file (one prompt a line; # comments; JSON lines such as "
        '{"prompt": "a red fox", "size": "1536x1024"}), four requests at once, into a folder:',
        ("deerimg generate -f prompts.txt -j 4 -d out",),
    ),
    (
        "Pipe prompts in, one a line, and an image's bytes out:",
        (
            "printf '%s\\n' 'a red fox' 'a snowy owl' | deerimg generate -o '{index}-{slug}.{ext}'",
            "deerimg generate 'a tiny robot' -o - > robot.png",
        ),
    ),
    (
        "Print the paths of the saved images with --json and jq:",
        ("deerimg generate -f prompts.txt -d out --json | jq -r 'select(.path) | .path'",),
    ),
    (
        "Resume a batch that was interrupted or had failures: the second command sends only the "
        "prompts whose images are missing:",
        (
            "deerimg generate -f prompts.txt -o 'out/{slug}.{ext}'",
            "deerimg generate -f prompts.txt -o 'out/{slug}.{ext}' --skip-existing",
        ),
    ),
    (
        "Edit a photo where a mask is transparent:",
        ('deerimg edit photo.png "make it night" --mask mask.png -o night.png',),
    ),
    (
        "See the request without sending it (no key needed), and list the flux models:",
        (
            'deerimg generate "a lighthouse in fog" -q high -s 1536x1024 --dry-run',
            "deerimg models --search flux",
        ),
    ),
)

SEE_ALSO = "The project's README.md: installing, shell completion, configuration, troubleshooting."


# -- writing and checking ------------------------------------------------------------------------


def render() -> dict[str, str]:
    """Every shipped file, by its path relative to the repository."""
    tree = command_tree()
    texts = (render_bash(tree), render_zsh(tree), render_fish(tree), render_man(tree))
    return dict(zip(FILES, texts, strict=True))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--check"]):
        print("usage: python -m tools.gen [--check]", file=sys.stderr)
        return 2
    if not (ROOT / "pyproject.toml").is_file():
        print(f"{ROOT} is not the project folder: run this from a clone", file=sys.stderr)
        return 2
    drift = []
    for name, text in render().items():
        path = ROOT / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args:
            drift.append(name)
            print(f"{name} differs from what the app generates now", file=sys.stderr)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {name}", file=sys.stderr)
    if drift:
        print("run `python -m tools.gen` and commit the result", file=sys.stderr)
        return 1
    return 0
