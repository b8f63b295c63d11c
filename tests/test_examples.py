"""Issue 5: every example in the README and the man page runs, as written, against the fake DeerAPI.

Each ```sh block of README.md and each .EX block of man/deerimg.1 runs in a fresh folder, line by
line. `deerimg` is the real CLI in-process (the `invoke` fixture); pipes, `<`, `>` and `>>` are
honoured, and other programs in a pipeline (printf, echo, cat, jq) run for real. Blocks that call
no deerimg (installs, completion set-up) are not run, nor are set-up lines (SETUP: pip, export,
cp, man, …) or `deerimg --install-completion`, which edits the shell's startup file. Files that the
examples read are made first: prompts.txt from the README's own `# prompts.txt` block, images for
`edit`. Every command must exit 0, and a re-run with --skip-existing must send nothing.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_KEY
from tests.fake import make_image
from tests.test_shipped import unroff
from tools import gen as _gen

README = ROOT / "README.md"
MAN = ROOT / "man" / "deerimg.1"
# Set-up that the examples' reader does once, not deerimg at work: not run.
SETUP = ("pip", "pipx", "python3", "export", "man", "source", "sudo", "cp", "mkdir", "autoload")
NOT_RUN = ("--install-completion", "--show-completion")  # they edit the shell's startup files
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
OPERATORS = ("|", "&&", ";", "<", ">", ">>")
TREE = {cmd.path: cmd for cmd in _gen.command_tree().walk()}


def readme_prompts() -> str:
    """The README's example prompt file: the ```text block that starts `# prompts.txt`."""
    for block in re.findall(r"^```text\n(.*?)^```", README.read_text(), re.M | re.S):
        if block.startswith("# prompts.txt"):
            return block
    raise AssertionError("README.md has no ```text block starting with '# prompts.txt'")


def logical_lines(block: str) -> list[str]:
    text = block.replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def readme_blocks() -> list[tuple[str, list[str]]]:
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(), re.M | re.S)
    return [(f"README-{i}", logical_lines(b)) for i, b in enumerate(blocks, start=1)]


def man_blocks() -> list[tuple[str, list[str]]]:
    source = MAN.read_text()
    examples = source[source.index("\n.SH EXAMPLES\n") :].split("\n.SH ", 2)[1]
    blocks = re.findall(r"^\.EX\n(.*?)^\.EE", examples, re.M | re.S)
    return [(f"man-{i}", logical_lines(unroff(b))) for i, b in enumerate(blocks, start=1)]


# -- a small shell: pipelines of simple commands, < > >> and NAME=value prefixes ----------------


@dataclass
class Command:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    stdout: str | None = None
    append: bool = False


def parse(line: str) -> list[list[Command]]:
    """LINE as a list of pipelines (split at && and ;), each a list of commands (split at |)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    tokens = list(lexer)
    pipelines: list[list[Command]] = [[Command([])]]
    redirect = ""
    for token in tokens:
        command = pipelines[-1][-1]
        if redirect:
            target = str(Path(token).expanduser())
            if redirect == "<":
                command.stdin = target
            else:
                command.stdout, command.append = target, redirect == ">>"
            redirect = ""
        elif token in ("<", ">", ">>"):
            redirect = token
        elif token == "|":
            pipelines[-1].append(Command([]))
        elif token in ("&&", ";"):
            pipelines.append([Command([])])
        elif token in OPERATORS or set(token) <= set("|&;<>"):
            raise AssertionError(f"the example shell does not know {token!r} in {line!r}")
        elif not command.argv and re.match(r"^[A-Za-z_]\w*=", token):
            name, _, value = token.partition("=")
            command.env[name] = value
        else:
            command.argv.append(str(Path(token).expanduser()) if token.startswith("~/") else token)
    return pipelines


def commands_of(line: str) -> list[Command]:
    try:
        return [c for pipeline in parse(line) for c in pipeline]
    except (AssertionError, ValueError):
        return []  # not this shell's syntax (zsh's `fpath=(...)`): set-up, never run


def runs_deerimg(line: str) -> bool:
    commands = commands_of(line)
    return any(c.argv[:1] == ["deerimg"] for c in commands) and is_run(line)


def is_run(line: str) -> bool:
    """Is LINE run, in a block that runs deerimg? Everything but set-up and completion installs."""
    commands = commands_of(line)
    return bool(commands) and not any(
        c.argv[:1] and (c.argv[0] in SETUP or any(w in NOT_RUN for w in c.argv)) for c in commands
    )


def command_of(argv: list[str]) -> tuple[_gen.Command, list[str], dict[str, str]]:
    """The deerimg command ARGV names, its positional arguments and its options' values."""
    path: tuple[str, ...] = ()
    positional: list[str] = []
    values: dict[str, str] = {}
    words = iter(argv)
    for word in words:
        cmd = TREE[path]
        option = next((o for o in cmd.options if word.split("=")[0] in o.names), None)
        if option is not None:
            if option.takes_value:
                values[option.names[-1]] = word.partition("=")[2] or next(words, "")
        elif not positional and (*path, word) in TREE:
            path = (*path, word)
        else:
            positional.append(word)
    return TREE[path], positional, values


def prepare_inputs(command: Command, prompts: str) -> None:
    """Make the files an example reads: prompt files, the images `edit` takes, -i images."""
    wanted = [command.stdin] if command.stdin else []
    if command.argv[:1] == ["deerimg"]:
        cmd, positional, values = command_of(command.argv[1:])
        if values.get("--file", "-") != "-":
            wanted.append(values["--file"])
        if cmd.path == ("edit",):
            overlays = [values[flag] for flag in ("--mask", "--markup") if flag in values]
            for name in positional[:-1] + overlays:
                if not Path(name).exists():
                    Path(name).write_bytes(make_image("png", 64, 48))
                    if name in overlays:
                        from PIL import Image

                        Image.new("RGBA", (64, 48)).save(name, format="PNG")
        for flag, name in itertools.pairwise(command.argv):  # -i, repeatable: every one
            if flag in ("-i", "--image") and not Path(name).exists():
                fmt = {".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}.get(Path(name).suffix)
                Path(name).write_bytes(make_image(fmt or "png", 64, 48))
    else:
        wanted += [word for word in command.argv[1:] if word.endswith(".txt")]
    for name in wanted:
        if not Path(name).exists():
            Path(name).write_text(prompts)


def run_line(line: str, invoke, fake_api) -> None:
    prompts = readme_prompts()
    for pipeline in parse(line):
        data: bytes | None = None
        for command in pipeline:
            prepare_inputs(command, prompts)
            stdin = Path(command.stdin).read_bytes() if command.stdin else (data or b"")
            if command.argv[:1] == ["deerimg"]:
                args = command.argv[1:]
                if args == ["config", "set", "api-key"] and not stdin:
                    stdin = f"{TEST_KEY}\n".encode()  # what the person pastes at the prompt
                result = invoke(*args, input=stdin, env=command.env or None)
                assert result.exit_code == 0, (line, result)
                out = result.stdout_bytes
            else:
                if shutil.which(command.argv[0]) is None:
                    pytest.skip(f"{command.argv[0]} is not installed")
                # A program that runs deerimg itself (xargs, parallel) finds this one.
                path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
                done = subprocess.run(
                    command.argv, input=stdin, capture_output=True, timeout=30, check=False,
                    env={**os.environ, "PATH": path, **command.env},
                )  # fmt: skip
                assert done.returncode == 0, (line, done)
                out = done.stdout
            if command.stdout:
                # the folder a skipped set-up line (mkdir -p) would have made
                Path(command.stdout).parent.mkdir(parents=True, exist_ok=True)
                with Path(command.stdout).open("ab" if command.append else "wb") as handle:
                    handle.write(out)
                data = None
            else:
                data = out


BLOCKS = [
    (name, lines)
    for name, lines in readme_blocks() + man_blocks()
    if any(runs_deerimg(line) for line in lines)
]


@pytest.mark.parametrize(("name", "lines"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_example_runs(name, lines, invoke, fake_api, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ran: list[str] = []
    for line in lines:
        if not is_run(line):
            continue
        before = len(fake_api.generation_requests())
        run_line(line, invoke, fake_api)
        if "--skip-existing" in line and line.replace(" --skip-existing", "") in ran:
            assert len(fake_api.generation_requests()) == before, f"{line!r} sent requests"
        ran.append(line)


def test_the_examples_cover_the_issue():
    """One image, a batch from a file, piping, --json with jq, --skip-existing: in both places."""
    for name, blocks in (("README", readme_blocks()), ("man page", man_blocks())):
        lines = [line for _, block in blocks for line in block if runs_deerimg(line)]
        text = "\n".join(lines)
        assert re.search(r"deerimg generate \S.* -o \w+\.(png|jpg)", text), name
        assert "-f prompts.txt" in text, name
        assert re.search(r"\| deerimg generate", text), name
        assert re.search(r"--json \| jq", text), name
        assert "--skip-existing" in text, name
    readme = [line for _, block in readme_blocks() for line in block if runs_deerimg(line)]
    for cmd in TREE.values():
        if cmd.path and not cmd.subcommands:
            assert any(f"deerimg {cmd.key}" in line for line in readme), f"no example of {cmd.key}"


def test_readme_documents_the_keys_and_sections():
    readme = README.read_text()
    for key in _gen.config_keys():
        assert f"| `{key}` |" in readme, key
    for heading in ("Install", "Shell completion", "Man page", "Configuration", "Commands",
                    "Exit codes", "Troubleshooting", "Reliability", "Performance"):  # fmt: skip
        assert f"\n## {heading}\n" in readme, heading
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n| {code} |" in readme, code


def test_the_example_shell():
    (pipeline,) = parse("printf '%s\\n' 'a b' | FOO=1 deerimg generate -o - > out.png")
    assert [c.argv for c in pipeline] == [
        ["printf", "%s\\n", "a b"],
        ["deerimg", "generate", "-o", "-"],
    ]
    assert (pipeline[1].env, pipeline[1].stdout) == ({"FOO": "1"}, "out.png")
    assert not runs_deerimg("pip install .")
    assert not runs_deerimg("cp completions/deerimg.bash ~/.local/share/deerimg")
    assert not runs_deerimg("deerimg --install-completion")
    cmd, positional, values = command_of(
        ["edit", "a.png", "b.png", "sky", "--mask", "m.png", "-o=x"]
    )
    assert (cmd.key, positional, values) == ("edit", ["a.png", "b.png", "sky"],
                                              {"--mask": "m.png", "--output": "x"})  # fmt: skip


@pytest.mark.parametrize("where", ["README", "man page"])
def test_the_examples_run_in_order_in_one_folder(where, invoke, fake_api, monkeypatch, tmp_path):
    """A reader follows the examples one after another, in one folder: none may trip on a file
    that an earlier one made (issue 16: the prompt file's "output": "logo.png" stopped a later
    batch with `logo.png exists`)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    blocks = readme_blocks() if where == "README" else man_blocks()
    for _name, lines in blocks:
        if not any(runs_deerimg(line) for line in lines):
            continue
        for line in lines:
            if is_run(line):
                run_line(line, invoke, fake_api)
