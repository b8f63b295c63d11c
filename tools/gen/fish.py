"""completions/deerimg.fish: the fish completion script, from the command tree."""

from __future__ import annotations

from tools.gen import app
from tools.gen.template import HEADER
from tools.gen.tree import PROG, Command, Values, config_key_values, first_sentence


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
        default_model=app.default_model(),
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
