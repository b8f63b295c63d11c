"""Fixtures: a fake DeerAPI on 127.0.0.1, an isolated environment, and the real CLI in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import pytest
from typer.testing import CliRunner, Result

from tests.fake import FakeDeerAPI

# A shell starts a background job (`.ci/run &`, a CI runner's) with SIGINT ignored, and every
# child inherits an ignored signal: deerimg rightly keeps it ignored (tests/test_signals.py), so
# the tests that press Ctrl-C on a child would wait for ever. Handled here, the children start
# with each signal's default action instead.
signal.signal(signal.SIGINT, signal.default_int_handler)
for _name in ("SIGTERM", "SIGHUP"):
    if hasattr(signal, _name):
        signal.signal(getattr(signal, _name), signal.SIG_DFL)

TEST_KEY = "sk-test-0123456789abcdefSECRET"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def _server() -> Iterator[FakeDeerAPI]:
    with FakeDeerAPI(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def fake_api(_server: FakeDeerAPI) -> Iterator[FakeDeerAPI]:
    _server.reset()
    yield _server
    _drain(_server)
    _server.reset()


def _drain(server: FakeDeerAPI) -> None:
    """End the answers still held for a client a test killed (a delay, a slow stream), so the
    next test's in_flight counts its own requests only, whichever test ran before it."""
    if not server.in_flight:
        return
    server.faults.stop()  # every held answer drops its connection at once
    deadline = time.monotonic() + 10
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    server.faults.start()


@pytest.fixture
def config_file() -> Path:
    """Where deerimg keeps its config in the isolated environment (it may not exist yet)."""
    return Path(os.environ["DEERIMG_CONFIG_DIR"]) / "config.toml"


@pytest.fixture(autouse=True)
def isolated_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _server: FakeDeerAPI
) -> Iterator[Path]:
    """Config in tmp, the fake server as base URL, a test key; no proxies, colour or debug."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("NO_COLOR", "DEERIMG_DEBUG", "TERM"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DEERIMG_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DEERIMG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEERIMG_POLL_INTERVAL", "0")  # a task is polled again at once
    monkeypatch.setenv("DEERIMG_BASE_URL", _server.base_url)
    monkeypatch.setenv("DEERAPI_KEY", TEST_KEY)
    monkeypatch.setenv("NO_PROXY", "*")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    from deerimg.cli.app import state

    monkeypatch.setattr(state, "debug", False)  # one process runs one command for real
    yield work


class Outcome:
    """What one run of the CLI did: exit code, stdout, stderr."""

    def __init__(self, exit_code: int, stdout: str, stderr: str, stdout_bytes: bytes) -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.stdout_bytes = stdout_bytes

    def __repr__(self) -> str:
        return f"Outcome({self.exit_code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


OUTPUTS: list[str] = []  # everything every test printed, scanned for the key after each test


@pytest.fixture
def invoke() -> Iterator:
    runner = CliRunner()

    def call(*args: str, input: str | bytes | None = None, env: dict | None = None) -> Outcome:
        from deerimg.cli import app

        result: Result = runner.invoke(app, list(args), input=input, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        outcome = Outcome(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)
        OUTPUTS.append(result.stdout + result.stderr)
        return outcome

    yield call


@pytest.fixture
def cli_subprocess() -> Iterator:
    """Run `python -m deerimg` for real: entry point, signals, bytes on stdout."""

    def call(
        args: Sequence[str],
        *,
        input: bytes | None = None,
        env: dict | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = dict(os.environ)
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "deerimg", *args],
            input=input,
            capture_output=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )
        OUTPUTS.append(
            done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")
        )
        return done

    yield call


class Interrupted(NamedTuple):
    code: int
    out: str
    err: str
    twice: bool  # the first Ctrl-C did not end the run, so a second was sent


def interrupt_when(
    args: Sequence[str],
    ready: Callable[[], bool],
    *,
    again_after: float | None = None,
    sig: int = signal.SIGINT,
) -> Interrupted:
    """Run `python -m deerimg ARGS`, press Ctrl-C once READY() holds, and return its exit code,
    stdout and stderr. READY is polled: it reads the fake server's state, not the clock.

    AGAIN_AFTER: seconds after which a run the first Ctrl-C did not end gets a second one.
    SIG: the signal sent instead of Ctrl-C's SIGINT (SIGTERM from kill, SIGHUP from a hang-up).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "deerimg", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ),
    )  # fmt: skip
    twice = False
    try:
        deadline = time.monotonic() + 30
        while not ready():
            assert process.poll() is None, "deerimg ended before Ctrl-C"
            assert time.monotonic() < deadline, "what Ctrl-C waits for never happened"
            time.sleep(0.002)
        process.send_signal(sig)
        try:
            out, err = (s.decode() for s in process.communicate(timeout=again_after or 30))
        except subprocess.TimeoutExpired:
            if again_after is None:
                raise
            twice = True
            process.send_signal(sig)
            out, err = (s.decode() for s in process.communicate(timeout=again_after))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    OUTPUTS.append(out + err)
    return Interrupted(process.returncode, out, err, twice)


@pytest.fixture(autouse=True)
def _key_never_printed() -> Iterator[None]:
    """Issue 6: a test fails when the test key is in anything the CLI printed while it ran (a
    check after each test, not once at the end: it names the test, and holds with workers)."""
    start = len(OUTPUTS)
    yield
    leaked = [text for text in OUTPUTS[start:] if TEST_KEY in text]
    if leaked:
        excerpt = leaked[0].replace(TEST_KEY, "<TEST_KEY>")[:500]
        pytest.fail(f"the API key appeared in {len(leaked)} CLI output(s):\n{excerpt}")
