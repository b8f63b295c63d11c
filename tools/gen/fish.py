"""completions/deerimg.fish: the fish completion script, from the command tree."""

from __future__ import annotations

from tools.gen.template import HEADER, fill
from tools.gen.tree import PROG, Command, Values, config_key_values, first_sentence, known_model_ids


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
    return fill(
        "deerimg.fish.in",
        HEADER=HEADER,
        VALUED=" ".join(_fq(v) for v in valued),
        COMMANDS=" ".join(_fq(c) for c in commands),
        KNOWN_MODELS=" ".join(known_model_ids()),
        KEY_CASES=key_cases,
        COMPLETIONS="".join(line + "\n" for line in lines),
    )


def _fish_value_call(values: Values) -> str:
    if values.kind == "words":
        return "printf '%s\\n' " + " ".join(values.words)
    return {
        "models": "__deerimg_model_ids",
        "dirs": "__fish_complete_directories (commandline -ct)",
    }.get(values.kind, "true")
