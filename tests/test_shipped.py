"""Issue 5: the shipped completions and man page match the app, and work in their shells."""

from __future__ import annotations

import ast
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools import gen as _gen

TREE = _gen.command_tree()
COMMANDS = list(TREE.walk())
BASH = ROOT / "completions" / "deerimg.bash"
ZSH = ROOT / "completions" / "_deerimg"
FISH = ROOT / "completions" / "deerimg.fish"
MAN = ROOT / "man" / "deerimg.1"
# What `deerimg models` caches: image-model ids (catalog decides which), one a line.
SAMPLE_IDS = (
    "gpt-image-2", "gpt-image-1.5", "dall-e-3", "flux.1-dev", "flux-kontext-pro", "recraftv3",
    "imagen-4.0", "mj_imagine", "seedream-4.0", "gemini-2.5-flash-image", "Nano-Banana-Pro",
)  # fmt: skip


def unroff(text: str) -> str:
    """Man source as the reader sees it (fonts dropped, escapes resolved)."""
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r"\\\[u([0-9A-F]{4})\]", lambda m: chr(int(m.group(1), 16)), text)
    for escape, char in {"\\-": "-", "\\(aq": "'", "\\(ga": "`", "\\(ti": "~", "\\(ha": "^",
                         "\\(em": "\u2014", "\\&": "", "\\e": "\\"}.items():  # fmt: skip
        text = text.replace(escape, char)
    return text


def man_section(title: str) -> str:
    """The text of one .SH section (or, for `deerimg config set`, one .SS) of the man page."""
    source = MAN.read_text(encoding="utf-8")
    for macro in (".SH", ".SS"):
        match = re.search(
            rf'^{re.escape(macro)} "?{re.escape(title)}"?\n(.*?)(?=^\.S[HS] |\Z)',
            source,
            re.MULTILINE | re.DOTALL,
        )
        if match:
            return unroff(match.group(1))
    raise AssertionError(f"no section {title!r} in {MAN}")


def command_section(cmd: _gen.Command) -> str:
    """The man page's text about CMD: its .SH with its .SS parts, or its own .SS (config set)."""
    if len(cmd.path) > 1:
        return man_section(" ".join(("deerimg", *cmd.path)))
    source = MAN.read_text(encoding="utf-8")
    start = source.index(f'.SH "DEERIMG {cmd.path[0].upper()}"' if cmd.path else ".SH DESCRIPTION")
    end = source.find("\n.SH ", start + 1)
    return unroff(source[start:end])


def help_options(invoke, path: tuple[str, ...]) -> set[str]:
    """The option names that `deerimg PATH --help` shows, read from its panels' first columns."""
    result = invoke(*path, "--help", env={"COLUMNS": "120"})
    assert result.exit_code == 0, result
    names: set[str] = set()
    for line in result.stdout.splitlines():
        match = re.match(r"^[│|]\s+(--?[A-Za-z][\w/-]*)(?:\s+(-[A-Za-z])\s)?", line)
        if match:
            names.update(match.group(1).split("/"))
            if match.group(2):
                names.add(match.group(2))
    return names


# -- the files match what the app generates now ----------------------------------------------------


def test_shipped_files_are_what_the_app_generates():
    drifted = [
        name
        for name, text in _gen.render().items()
        if not (ROOT / name).exists() or (ROOT / name).read_text(encoding="utf-8") != text
    ]
    assert not drifted, f"{drifted} differ from the app: run `python -m tools.gen` and commit"


def test_generation_is_deterministic(monkeypatch):
    first = _gen.render()
    monkeypatch.setenv("HOME", "/elsewhere")
    monkeypatch.setenv("DEERIMG_CONFIG_DIR", "/elsewhere/config")
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    again = _gen.render()
    assert again == first
    assert all("/elsewhere" not in text and str(ROOT) not in text for text in again.values())


def test_check_names_the_drifted_file_and_write_fixes_it(monkeypatch, tmp_path, capsys):
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.setattr(_gen, "ROOT", root)
    assert _gen.main([]) == 2  # not a project folder: nothing written
    assert list(root.iterdir()) == []
    (root / "pyproject.toml").write_text("")
    assert _gen.main([]) == 0
    written = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert written == sorted([*_gen.FILES, "pyproject.toml"])
    assert _gen.main(["--check"]) == 0
    (root / "man" / "deerimg.1").write_text("stale\n")
    (root / "completions" / "deerimg.fish").unlink()
    capsys.readouterr()
    assert _gen.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "man/deerimg.1 differs" in err and "completions/deerimg.fish differs" in err
    assert "deerimg.bash" not in err
    assert (root / "man" / "deerimg.1").read_text() == "stale\n"  # --check writes nothing
    assert _gen.main([]) == 0 and _gen.main(["--check"]) == 0


def test_check_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "tools.gen", "--check"], capture_output=True, text=True,
        cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


def test_the_generator_stays_out_of_the_runtime_package():
    import deerimg

    folders = {ROOT / "deerimg", *(Path(folder) for folder in deerimg.__path__)}
    found = [str(path) for folder in folders for path in folder.glob("_gen*")]
    found += [m.name for m in pkgutil.iter_modules(deerimg.__path__) if m.name.startswith("_gen")]
    assert not found, "the generator belongs in tools/gen, not in the installed package"


def test_the_generator_modules_are_short_and_say_their_job():
    modules = sorted((ROOT / "tools" / "gen").rglob("*.py"))
    assert {"__init__.py", "__main__.py", "tree.py", "man.py"} <= {path.name for path in modules}
    for path in modules:
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) < 300, f"{path}: split it"
        docstring = ast.get_docstring(ast.parse(source))
        assert source.startswith('"""') and docstring, f"{path}: no docstring saying its job"
        assert docstring.splitlines()[0].strip(), f"{path}: the docstring's first line is empty"


# -- every option --help shows is in the man page and the three completions ------------------------


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.key or "deerimg")
def test_every_help_option_is_documented_and_completed(cmd, invoke):
    shown = help_options(invoke, cmd.path)
    in_tree = {name for opt in cmd.options for name in opt.names}
    assert shown == in_tree, "the tree tools/gen walks is what --help shows"
    man = command_section(cmd)
    bash = BASH.read_text()
    bash_words = re.search(rf'^ +(?:.*\| )?"{cmd.key}"(?: \|.*)?\) words="([^"]*)"', bash, re.M)
    assert bash_words, f"bash has no option list for {cmd.key!r}"
    zsh = ZSH.read_text()
    zsh_function = "_" + "_".join(("deerimg", *cmd.path)).replace("-", "_")
    zsh_body = zsh[zsh.index(f"\n{zsh_function}() {{") :].split("\n}\n")[0]
    fish = [
        line for line in FISH.read_text().splitlines()
        if line.startswith(f"complete -c deerimg -n \"__deerimg_at '{cmd.key}'\" ")
    ]  # fmt: skip
    for opt in cmd.options:
        for name in opt.names:
            assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", man), (name, "man")
            assert name in bash_words.group(1).split(), (name, "bash")
            assert re.search(rf"[{{,']{re.escape(name)}[=+\[,}}]", zsh_body), (name, "zsh")
            flag = f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}"
            assert any(f" {flag} " in line for line in fish), (name, "fish")
        assert opt.help and " ".join(opt.help.split()) in " ".join(man.split()), (opt.names, "help")


def test_every_command_is_in_the_synopsis_and_the_completions():
    synopsis = man_section("SYNOPSIS")
    for cmd in COMMANDS:
        if cmd.path and not cmd.subcommands:
            assert f"deerimg {cmd.key} " in synopsis + " ", cmd.key
        for sub in cmd.subcommands:
            assert f"'{sub.path[-1]}:" in ZSH.read_text(), sub.key
            assert f"-a '{sub.path[-1]}'" in FISH.read_text(), sub.key


def test_man_page_sections():
    source = MAN.read_text(encoding="utf-8")
    for title in ("NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "FILES", '"EXIT STATUS"',
                  "EXAMPLES", '"SEE ALSO"'):  # fmt: skip
        assert f"\n.SH {title}\n" in source, title
    assert source.isascii()
    environment = man_section("ENVIRONMENT")
    for name in (
        "DEERAPI_KEY",
        "DEERIMG_BASE_URL",
        "DEERIMG_CONFIG_DIR",
        "DEERIMG_DEBUG",
        "NO_COLOR",
    ):
        assert f"\n{name}\n" in environment, name
    from deerimg.errors import ExitCode

    exit_status = man_section("EXIT STATUS")
    assert re.findall(r"^\.TP\n(\d+)$", exit_status, re.M) == [str(int(c)) for c in ExitCode]
    keys = man_section("Keys")
    for key in _gen.config_keys():
        assert f"\n{key}\n" in keys, key


def test_man_files_are_platformdirs_paths(monkeypatch):
    """FILES names the config file where platformdirs puts it on Linux, macOS and Windows."""
    import platformdirs.windows
    from platformdirs.macos import MacOS
    from platformdirs.unix import Unix

    monkeypatch.setenv("HOME", "/home/u")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda _: "%LOCALAPPDATA%")
    files = man_section("FILES")
    tagged = re.findall(r"^\.TP\n(.+)$", files, re.M)
    linux = Unix("deerimg").user_config_dir.replace("/home/u", "~") + "/config.toml"
    mac = MacOS("deerimg").user_config_dir.replace("/home/u", "~") + "/config.toml"
    windows = platformdirs.windows.Windows("deerimg").user_config_dir.replace("/", "\\")
    cache = Unix("deerimg").user_cache_dir.replace("/home/u", "~") + "/models.txt"
    ledger = Unix("deerimg").user_data_dir.replace("/home/u", "~") + "/history.jsonl"
    assert tagged == [linux, mac, windows + "\\config.toml", ledger, cache]
    assert MacOS("deerimg").user_data_dir.replace("/home/u", "~") + "/history.jsonl" in files
    assert MacOS("deerimg").user_cache_dir.replace("/home/u", "~") + "/models.txt" in files


def test_groff_finds_no_problem():
    if not shutil.which("groff"):
        pytest.skip("groff is not installed")
    done = subprocess.run(
        ["groff", "-man", "-ww", "-z", str(MAN)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")


# -- bash: the completion function run by bash itself ----------------------------------------------


def bash_complete(words: list[str], env: dict[str, str] | None = None, cwd: Path | None = None):
    """COMPREPLY for COMP_WORDS=WORDS (the last one is being completed), from a real bash."""
    script = (
        f"source {str(BASH)!r} || exit 9\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()\n'
        '_deerimg; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=20,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), done
    return [line for line in done.stdout.splitlines() if line]


def test_tab_never_starts_python(tmp_path):
    """The scripts are static: neither deerimg nor Python runs when TAB is pressed."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("deerimg", "python", "python3"):
        (stubs / name).write_text(f"#!/bin/sh\necho {name} >> {tmp_path / 'ran'}\n")
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:{os.environ['PATH']}"}
    lines = ["deerimg gen", "deerimg generate --format ", "deerimg generate -m ", "deerimg edit -"]
    for line in lines:
        bash_complete(line.split(" "), env=env)
    if shutil.which("fish"):
        fish_complete(lines, env=env)
    assert not (tmp_path / "ran").exists()
    for script in (BASH, ZSH, FISH):
        code = [line for line in script.read_text().splitlines() if not line.startswith("#")]
        assert not any("python" in line or "_DEERIMG_COMPLETE" in line for line in code)


def test_bash_completes_a_subcommand_and_an_option():
    assert bash_complete(["deerimg", "gen"]) == ["generate"]
    assert sorted(bash_complete(["deerimg", "generate", "--for"])) == ["--force", "--format"]


def test_bash_completion_is_registered_for_deerimg():
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", f"source {str(BASH)!r}; complete -p deerimg"],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    assert done.stdout.strip() == "complete -F _deerimg deerimg"


def value_cases() -> Iterator[tuple[list[str], list[str]]]:
    """For every command: its subcommands, its options, and each fixed value set, from the app."""
    for cmd in COMMANDS:
        words = ["deerimg", *cmd.path]
        if cmd.subcommands:
            yield [*words, ""], [s.path[-1] for s in cmd.subcommands]
        yield [*words, "--"], [n for o in cmd.options for n in o.names if n.startswith("--")]
        for opt in cmd.options:
            if opt.values.kind == "words":
                for name in opt.names:
                    yield [*words, name, ""], list(opt.values.words)
                initial = opt.values.words[0][:1]
                yield (
                    [*words, f"{opt.names[-1]}={initial}"],
                    [f"{opt.names[-1]}={w}" for w in opt.values.words if w.startswith(initial)],
                )
        for index, arg in enumerate(cmd.arguments):
            if arg.values.kind == "words":
                yield [*words, *["x"] * index, ""], list(arg.values.words)
    for key, values in _gen.config_key_values().items():
        if values.kind == "words":
            yield ["deerimg", "config", "set", key.replace("_", "-"), ""], list(values.words)


def test_bash_completes_every_value_set_from_the_app():
    cases = list(value_cases())
    assert len(cases) > 30
    for words, expected in cases:
        assert sorted(bash_complete(words)) == sorted(expected), words


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("generate --format = w", ["webp"], id="split-at-equals"),
        pytest.param("generate --format =", ["png", "jpeg", "webp", "gif", "svg"], id="at-equals"),
        pytest.param("--debug generate -q h", ["high", "hd"], id="global-option-first"),
        pytest.param("generate cat -o x.png --dry", ["--dry-run"], id="after-values"),
        pytest.param("generate -o --json --j", ["--jobs", "--json"], id="option-as-a-value"),
        pytest.param("generate -- --fo", [], id="after-dashdash"),
        pytest.param("generate --user ", [], id="free-text"),
        pytest.param("generate ", [], id="prompt"),
        pytest.param("config set fo", ["format"], id="config-key"),
        pytest.param("config get model ", [], id="one-key-only"),
    ],
)
def test_bash_completion_cases(line, expected):
    words = ["deerimg", *line.split(" ")]  # a trailing space: completing an empty word
    assert sorted(bash_complete(words)) == sorted(expected)


def test_bash_completes_files_and_folders(tmp_path):
    tmp_path = tmp_path / "here"
    tmp_path.mkdir()
    (tmp_path / "prompts.txt").write_text("a\n")
    (tmp_path / "photo.png").write_bytes(b"")
    (tmp_path / "out").mkdir()
    assert sorted(bash_complete(["deerimg", "generate", "-f", "p"], cwd=tmp_path)) == [
        "photo.png", "prompts.txt",
    ]  # fmt: skip
    assert bash_complete(["deerimg", "generate", "-d", ""], cwd=tmp_path) == ["out"]
    assert bash_complete(["deerimg", "config", "set", "output-dir", ""], cwd=tmp_path) == ["out"]
    assert "photo.png" in bash_complete(["deerimg", "edit", ""], cwd=tmp_path)


# -- model ids: the cache `deerimg models` keeps, filtered by catalog's rule, in all three shells --


@pytest.fixture(params=["config-dir", "xdg-cache"])
def model_cache(request, tmp_path, monkeypatch) -> Iterator[dict[str, str]]:
    """A models.txt where catalog.cache_path() says, in both of its places on Linux."""
    from deerimg import catalog

    if request.param == "xdg-cache":
        monkeypatch.delenv("DEERIMG_CONFIG_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform != "linux" and request.param == "xdg-cache":
        pytest.skip("platformdirs honours XDG_CACHE_HOME on Linux only")
    catalog.save_cache(SAMPLE_IDS)
    assert catalog.cache_path().is_file()
    env = {"HOME": str(tmp_path / "home")}
    for name in ("DEERIMG_CONFIG_DIR", "XDG_CACHE_HOME"):
        env[name] = os.environ.get(name, "")
    yield env


def expected_model_ids() -> list[str]:
    from deerimg import catalog

    expected = catalog.cached_model_ids()
    assert len(expected) == len(SAMPLE_IDS)
    return sorted(expected)


def test_bash_completes_model_ids_from_the_cache(model_cache):
    expected = expected_model_ids()
    assert sorted(bash_complete(["deerimg", "generate", "-m", ""], env=model_cache)) == expected
    assert (
        sorted(bash_complete(["deerimg", "config", "set", "model", ""], env=model_cache))
        == expected
    )
    assert bash_complete(["deerimg", "edit", "--model=dall"], env=model_cache) == [
        "--model=dall-e-3"
    ]


def test_a_model_id_is_never_run_as_shell_code(tmp_path, monkeypatch):
    """The cache holds what the API said; `compgen -W` would run a $(...) in it on TAB."""
    from deerimg import catalog

    catalog.save_cache(["gpt-$(touch pwned)", "gpt-`touch pwned`", "gpt-image-2"])
    here = tmp_path / "here"
    here.mkdir()
    got = bash_complete(["deerimg", "generate", "-m", "gpt-"], cwd=here)
    assert sorted(got) == ["gpt-$(touch pwned)", "gpt-`touch pwned`", "gpt-image-2"]
    assert list(here.iterdir()) == []


def test_without_a_cache_the_default_model_is_offered(tmp_path):
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": "", "DEERIMG_CONFIG_DIR": str(tmp_path)}
    # with the ids of the family table (issue 17: tests/test_shipped.py's family-id tests)
    offered = bash_complete(["deerimg", "generate", "-m", ""], env=env)
    assert "gpt-image-2" in offered and sorted(offered) == sorted(_gen.known_model_ids())


# -- zsh and fish, when installed ------------------------------------------------------------------

ZSH_CAPTURE = r"""
# zsh -f -c THIS DIR LINE...: types each LINE and TAB in an interactive zsh; prints the matches.
zmodload zsh/zpty
dir=$1; shift
zpty z zsh -f -i
zpty -w z "bindkey -e; KEYTIMEOUT=1; fpath=(${(q)dir} \$fpath)"
zpty -w z 'autoload -Uz compinit; compinit -u -D'
# compadd also prints what it adds that matches; ^Y prints a mark once a TAB is done.
zpty -w z 'compadd() {
  local -a __m
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  builtin compadd -O __m "$@"; (( $#__m )) && print -rl -- "" "M:"$^__m
  builtin compadd "$@"
}'
zpty -w z '__mark() { print -r -- "@@E""ND"; }; zle -N __mark; bindkey "^Y" __mark'
zpty -w z 'PS1="<<P"">>"'
zpty -r z out '*<<P>>*' || exit 3
for line in "$@"; do
  zpty -w -n z "$line"$'\t\x19'
  zpty -r z out '*@@END*' || exit 4
  print -rl -- ${${(M)${(f)out//$'\r'/}:#M:*}#M:} @@END
  zpty -w -n z $'\x15'
done
zpty -d z
"""


def zsh_complete(
    lines: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> list[set[str]]:
    done = subprocess.run(
        ["zsh", "-f", "-c", ZSH_CAPTURE, "zsh", str(ZSH.parent), *lines],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd, timeout=30,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done
    answers = done.stdout.split("@@END\n")
    assert len(answers) == len(lines) + 1, done
    return [{word for word in answer.splitlines() if word} for answer in answers[:-1]]


@pytest.fixture
def zsh() -> None:
    if not shutil.which("zsh"):
        pytest.skip("zsh is not installed")


def test_zsh_script_parses(zsh):
    done = subprocess.run(["zsh", "-n", str(ZSH)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")


def test_zsh_completes(zsh, tmp_path):
    tmp_path = tmp_path / "here"
    (tmp_path / "out").mkdir(parents=True)
    config = next(c for c in COMMANDS if c.key == "config")
    cases = {
        "deerimg gen": {"generate"},
        "deerimg generate --for": {"--force", "--format"},
        "deerimg generate --format=": {"png", "jpeg", "webp", "gif", "svg"},
        "deerimg --debug generate -o x.png --back": {"--background"},
        "deerimg config ": {sub.path[-1] for sub in config.subcommands},
        "deerimg config set format ": {"png", "jpeg", "webp"},
        "deerimg config set output-dir ": {"out"},
        "deerimg generate -m ": set(_gen.known_model_ids()),  # no cache: the table's ids
    }  # fmt: skip
    assert dict(zip(cases, zsh_complete(list(cases), cwd=tmp_path), strict=True)) == cases


def test_zsh_completes_model_ids_from_the_cache(zsh, model_cache):
    expected = set(expected_model_ids())
    assert zsh_complete(["deerimg generate -m ", "deerimg edit --model "], env=model_cache) == [
        expected, expected,
    ]  # fmt: skip


@pytest.fixture
def fish() -> None:
    if not shutil.which("fish"):
        pytest.skip("fish is not installed")


def fish_complete(lines: list[str], env: dict[str, str] | None = None) -> list[list[str]]:
    script = (
        f"source {str(FISH)!r}; or exit 9\nfor line in $argv; complete -C $line; echo @@END; end"
    )
    done = subprocess.run(
        ["fish", "--no-config", "-c", script, *lines],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=30, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), done
    answers = done.stdout.split("@@END\n")
    return [sorted(line.split("\t")[0] for line in a.splitlines()) for a in answers[:-1]]


def test_fish_script_parses(fish):
    done = subprocess.run(
        ["fish", "--no-config", "--no-execute", str(FISH)], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")


def test_fish_completes_every_value_set_from_the_app(fish):
    cases = [
        (words, expected)
        for words, expected in value_cases()
        if not (words[-1].startswith("--") and "=" not in words[-1])  # fish adds short forms
    ]
    lines = [" ".join(w if w else "" for w in words) for words, _ in cases]
    answers = fish_complete(lines)
    for (words, expected), got in zip(cases, answers, strict=True):
        assert got == sorted(expected), words
    assert fish_complete(["deerimg gen", "deerimg generate --for"]) == [
        ["generate"], ["--force", "--format"],
    ]  # fmt: skip


def test_fish_completes_model_ids_from_the_cache(fish, model_cache):
    expected = expected_model_ids()
    lines = ["deerimg generate -m ", "deerimg config set model "]
    assert fish_complete(lines, env=model_cache) == [expected, expected]


# -- help, and Typer's own completion --------------------------------------------------------------


def test_no_arguments_shows_help(invoke):
    result = invoke()
    assert "Usage: deerimg [OPTIONS] COMMAND" in result.stdout + result.stderr
    for cmd in TREE.subcommands:
        assert cmd.path[-1] in result.stdout + result.stderr


def test_generate_options_are_in_the_four_panels():
    generate = next(c for c in COMMANDS if c.key == "generate")
    panels = {opt.panel for opt in generate.options if opt.name != "help"}
    assert panels == {"Request", "Output", "Batch", "Connection"}


def test_value_sets_are_named_in_the_help():
    for cmd in COMMANDS:
        for opt in cmd.options:
            if opt.values.kind == "words":
                assert all(word in opt.help for word in opt.values.words), (cmd.key, opt.names)


def test_typer_s_dynamic_completion_is_gone(invoke):
    """Issue 22: `deerimg completion SHELL` prints the static scripts; Typer's own options, which
    started Python on every TAB, are not offered any more."""
    assert invoke("--install-completion", "bash").exit_code == 2
    assert "--install-completion" not in invoke("--help").stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_shipped_script_byte_for_byte(invoke, shell):
    from deerimg.shipped import SCRIPTS

    result = invoke("completion", shell)
    assert result.exit_code == 0, result
    assert result.stdout_bytes == (ROOT / "completions" / SCRIPTS[shell]).read_bytes()


def test_completion_help_shows_the_line_to_install_it_in_each_shell(invoke):
    shown = invoke("completion", "--help").stdout
    for line in ("deerimg completion bash >", "deerimg completion zsh >",
                 "deerimg completion fish > ~/.config/fish/completions/deerimg.fish"):  # fmt: skip
        assert line in " ".join(shown.split()), line
    assert invoke("completion", "tcsh").exit_code == 2


# -- issue 17: the family table's model ids, offered by -m TAB before `deerimg models` ran ---------


def no_cache(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "XDG_CACHE_HOME": "", "DEERIMG_CONFIG_DIR": str(tmp_path)}


def family_ids() -> list[str]:
    from deerimg.families import FAMILIES

    return sorted(model for family in FAMILIES for model in family.ids)


def test_bash_offers_the_family_table_s_ids_without_a_cache(tmp_path):
    env = no_cache(tmp_path)
    assert sorted(bash_complete(["deerimg", "generate", "-m", ""], env=env)) == family_ids()
    assert sorted(bash_complete(["deerimg", "edit", "--model", "doubao-seedream-4"], env=env)) == [
        "doubao-seedream-4-0-250828", "doubao-seedream-4-5-251128",
    ]  # fmt: skip
    assert bash_complete(["deerimg", "edit", "--model=bytedance"], env=env) == [
        "--model=bytedance-seedEdit-3.0-i2i"
    ]
    assert "dall-e-2" in bash_complete(["deerimg", "config", "set", "model", "d"], env=env)
    assert sorted(bash_complete(["deerimg", "models", "--family", "s"])) == [
        "seededit", "seedream",
    ]  # fmt: skip


def test_zsh_and_fish_offer_the_family_table_s_ids_without_a_cache(tmp_path):
    env = no_cache(tmp_path)
    if shutil.which("zsh"):
        assert zsh_complete(["deerimg generate -m "], env=env) == [set(family_ids())]
    if shutil.which("fish"):
        assert fish_complete(["deerimg edit -m "], env=env) == [family_ids()]
    if not (shutil.which("zsh") or shutil.which("fish")):
        pytest.skip("neither zsh nor fish is installed")


def test_the_man_page_lists_each_family_s_ids():
    from deerimg.families import FAMILIES

    section = unroff(man_section("MODEL FAMILIES"))
    for family in (f for f in FAMILIES if f.ids):  # a catch-all (gemini) has none to list
        assert f"\n{family.title}\n{', '.join(family.ids)}\n" in section, family.name
