"""`deerimg config` where the world is hostile: a linked config.toml, a folder that cannot be
made or written (issue 16, findings 5 and 9)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import error_lines, mode, names_in

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


@posix_only
def test_a_linked_config_file_leaves_the_targets_folder_alone(
    invoke: Any, config_file: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"  # a dotfiles repository, or $HOME itself
    home.mkdir()
    home.chmod(0o755)
    target = home / "deerimg.toml"
    target.write_text('model = "a"\n')
    config_file.parent.mkdir()
    config_file.parent.chmod(0o755)
    config_file.symlink_to(target)
    outcome = invoke("config", "set", "jobs", "2")
    assert outcome.exit_code == 0, outcome
    assert mode(home) == 0o755  # not locked down: ~/public_html, group access
    assert mode(config_file.parent) == 0o700  # deerimg's own folder is
    assert config_file.is_symlink()
    assert target.read_text() == 'model = "a"\njobs = 2\n'
    assert mode(target) == 0o600
    assert names_in(home, ".*") == []  # no temporary file left beside the target


def test_a_link_into_a_missing_folder_is_one_line_and_creates_nothing_there(
    invoke: Any, config_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "gone" / "deerimg.toml"
    config_file.parent.mkdir(mode=0o700)
    config_file.symlink_to(target)
    outcome = invoke("config", "set", "model", "b")
    assert outcome.exit_code == 3, outcome
    assert error_lines(outcome) == [
        f"error: cannot write config file {config_file} (a link to {target}) in folder "
        f"{target.parent}: No such file or directory"
    ]
    assert not target.parent.exists()


@pytest.mark.parametrize("args", [("config", "set", "model", "x"), ("config", "set", "api-key")])
def test_a_config_folder_that_cannot_be_created_is_one_line(
    invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    folder = blocker / "cfg"
    monkeypatch.setenv("DEERIMG_CONFIG_DIR", str(folder))
    outcome = invoke(*args, input="sk-abcdefghijklFOLDER")
    assert (outcome.exit_code, outcome.stdout) == (3, ""), outcome
    assert error_lines(outcome) == [f"error: cannot create config folder {folder}: Not a directory"]
    assert "hint: make that folder writable, or set DEERIMG_CONFIG_DIR" in outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("args", [("config", "set", "model", "x"), ("config", "unset", "model")])
def test_a_read_only_config_folder_is_one_line(
    invoke: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('model = "a"\n')

    def read_only(path: Path, data: bytes, *, prefix: str = "") -> Path:
        # What mkstemp meets on a file system mounted read-only (root ignores chmod 0500).
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path.parent / f"{prefix}x.tmp"))

    monkeypatch.setattr("deerimg.settings.file.write_atomic", read_only)
    outcome = invoke(*args)
    assert (outcome.exit_code, outcome.stdout) == (3, ""), outcome
    assert error_lines(outcome) == [
        f"error: cannot write config file {config_file} in folder {config_file.parent}: "
        "Read-only file system"
    ]
    assert config_file.read_text() == 'model = "a"\n'


# -- config set api-key at a terminal; unset with the key in the environment (finding 20) -------


def at_terminal(args: list[str], keys: bytes | None) -> tuple[int, str]:
    """`python -m deerimg ARGS` on a pseudo-terminal; KEYS typed once the key prompt is there
    (None: Ctrl-C then). Its exit code and all it wrote."""
    import pty
    import select
    import signal
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "deerimg", *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    seen = b""
    typed = False
    deadline = time.monotonic() + 30
    try:
        while True:
            assert time.monotonic() < deadline, seen
            # The prompt's last space is written by getpass once echo is off and the terminal's
            # input flushed: keys typed before it would be thrown away.
            if not typed and b"(input is hidden): " in seen:
                typed = True
                if keys is None:
                    process.send_signal(signal.SIGINT)
                else:
                    os.write(master, keys)
            if not select.select([master], [], [], 0.02)[0]:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the process is gone
                break
            if not chunk:
                break
            seen += chunk
        return process.wait(timeout=30), seen.decode("utf-8", "replace")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()


@posix_only
@pytest.mark.parametrize(("keys", "what"), [(b"\n", "Enter"), (b"\x04", "Ctrl-D")])
def test_no_key_entered_at_the_prompt_is_said(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, keys: bytes, what: str
) -> None:
    monkeypatch.delenv("DEERAPI_KEY")
    code, text = at_terminal(["config", "set", "api-key"], keys)
    assert code == 2, text
    assert "error: no key entered; nothing was saved" in text
    assert text.count("(input is hidden):") == 1  # not asked again in silence
    assert not config_file.exists()


@posix_only
def test_ctrl_c_at_the_key_prompt_exits_130(config_file: Path) -> None:
    code, text = at_terminal(["config", "set", "api-key"], None)
    assert code == 130, text
    assert "interrupted" in text
    assert "Aborted" not in text
    assert not config_file.exists()


def test_unsetting_the_key_with_one_in_the_environment_says_which_applies(
    invoke: Any, config_file: Path
) -> None:
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('api_key = "sk-file-9876543210zyxwvuFILE"\n')
    outcome = invoke("config", "unset", "api-key")
    assert outcome.exit_code == 0, outcome
    assert outcome.stderr.splitlines() == [
        f"removed api-key from {config_file}",
        "the key in the environment variable DEERAPI_KEY still applies",
    ]
    again = invoke("config", "unset", "api-key")
    assert again.stderr.splitlines() == [
        f"api-key is not set in {config_file}",
        "the key in the environment variable DEERAPI_KEY still applies",
    ]


@pytest.mark.parametrize("args", [(), ("config",)])
def test_no_command_shows_the_help_and_exits_0(invoke: Any, args: tuple[str, ...]) -> None:
    outcome = invoke(*args)
    assert outcome.exit_code == 0, outcome
    assert f"Usage: deerimg {' '.join((*args, '[OPTIONS]'))} COMMAND" in outcome.stdout
    assert outcome.stdout == invoke(*args, "--help").stdout
