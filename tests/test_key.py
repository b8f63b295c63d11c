"""Issue 6, the key: never printed, never written, never sent to another origin; kept 0600.

test_key_never_appears runs one of every kind of command (success, each error, --debug
tracebacks, --dry-run, --json) and scans all they printed and every file under the test's
folder, with no dependence on other tests or their order.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deerimg.errors import DeerimgError
from deerimg.settings import file, keys
from deerimg.settings.resolve import resolve_settings
from deerimg.wire import retry
from tests.conftest import OUTPUTS, TEST_KEY
from tests.fake import FakeDeerAPI
from tests.helpers import free_port, names_in

ODD_KEY = "sk-odd-é-0123456789SECRETKEY"  # a non-ASCII character pasted into the key


def fragments(key: str, width: int = 10) -> set[str]:
    """The key and every WIDTH-character piece of it: a partial leak counts too."""
    return {key} | {key[i : i + width] for i in range(len(key) - width + 1)}


def leaks(text: str, key: str = TEST_KEY) -> list[str]:
    return sorted(piece for piece in fragments(key) if piece in text)


def files_under(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def run(isolated_env: Path) -> Iterator[Any]:
    """`python -m deerimg` in a subprocess: what a user's terminal shows, tracebacks included."""

    def call(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "deerimg", *args],
            capture_output=True,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        text = done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
        OUTPUTS.append(text)
        return done.returncode, text

    return call


def test_key_never_appears(
    fake_api: FakeDeerAPI,
    invoke: Any,
    run: Any,
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(retry, "BASE_DELAY", 0.001)  # in-process network retries take ms
    printed: list[tuple[str, str]] = []

    def generate(name: str, fault: dict[str, Any] | None, *args: str, **kw: Any) -> None:
        fake_api.reset()
        if fault:
            fake_api.always(**fault)
        outcome = invoke("generate", f"boat {name}", "--retries", "1", *args, **kw)
        printed.append((name, outcome.stdout + outcome.stderr))

    generate("ok", None)
    generate("json", None, "--json")
    generate("dry-run", None, "--dry-run")
    generate("dry-run-json", None, "--dry-run", "--json", "-n", "2")
    generate("quiet", None, "--quiet")
    generate("url", {"url_status": 200})
    generate("redirect", {"redirect_url": True})
    for status in (400, 401, 403, 404, 429, 500, 502, 503):
        generate(f"status-{status}", {"status": status, "retry_after_ms": "1"})
        generate(f"status-{status}-json", {"status": status, "retry_after_ms": "1"}, "--json")
    for fault in ("no_data", "empty_data", "invalid_b64", "not_image", "error_200", "truncate"):
        generate(fault, {fault: True})
    generate("drop", {"drop": True})
    generate("url-404", {"url_status": 404})
    generate("timeout", {"delay": 0.3}, "--timeout", "0.1")
    refused = {"DEERIMG_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    generate("refused", None, env=refused)
    generate("odd-key", None, env={"DEERAPI_KEY": ODD_KEY})
    generate("plain-http", None, "--dry-run", env={"DEERIMG_BASE_URL": "http://api.example.com"})
    generate("bad-flag", None, "-q", "ultra")
    generate("exists", None, "-o", "boat-ok.png")  # the target the first run left: exit 2
    # --debug and DEERIMG_DEBUG=1: real tracebacks, in a subprocess as a user would see them.
    fake_api.reset()
    fake_api.always(status=401)
    printed.append(("debug-401", run("--debug", "generate", "boat debug", "--retries", "0")[1]))
    fake_api.reset()
    fake_api.always(not_image=True)
    debug = {"DEERIMG_DEBUG": "1"}
    printed.append(("debug-image", run("generate", "boat image", "--retries", "0", env=debug)[1]))
    printed.append(("debug-refused", run("generate", "boat", "--retries", "0", env=refused)[1]))
    odd = {**debug, "DEERAPI_KEY": ODD_KEY}
    printed.append(("debug-odd-key", run("generate", "boat", "--retries", "0", env=odd)[1]))
    printed.append(("models", run("models", "--all")[1]))
    fake_api.reset()

    assert "Traceback" in dict(printed)["debug-401"]  # the debug runs did show tracebacks
    for name, text in printed:
        assert leaks(text) == [], name
        assert leaks(text, ODD_KEY) == [], name
    written = list(files_under(tmp_path))
    assert any(p.suffix == ".png" for p in written)
    for path in written:
        data = path.read_bytes().decode("utf-8", "replace")
        assert leaks(data) == [], path
        assert leaks(data, ODD_KEY) == [], path


def test_odd_key_is_refused_without_quoting_it(fake_api: FakeDeerAPI, invoke: Any) -> None:
    """Found by these tests: httpx's UnicodeEncodeError, a traceback quoting part of the key."""
    outcome = invoke("generate", "a paper boat", env={"DEERAPI_KEY": ODD_KEY})
    assert outcome.exit_code == 3, outcome
    assert "error: the API key holds a space, a control or a non-ASCII character" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert fake_api.requests == []


@pytest.mark.parametrize("key", ["sk-with space", "sk-tab\there", "sk-\x01ctl", "sk-ünï"])
def test_keys_that_cannot_be_a_header_never_leave(
    fake_api: FakeDeerAPI, invoke: Any, key: str
) -> None:
    outcome = invoke("generate", "a paper boat", "--retries", "2", env={"DEERAPI_KEY": key})
    assert outcome.exit_code == 3
    assert fake_api.requests == []  # nothing sent, so nothing retried either
    assert key.strip() not in outcome.stderr


def test_errors_and_settings_never_hold_the_key() -> None:
    settings = resolve_settings({}, {"DEERAPI_KEY": TEST_KEY}, {})
    assert leaks(repr(settings)) == []
    assert leaks(str(settings)) == []
    error = DeerimgError("x", status=401, code="invalid_api_key")
    assert leaks(error.line() + str(error.as_dict())) == []
    assert leaks(keys.mask_key(TEST_KEY)) == []
    assert keys.mask_key(TEST_KEY) == "sk-…CRET"


def test_no_authorization_to_a_url_on_another_origin(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    fake_api.always(url_status=200)
    outcome = invoke("generate", "a paper boat", "-o", "boat.png")
    assert outcome.exit_code == 0, outcome
    (download,) = fake_api.downloads
    assert "authorization" not in download.headers
    assert fake_api.generation_requests()[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert (isolated_env / "boat.png").stat().st_size > 0


def test_no_authorization_after_a_redirect_to_another_origin(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    """A url on the API's own origin that redirects to a CDN: the CDN never sees the key."""
    fake_api.always(redirect_url=True)
    outcome = invoke("generate", "a paper boat", "-o", "boat.png")
    assert outcome.exit_code == 0, outcome
    hop = [r for r in fake_api.requests if r.method == "GET" and r.path.startswith("/files/")]
    assert len(hop) == 1  # the API's origin: the key may go there, as to the API itself
    (download,) = fake_api.downloads
    assert download.path == hop[0].path
    assert "authorization" not in download.headers
    assert (isolated_env / "boat.png").stat().st_size > 0


def test_config_file_is_0600_in_a_0700_folder(isolated_env: Path) -> None:
    folder = isolated_env.parent / "config"  # DEERIMG_CONFIG_DIR, not created yet
    assert not folder.exists()
    old = os.umask(0)  # the most permissive umask: the modes must not depend on it
    try:
        path = file.write_config({"api_key": TEST_KEY})
    finally:
        os.umask(old)
    assert path == folder / "config.toml"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert names_in(folder) == ["config.toml"]  # no temporary file left


def test_config_rewrite_tightens_a_loose_file(isolated_env: Path) -> None:
    path = file.write_config({"model": "gpt-image-2"})
    path.chmod(0o644)
    file.write_config({"model": "gpt-image-2", "api_key": TEST_KEY})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_from_the_config_file_is_used_and_never_shown(
    fake_api: FakeDeerAPI, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEERAPI_KEY")
    file.write_config({"api_key": TEST_KEY})
    outcome = invoke("generate", "a paper boat", "--json")
    assert outcome.exit_code == 0, outcome
    assert fake_api.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"
    assert leaks(outcome.stdout + outcome.stderr) == []


@pytest.mark.parametrize(
    ("base_url", "warned"),
    [
        ("http://api.example.com", True),
        ("http://10.0.0.7:8080/v1", True),
        ("https://api.example.com", False),
        ("http://127.0.0.1:9", False),
        ("http://localhost:9/v1", False),
        ("http://[::1]:9", False),
    ],
)
def test_plain_http_base_url_that_is_not_loopback_warns(
    invoke: Any, base_url: str, warned: bool
) -> None:
    outcome = invoke("generate", "a paper boat", "--dry-run", env={"DEERIMG_BASE_URL": base_url})
    assert outcome.exit_code == 0, outcome
    warning = [line for line in outcome.stderr.splitlines() if line.startswith("warning:")]
    assert bool(warning) == warned, outcome.stderr
    if warned:
        assert "plain http" in warning[0]
    assert leaks(outcome.stdout + outcome.stderr) == []
