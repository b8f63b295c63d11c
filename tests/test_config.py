"""`deerimg config`: set/get/unset/list/path through the real command line (issue 4)."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import TEST_KEY
from tests.helpers import mode, names_in

# Not TEST_KEY: a key that only these tests ever reveal.
FILE_KEY = "sk-file-9876543210zyxwvuFILE"


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEERAPI_KEY", raising=False)


def test_set_writes_0600_file_in_0700_folder(invoke, config_file):
    result = invoke("config", "set", "model", "flux-kontext-pro")
    assert (result.exit_code, result.stdout) == (0, "")
    assert f"saved model = flux-kontext-pro in {config_file}" in result.stderr
    assert config_file.read_text() == 'model = "flux-kontext-pro"\n'
    assert mode(config_file) == 0o600
    assert mode(config_file.parent) == 0o700
    assert names_in(config_file.parent) == ["config.toml"]  # no temp left


@pytest.mark.parametrize(
    ("key", "value", "line", "shown"),
    [
        ("model", "gpt-image-1", 'model = "gpt-image-1"', "gpt-image-1"),
        ("base-url", "https://example.com/v1", 'base_url = "https://example.com/v1"', None),
        ("base_url", "http://127.0.0.1:8080", 'base_url = "http://127.0.0.1:8080"', None),
        ("size", "1024x1536", 'size = "1024x1536"', "1024x1536"),
        ("size", "auto", 'size = "auto"', "auto"),
        ("quality", "high", 'quality = "high"', "high"),
        ("format", "jpg", 'format = "jpeg"', "jpeg"),
        ("output-dir", "~/Pictures/deer", 'output_dir = "~/Pictures/deer"', "~/Pictures/deer"),
        ("output_dir", "out", 'output_dir = "out"', "out"),
        ("jobs", "32", "jobs = 32", "32"),
        ("JOBS", "1", "jobs = 1", "1"),
        ("timeout", "600", "timeout = 600.0", "600"),
        ("timeout", "0.5", "timeout = 0.5", "0.5"),
        ("retries", "0", "retries = 0", "0"),
    ],
)
def test_set_then_get_each_key(invoke, config_file, key, value, line, shown):
    assert invoke("config", "set", key, value).exit_code == 0
    assert config_file.read_text() == line + "\n"
    if shown is not None:  # base-url: the fixture's DEERIMG_BASE_URL wins, tested below
        result = invoke("config", "get", key)
        assert (result.exit_code, result.stdout) == (0, shown + "\n")


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("size", "big"), "must be WxH (for example 1024x1536) or auto"),
        (("size", "1024"), "must be WxH"),
        (("jobs", "0"), "must be from 1 to 32"),
        (("jobs", "33"), "must be from 1 to 32"),
        (("jobs", "2.5"), "must be a whole number"),
        (("timeout", "0"), "must be more than 0 seconds"),
        (("timeout", "soon"), "must be a number of seconds"),
        (("retries", "--", "-1"), "must be from 0 to 20"),
        (("format", "gif"), "must be one of png, jpeg, webp"),
        (("quality", "ultra"), "must be one of auto, low, medium, high"),
        (("base-url", "ftp://example.com"), "must be an http(s) URL"),
        (("base-url", "api.deerapi.com"), "must be an http(s) URL"),
        (("model", " "), "must not be empty"),
    ],
)
def test_bad_value_exits_2_with_what_is_allowed(invoke, config_file, args, allowed):
    result = invoke("config", "set", *args)
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: invalid value for ")
    assert allowed in result.stderr
    assert not config_file.exists()


def test_unknown_key_exits_2_listing_keys(invoke, config_file):
    for args in (("set", "modle", "x"), ("get", "modle"), ("unset", "modle")):
        result = invoke("config", *args)
        assert result.exit_code == 2
        assert "error: unknown config key 'modle'" in result.stderr
        assert (
            "hint: valid keys: api-key, base-url, model, size, quality, format, output-dir, "
            "jobs, timeout, retries" in result.stderr
        )
    assert not config_file.exists()


def test_set_without_value_exits_2(invoke, config_file):
    result = invoke("config", "set", "model")
    assert result.exit_code == 2
    assert "error: config set model needs a VALUE" in result.stderr
    assert not config_file.exists()


def test_plain_http_base_url_warns_unless_loopback(invoke, config_file):
    remote = invoke("config", "set", "base-url", "http://gateway.example.com")
    assert remote.exit_code == 0
    assert "warning: base URL http://gateway.example.com is plain http" in remote.stderr
    for url in (
        "http://localhost:3000",
        "http://127.0.0.5/v1",
        "http://[::1]:8080",
        "https://x.io",
    ):
        result = invoke("config", "set", "base-url", url)
        assert result.exit_code == 0
        assert "plain http" not in result.stderr


# -- the API key --------------------------------------------------------------------------------


def test_piped_key_is_saved_and_never_shown(invoke, config_file, no_env_key):
    result = invoke("config", "set", "api-key", input=FILE_KEY + "\n")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "saved api-key = sk-…FILE" in result.stderr
    assert "shell history" not in result.stderr
    assert config_file.read_text() == f'api_key = "{FILE_KEY}"\n'
    assert mode(config_file) == 0o600
    masked = invoke("config", "get", "api-key")
    assert (masked.exit_code, masked.stdout) == (0, "sk-…FILE\n")
    revealed = invoke("config", "get", "api_key", "--reveal")
    assert (revealed.exit_code, revealed.stdout) == (0, FILE_KEY + "\n")
    for outcome in (result, masked):
        assert FILE_KEY not in outcome.stdout + outcome.stderr


def test_dash_reads_key_from_stdin(invoke, config_file, no_env_key):
    result = invoke("config", "set", "api-key", "-", input=FILE_KEY)
    assert result.exit_code == 0
    assert config_file.read_text() == f'api_key = "{FILE_KEY}"\n'


def test_key_from_terminal_is_read_hidden(invoke, config_file, no_env_key, monkeypatch):
    from deerimg.report import terminal

    monkeypatch.setattr(terminal, "stdin_is_terminal", lambda: True)
    result = invoke("config", "set", "api-key", input=FILE_KEY + "\n")
    assert result.exit_code == 0, result
    assert "DeerAPI key (input is hidden):" in result.stderr
    assert FILE_KEY not in result.stdout + result.stderr  # not echoed
    assert config_file.read_text() == f'api_key = "{FILE_KEY}"\n'


def test_key_as_argument_works_but_warns(invoke, config_file, no_env_key):
    result = invoke("config", "set", "api-key", FILE_KEY)
    assert result.exit_code == 0
    assert "warning: the key given on the command line is now in your shell history" in (
        result.stderr
    )
    assert FILE_KEY not in result.stdout + result.stderr
    assert config_file.read_text() == f'api_key = "{FILE_KEY}"\n'


@pytest.mark.parametrize("text", ["", "  \n", "sk-one two", "sk-line\nsk-another"])
def test_bad_piped_key_exits_2_without_printing_it(invoke, config_file, text):
    result = invoke("config", "set", "api-key", input=text)
    assert result.exit_code == 2
    assert "error: " in result.stderr
    for word in text.split():
        assert word not in result.stdout + result.stderr
    assert not config_file.exists()


def test_key_in_environment_is_named_when_saving(invoke):
    result = invoke("config", "set", "api-key", input=FILE_KEY)
    assert result.exit_code == 0
    assert "warning: DEERAPI_KEY is set in the environment, and it wins" in result.stderr


def test_new_user_sets_key_then_generates(invoke, fake_api, no_env_key):
    """Issue 4, done when: `config set api-key`, paste, and `generate` works."""
    assert invoke("generate", "a paper boat", "-o", "boat.png").exit_code == 3
    assert invoke("config", "set", "api-key", input=TEST_KEY + "\n").exit_code == 0
    result = invoke("generate", "a paper boat", "-o", "boat.png")
    assert (result.exit_code, result.stdout) == (0, "boat.png\n")
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


# -- get, unset, path ---------------------------------------------------------------------------


def test_get_prints_effective_value_and_exit_1_when_unset(invoke):
    """The contract: a key set nowhere exits 1, stdout empty; stderr names the default."""
    for key, default in (("model", "gpt-image-2"), ("jobs", "4")):
        unset = invoke("config", "get", key)
        assert (unset.exit_code, unset.stdout) == (1, "")
        assert f"error: {key} is not set; the default applies: {default}" in unset.stderr
    invoke("config", "set", "jobs", "6")
    assert invoke("config", "get", "jobs").stdout == "6\n"
    result = invoke("config", "get", "size")
    assert (result.exit_code, result.stdout) == (1, "")
    assert "error: size is not set" in result.stderr
    assert "hint: set it with `deerimg config set size VALUE`" in result.stderr


def test_get_api_key_unset_exits_1(invoke, no_env_key):
    result = invoke("config", "get", "api-key", "--reveal")
    assert (result.exit_code, result.stdout) == (1, "")


def test_unset_removes_only_that_line(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('# my settings\nmodel = "flux-pro"  # favourite\njobs = 8\n')
    result = invoke("config", "unset", "model")
    assert result.exit_code == 0
    assert f"removed model from {config_file}" in result.stderr
    assert config_file.read_text() == "# my settings\njobs = 8\n"
    assert invoke("config", "get", "model").exit_code == 1  # back to the default
    again = invoke("config", "unset", "model")
    assert again.exit_code == 0
    assert "model is not set in" in again.stderr


def test_unset_without_file_creates_nothing(invoke, config_file):
    assert invoke("config", "unset", "size").exit_code == 0
    assert not config_file.parent.exists()


def test_set_keeps_comments_and_tables(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    original = '# deerimg\nsize = "auto" # square\n\n# later\n[profiles.web]\nmodel = "x"\n'
    config_file.write_text(original)
    assert invoke("config", "set", "jobs", "2").exit_code == 0
    assert config_file.read_text() == (
        '# deerimg\nsize = "auto" # square\njobs = 2\n\n# later\n[profiles.web]\nmodel = "x"\n'
    )
    assert invoke("config", "set", "size", "1024x1024").exit_code == 0
    assert 'size = "1024x1024"\njobs = 2\n' in config_file.read_text()


def test_edit_that_would_disturb_the_file_is_refused(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    original = 'notes = """\nmodel = "inside a string"\n"""\n'
    config_file.write_text(original)
    result = invoke("config", "set", "model", "gpt-image-1")
    assert result.exit_code == 3
    assert "without disturbing its other lines" in result.stderr
    assert config_file.read_text() == original


def test_path_prints_the_file(invoke, config_file):
    result = invoke("config", "path")
    assert (result.exit_code, result.stdout) == (0, f"{config_file}\n")
    assert not config_file.exists()


def test_symlinked_file_stays_a_link(invoke, config_file, tmp_path):
    target = tmp_path / "dotfiles" / "deerimg.toml"
    target.parent.mkdir()
    target.write_text('model = "a"\n')
    config_file.parent.mkdir(mode=0o700)
    config_file.symlink_to(target)
    assert invoke("config", "set", "model", "b").exit_code == 0
    assert config_file.is_symlink()
    assert target.read_text() == 'model = "b"\n'


# -- a file that cannot be parsed, or is too open -----------------------------------------------


CORRUPT = b'model = "gpt-image-1"\njobs = = 3\n'


@pytest.mark.parametrize(
    "args",
    [
        ("config", "set", "model", "x"),
        ("config", "set", "api-key", "-"),
        ("config", "unset", "model"),
        ("config", "get", "model"),
        ("config", "list"),
        ("config", "list", "--json"),
        ("generate", "a boat", "--dry-run"),
        ("models",),
    ],
)
def test_corrupt_file_exits_3_naming_file_and_line_and_stays_byte_identical(
    invoke, fake_api, config_file, args
):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_bytes(CORRUPT)
    config_file.chmod(0o600)
    before = config_file.stat()
    result = invoke(*args, input=FILE_KEY)
    assert (result.exit_code, result.stdout) == (3, ""), result
    assert f"error: config file {config_file}, line 2 cannot be parsed" in result.stderr
    assert "never rewrites a file it cannot parse" in result.stderr
    assert config_file.read_bytes() == CORRUPT
    assert config_file.stat().st_mtime_ns == before.st_mtime_ns
    assert names_in(config_file.parent) == ["config.toml"]
    assert fake_api.requests == []


def test_corrupt_file_does_not_stop_config_path(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_bytes(b"\xff\xfe not utf-8")
    assert invoke("config", "path").exit_code == 0
    result = invoke("config", "list")
    assert result.exit_code == 3
    assert f"config file {config_file} is not UTF-8 text" in result.stderr


def test_invalid_value_in_file_exits_3_with_the_fix(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text("jobs = 99\n")
    result = invoke("generate", "a boat", "--dry-run")
    assert result.exit_code == 3
    assert f"error: config file {config_file}: jobs must be from 1 to 32" in result.stderr
    assert "hint: fix it with `deerimg config set jobs VALUE`" in result.stderr
    assert invoke("config", "set", "jobs", "9").exit_code == 0  # the fix works
    assert invoke("generate", "a boat", "--dry-run").exit_code == 0


def test_a_bad_key_in_the_file_is_fixed_without_the_key_on_the_command_line(
    invoke, config_file, monkeypatch
):
    monkeypatch.delenv("DEERAPI_KEY", raising=False)
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('api_key = "sk-with a space"\n')
    result = invoke("generate", "a boat", "--dry-run")
    assert result.exit_code == 3
    assert "config set api-key` and paste the key at the prompt" in result.stderr
    assert "VALUE" not in result.stderr


def test_readable_file_warns_and_set_makes_it_private(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('model = "gpt-image-1"\n')
    config_file.chmod(0o644)
    for args in (("config", "get", "model"), ("config", "list"), ("generate", "x", "--dry-run")):
        result = invoke(*args)
        assert result.exit_code == 0
        assert (
            f"warning: config file {config_file} can be read by other users; "
            f"run: chmod 600 {config_file}"
        ) in result.stderr
    result = invoke("config", "set", "jobs", "2")
    assert "could be read by other users; it is now 0600" in result.stderr
    assert mode(config_file) == 0o600
    assert "warning" not in invoke("config", "get", "model").stderr


def test_unknown_key_in_file_warns(invoke, config_file):
    config_file.parent.mkdir(mode=0o700)
    config_file.write_text('api-key = "x"\nmodle = "y"\n')
    result = invoke("config", "get", "jobs")
    assert result.exit_code == 1  # set nowhere
    assert "unknown key 'api-key' ignored; write it api_key" in result.stderr
    assert "unknown key 'modle' ignored; valid keys: api_key, base_url" in result.stderr


# -- list: where each setting comes from --------------------------------------------------------


def test_list_shows_every_key_value_and_source(invoke, config_file, monkeypatch):
    from deerimg.settings.keys import KEYS

    monkeypatch.delenv("DEERIMG_BASE_URL")
    invoke("config", "set", "model", "flux-pro")
    invoke("config", "set", "timeout", "600")
    result = invoke("config", "list")
    assert result.exit_code == 0
    assert "\x1b[" not in result.stdout  # not a terminal: plain text
    lines = result.stdout.splitlines()
    rows = [re.split(r"\s{2,}", line) for line in lines]
    assert rows[:11] == [
        ["KEY", "VALUE", "SOURCE"],
        ["api-key", "sk-…CRET", "env DEERAPI_KEY"],
        ["base-url", "https://api.deerapi.com", "default"],
        ["model", "flux-pro", "config file"],
        ["size", "(the API's default)", "default"],
        ["quality", "(the API's default)", "default"],
        ["format", "(the API's default)", "default"],
        ["output-dir", ".", "default"],
        ["jobs", "4", "default"],
        ["timeout", "600", "config file"],
        ["retries", "3", "default"],
    ]
    assert [row[0] for row in rows[1:]] == [key.replace("_", "-") for key in KEYS]
    assert len({line.index(row[1]) for line, row in zip(lines, rows, strict=True)}) == 1
    assert f"config file: {config_file}\n" in result.stderr


def test_environment_overrides_file_and_list_says_so(invoke, fake_api, config_file):
    invoke("config", "set", "api-key", input=FILE_KEY)
    invoke("config", "set", "base-url", "https://api.deerapi.com")
    table = invoke("config", "list")
    lines = {line.split()[0]: line for line in table.stdout.splitlines()}
    assert lines["api-key"].split() == ["api-key", "sk-…CRET", "env", "DEERAPI_KEY,", "over",
                                        "config", "file"]  # fmt: skip
    assert lines["base-url"].endswith("env DEERIMG_BASE_URL, over config file")
    data = json.loads(invoke("config", "list", "--json").stdout)
    assert data["api_key"] == {
        "value": "sk-…CRET",
        "source": "env",
        "env_var": "DEERAPI_KEY",
        "overrides_config": True,
    }
    assert data["base_url"]["value"] == fake_api.base_url
    # generate resolves the same way: the environment's key and URL are used
    assert invoke("generate", "a boat", "-o", "b.png").exit_code == 0
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


def test_list_json_masks_key_and_types_values(invoke, no_env_key):
    from deerimg.settings.keys import KEYS

    invoke("config", "set", "api-key", input=FILE_KEY)
    invoke("config", "set", "jobs", "8")
    result = invoke("config", "list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert list(data) == list(KEYS)
    assert data["api_key"]["value"] == "sk-…FILE"
    assert data["api_key"]["source"] == "config"
    assert data["jobs"] == {"value": 8, "source": "config", "env_var": None,
                            "overrides_config": False}  # fmt: skip
    assert data["size"]["value"] is None
    assert data["timeout"]["value"] == 300.0
    assert FILE_KEY not in result.stdout + result.stderr


def test_list_without_any_key(invoke, no_env_key):
    result = invoke("config", "list")
    assert re.search(r"^api-key +\(not set\) +default$", result.stdout, re.MULTILINE), result


def test_key_never_shown_unmasked_without_reveal(invoke, fake_api, config_file, monkeypatch):
    """Every command that can touch the key, with the key in the file and then in the env."""
    invoke("config", "set", "api-key", input=FILE_KEY)
    outputs = []
    for env_key in (None, FILE_KEY):
        if env_key is None:
            monkeypatch.delenv("DEERAPI_KEY")
        else:
            monkeypatch.setenv("DEERAPI_KEY", env_key)
        for args in (
            ("config", "get", "api-key"),
            ("config", "list"),
            ("config", "list", "--json"),
            ("config", "set", "model", "x"),
            ("config", "set", "jobs", "2"),
            ("generate", "a boat", "--dry-run"),
            ("models", "--json"),
        ):
            result = invoke(*args)
            outputs.append(result.stdout + result.stderr)
    assert all(FILE_KEY not in text for text in outputs)
    assert any("sk-…FILE" in text for text in outputs)


def test_generate_uses_config_defaults_and_flags_win(invoke, config_file):
    invoke("config", "set", "model", "acme-image-9")
    invoke("config", "set", "size", "1024x1536")
    result = invoke("generate", "a boat", "--dry-run")
    body = json.loads(result.stdout)["body"]
    assert (body["model"], body["size"]) == ("acme-image-9", "1024x1536")
    flagged = invoke("generate", "a boat", "--dry-run", "-m", "gpt-image-1", "-s", "auto")
    body = json.loads(flagged.stdout)["body"]
    assert (body["model"], body["size"]) == ("gpt-image-1", "auto")
