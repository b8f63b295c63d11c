"""man/deerimg.1: the man page in roff, from the command tree and the prose of text.py."""

from __future__ import annotations

import re

from tools.gen import app
from tools.gen.template import HEADER
from tools.gen.text import (
    DESCRIPTION,
    ENVIRONMENT,
    EXAMPLES,
    EXIT_STATUS,
    FAMILIES_INTRO,
    FILES_TEXT,
    KEYS_INTRO,
    SEE_ALSO,
)
from tools.gen.tree import (
    HELP_PANEL,
    PROG,
    Command,
    Param,
    Values,
    config_key_values,
    first_sentence,
)


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


# Commands whose arguments click must call optional, as an option can stand for them, though a
# person gives them in the usual case: each form of the command's arguments, as a person writes
# it (`[…]` optional, `-x` a flag), instead of one line that brackets them all.
FORMS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("edit",): ("IMAGE... PROMPT", "-f FILE [IMAGE...]"),
}


def _form(text: str) -> str:
    """A FORMS entry in roff: flags bold, names italic, brackets and dots as they are."""
    words = []
    for word in text.split():
        inner = word.strip("[]")
        name = inner.removesuffix("...")
        shown = _bold(name) if name.startswith("-") else _italic(name)
        shown += "..." if inner.endswith("...") else ""
        words.append("[" * word.startswith("[") + shown + "]" * word.endswith("]"))
    return " ".join(words)


def _synopses(cmd: Command) -> list[str]:
    """The synopsis line of CMD; one per form for the commands in FORMS."""
    words = [_bold(" ".join((PROG, *cmd.path)))]
    if cmd.options:
        words.append("[\\fIOPTIONS\\fR]")
    if cmd.subcommands:
        words.append("\\fICOMMAND\\fR")
    if cmd.path in FORMS:
        return [" ".join((*words, _form(form))) for form in FORMS[cmd.path]]
    for arg in cmd.arguments:
        dots = "..." if arg.repeatable and "..." not in arg.metavar else ""
        name = _italic(arg.metavar + dots)
        words.append(name if arg.required else f"[{name}]")
    return [" ".join(words)]


def _synopsis(cmd: Command) -> list[str]:
    """CMD's synopsis lines, as roff: a line break between forms."""
    lines: list[str] = []
    for line in _synopses(cmd):
        lines += [".br", line] if lines else [line]
    return lines


def _option_entry(opt: Param) -> list[str]:
    tag = ", ".join(_bold(name) for name in opt.names)
    if opt.takes_value:
        tag += " " + _italic(opt.metavar)
    text = opt.help or ""
    if opt.values.kind == "words" and not all(w in text for w in opt.values.words):
        text += f" {'Allowed' if opt.values.only else 'Names'}: {', '.join(opt.values.words)}."
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
    out = [f'.SH "{roff(" ".join((PROG, *cmd.path)).upper())}"', *_synopsis(cmd)]
    out += _paragraphs(cmd.help)
    if cmd.subcommands:
        for sub in cmd.subcommands:
            out += [f'.SS "{roff(" ".join((PROG, *sub.path)))}"', *_synopsis(sub)]
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
    out = ['.SS "Keys"', roff(KEYS_INTRO)]
    values = config_key_values()
    defaults, env_vars = app.defaults(), app.env_vars()
    for name, key in app.config_keys().items():
        text = key.help[:1].upper() + key.help[1:] + "."
        if values.get(name, Values()).kind == "words":
            text += f" Allowed: {', '.join(values[name].words)}."
        if defaults.get(name) is not None:  # as config get shows it: 300, true, the folder "."
            shown = app.display_value(name, defaults[name])
            text += f' Default: "{shown}".' if name == "output_dir" else f" Default: {shown}."
        if name in env_vars:
            text += f" Environment: {env_vars[name]}."
        out += [".TP", _bold(name.replace("_", "-")), roff(text)]
    return out


def _families() -> list[str]:
    """Each family of deerimg's table with the model ids it knows (families.Family.ids)."""
    out = ['.SH "MODEL FAMILIES"', ".PP", roff(" ".join(FAMILIES_INTRO.split()))]
    for _, title, ids in app.families():
        if ids:
            out += [".TP", _bold(title), roff(", ".join(ids))]
    return out


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
    out = [
        f'.\\" {HEADER}',
        f'.TH DEERIMG 1 "" "deerimg {app.version()}" "User Commands"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{PROG} \\- {roff(first_sentence(tree.help)[:1].lower() + first_sentence(tree.help)[1:])}",
        ".SH SYNOPSIS",
    ]
    for cmd in tree.walk():
        if not cmd.subcommands or not cmd.path:
            out += [*_synopsis(cmd), ".br"]
    out[-1:] = []
    out += _section("DESCRIPTION", DESCRIPTION)
    out += _options_by_panel(tree, "Global options")
    for cmd in tree.subcommands:
        out += _command_section(cmd)
    out += _families()
    out += _section("ENVIRONMENT", ENVIRONMENT)
    out += _section("FILES", FILES_TEXT)
    out += _section('"EXIT STATUS"', EXIT_STATUS)
    out += _examples()
    out += ['.SH "SEE ALSO"', ".BR jq (1),", ".BR curl (1)", ".PP", roff(SEE_ALSO)]
    return "\n".join(out) + "\n"
