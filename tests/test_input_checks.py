"""Input refused before it is saved or sent: non-finite numbers, keys no header can carry, and
the config folder's mode on every write."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.fake import FakeDeerAPI
from tests.helpers import mode

# A key with one non-ASCII letter, as a paste from a word processor gives; a secret all the same.
ODD_KEY = "sk-abcdéfghijklODDSECRET"


# -- 1. numbers that overflow a float are Infinity too ------------------------------------------


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("1e999", "seed"),
        ("-1e400", "seed"),
        ("[1, 2e308]", "seed[1]"),
        ('{"a": {"b": 1e999}}', "seed.a.b"),
        ("NaN", "seed"),
    ],
)
def test_param_that_is_not_finite_is_a_usage_error(
    fake_api: FakeDeerAPI, invoke: Any, value: str, named: str
) -> None:
    outcome = invoke("generate", "a boat", "-p", f"seed={value}", "--dry-run")
    assert (outcome.exit_code, outcome.stdout) == (2, ""), outcome
    assert f"{named} is not a finite number" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert fake_api.requests == []


def test_param_as_large_as_a_float_goes(invoke: Any) -> None:
    outcome = invoke("generate", "a boat", "-p", "seed=1e308", "--dry-run")
    assert outcome.exit_code == 0, outcome
    assert '"seed": 1e+308' in outcome.stdout


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('{"prompt": "x", "seed": 1e999}', "seed"),
        ('{"prompt": "x", "extra": [0, -1e999]}', "extra[1]"),
        ('{"prompt": "x", "seed": NaN}', "seed"),
        ('{"prompt": "x", "seed": -Infinity}', "seed"),
    ],
)
def test_prompt_file_line_that_is_not_finite_is_a_usage_error(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, line: str, named: str
) -> None:
    (isolated_env / "p.txt").write_text('{"prompt": "fine"}\n' + line + "\n")
    outcome = invoke("generate", "-f", "p.txt", "--dry-run")
    assert (outcome.exit_code, outcome.stdout) == (2, ""), outcome
    assert f"p.txt line 2: {named} is not a finite number" in outcome.stderr
    assert fake_api.requests == []


# -- 2. `config set api-key` refuses what the client would refuse to send -----------------------


@pytest.mark.parametrize("key", [ODD_KEY, "sk-abc\x7fdefghijkl", "sk-abc\u00a0defghijkl"])
def test_key_no_header_can_carry_is_not_saved(invoke: Any, config_file: Path, key: str) -> None:
    outcome = invoke("config", "set", "api-key", input=key)
    assert outcome.exit_code == 2, outcome
    assert "holds a space, a control or a non-ASCII character" in outcome.stderr
    assert key not in outcome.stdout + outcome.stderr
    assert key[-8:] not in outcome.stdout + outcome.stderr  # not even its masked tail
    assert not config_file.exists()


def test_key_given_as_argument_is_checked_the_same(invoke: Any, config_file: Path) -> None:
    outcome = invoke("config", "set", "api-key", ODD_KEY)
    assert outcome.exit_code == 2, outcome
    assert "holds a space, a control or a non-ASCII character" in outcome.stderr
    assert ODD_KEY[-8:] not in outcome.stdout + outcome.stderr
    assert not config_file.exists()


def test_odd_key_in_environment_is_refused_in_the_same_words(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    outcome = invoke("generate", "a boat", env={"DEERAPI_KEY": ODD_KEY})
    assert outcome.exit_code == 3, outcome
    assert "holds a space, a control or a non-ASCII character" in outcome.stderr
    assert ODD_KEY[-8:] not in outcome.stdout + outcome.stderr
    assert fake_api.requests == []


def test_client_and_config_share_one_key_rule() -> None:
    from deerimg.settings import keys
    from deerimg.wire import client

    assert client._KEY_RE is keys.KEY_RE


# -- 3. the config folder is 0700 after every write ---------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
@pytest.mark.parametrize(
    "args", [("config", "set", "api-key"), ("config", "set", "model", "gpt-image-1")]
)
def test_existing_open_folder_is_tightened(
    invoke: Any, config_file: Path, args: tuple[str, ...]
) -> None:
    folder = config_file.parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # whatever the umask
    outcome = invoke(*args, input="sk-abcdefghijklFOLDER")
    assert outcome.exit_code == 0, outcome
    assert (mode(folder), mode(config_file)) == (0o700, 0o600)


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_unset_tightens_the_folder_too(invoke: Any, config_file: Path) -> None:
    assert invoke("config", "set", "model", "gpt-image-1").exit_code == 0
    config_file.parent.chmod(0o750)
    assert invoke("config", "unset", "model").exit_code == 0
    assert mode(config_file.parent) == 0o700


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_folder_that_cannot_be_changed_is_left_without_a_traceback(
    invoke: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = config_file.parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)

    def refuse(self: Path, mode: int, **kwargs: Any) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "chmod", refuse)
    outcome = invoke("config", "set", "model", "gpt-image-1")
    assert outcome.exit_code == 0, outcome
    assert "Traceback" not in outcome.stderr
    assert mode(folder) == 0o755
    assert config_file.read_text() == 'model = "gpt-image-1"\n'


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_folder_of_another_user_is_left_alone(
    invoke: Any, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = config_file.parent
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setattr(os, "getuid", lambda: folder.stat().st_uid + 1)
    assert invoke("config", "set", "model", "gpt-image-1").exit_code == 0
    assert mode(folder) == 0o755


def test_json_nested_thousands_deep_is_a_usage_error(invoke: Any, isolated_env: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    outcome = invoke("generate", "a boat", "-p", f"x={deep}", "--dry-run")
    assert outcome.exit_code == 2, outcome
    assert "nested too deeply" in outcome.stderr
    Path("p.txt").write_text('{"prompt": "x", "y": ' + deep + "}\n")
    outcome = invoke("generate", "-f", "p.txt", "--dry-run")
    assert outcome.exit_code == 2, outcome
    assert "p.txt line 1: JSON nested too deeply" in outcome.stderr
