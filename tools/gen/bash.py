"""completions/deerimg.bash: the bash completion script, from the command tree."""

from __future__ import annotations

from tools.gen.template import HEADER, fill
from tools.gen.tree import Command, Values, config_key_values, known_model_ids


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
    return fill(
        "deerimg.bash.in",
        HEADER=HEADER,
        KNOWN_MODELS=" ".join(known_model_ids()),
        TAKES=_case(takes),
        KINDS=_case(kinds),
        OPTIONS=_case(options),
        SUBS=_case(subs),
        ARGS=_case(args),
        KEYS=_case(key_arms),
    )
