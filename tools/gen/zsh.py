"""completions/_deerimg: the zsh completion function, from the command tree."""

from __future__ import annotations

import re

from tools.gen.template import HEADER, fill
from tools.gen.tree import (
    PROG,
    Command,
    Param,
    Values,
    config_key_values,
    first_sentence,
    known_model_ids,
)


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
    return fill(
        "_deerimg.in",
        HEADER=HEADER,
        KNOWN_MODELS=" ".join(known_model_ids()),
        KEY_CASES=key_cases,
        FUNCTIONS=functions,
    )


def _zsh_value_call(values: Values) -> str:
    if values.kind == "words":
        return "_wanted values expl value compadd -- " + " ".join(values.words)
    return _zsh_action(values)
