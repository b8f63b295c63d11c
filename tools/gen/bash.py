"""completions/deerimg.bash: the bash completion script, from the command tree."""

from __future__ import annotations

from tools.gen import app
from tools.gen.template import HEADER
from tools.gen.tree import Command, Values, config_key_values


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
        default_model=app.default_model(),
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
