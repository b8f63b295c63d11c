"""Issue 16: the ways out of the process. Every one ends in _startup.leave (os._exit), so the
interpreter never tears itself down under the certificate thread; closed standard streams and
a Ctrl-C during start-up end with the right status and no traceback.

Each test runs a real process: `deerimg.__main__.main()` from a small script that can make the
moment happen on purpose (a signal raised when a given module is imported, a run() that raises),
with its standard streams closed where the test says (as `>&-` and `2>&-` do).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from deerimg import __version__
from tests.conftest import OUTPUTS

ROOT = Path(__file__).resolve().parent.parent
STDOUT, STDERR = 1, 2

# Printed by the interpreter's own exit (atexit), which leave() skips.
FINALISED = "import atexit, os\natexit.register(os.write, 2, b'FINALISED\\n')\n"

SCRIPT = """
import sys
sys.argv = ["deerimg", *sys.argv[1:]]
{setup}
from deerimg.__main__ import main
main()
"""

# A signal raised from inside the import of a module, as a Ctrl-C that lands there does.
SIGNAL_AT_IMPORT = """
import os, signal, sys
class Finder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(Finder)
            os.kill(os.getpid(), {signum})
        return None
sys.meta_path.insert(0, Finder)
"""


def run_main(
    args: list[str],
    setup: str = "",
    *,
    closed: tuple[int, ...] = (),
    before: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`deerimg ARGS` through main(), after SETUP, with the descriptors CLOSED closed at exec."""

    def preexec() -> None:
        if before is not None:
            before()
        for fd in closed:
            os.close(fd)

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(setup=setup), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if STDOUT in closed else subprocess.PIPE,
        stderr=subprocess.DEVNULL if STDERR in closed else subprocess.PIPE,
        text=True, env=dict(os.environ), timeout=60, check=False,
        preexec_fn=preexec,
    )  # fmt: skip
    done.stdout = done.stdout or ""
    done.stderr = done.stderr or ""
    OUTPUTS.append(done.stdout + done.stderr)
    return done


def clean(done: subprocess.CompletedProcess[str]) -> bool:
    """No traceback of any kind, and the interpreter's own exit never ran."""
    marks = ("Traceback", "Exception ignored", "Exception in thread", "Fatal Python", "FINALISED")
    return not any(mark in done.stderr for mark in marks)


# --- closed standard streams (finding 7) ------------------------------------------------------


def test_version_with_stdout_closed_fails_without_a_traceback() -> None:
    done = run_main(["--version"], closed=(STDOUT,))
    # The one thing --version does could not be done: 1, as `echo x >&-` and curl do.
    assert done.returncode == 1
    assert done.stderr == f"error: standard output is closed; deerimg {__version__} not printed\n"


def test_version_with_both_streams_closed() -> None:
    assert run_main(["--version"], closed=(STDOUT, STDERR)).returncode == 1


def buffered(unbuffered: bool) -> dict[str, str]:
    """The environment, with standard output buffered (as usual) or not (PYTHONUNBUFFERED)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "PYTHONUNBUFFERED": "1"} if unbuffered else env


# Buffered, the broken pipe shows at leave()'s flush; unbuffered, at the write itself.
@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
def test_version_to_a_reader_that_went_away(unbuffered: bool) -> None:
    read, write = os.pipe()
    os.close(read)  # `deerimg --version | true`, after true has ended
    try:
        done = subprocess.run(
            [sys.executable, "-m", "deerimg", "--version"], env=buffered(unbuffered),
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


def test_version_is_unchanged() -> None:
    done = run_main(["--version"])
    assert (done.returncode, done.stdout, done.stderr) == (0, f"deerimg {__version__}\n", "")


@pytest.mark.parametrize("args", [["models", "--no-such-option"], ["generate", "x", "--nope"]])
def test_usage_error_with_stderr_closed_is_still_a_usage_error(args: list[str]) -> None:
    done = run_main(args, FINALISED, closed=(STDERR,))
    assert done.returncode == 2  # was 1: leave()'s own flush of a None stderr raised


LEAVE = """
import sys
from deerimg._startup import leave
if sys.stdout is not None:
    sys.stdout.write("data\\n")
leave({code})
"""


@pytest.mark.parametrize(
    ("code", "closed", "status"),
    [
        ("'boom'", (), 1),
        ("'boom'", (STDERR,), 1),  # the text cannot be shown; the status still says it
        ("None", (STDOUT,), 0),  # nothing to flush: stdout is None
        ("3", (STDOUT, STDERR), 3),
        ("None", (), 0),
    ],
)
def test_leave_with_closed_streams(code: str, closed: tuple[int, ...], status: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LEAVE.format(code=code)],
        stdout=subprocess.DEVNULL if STDOUT in closed else subprocess.PIPE,
        stderr=subprocess.DEVNULL if STDERR in closed else subprocess.PIPE,
        text=True, timeout=60, check=False,
        preexec_fn=lambda: [os.close(fd) for fd in closed],
    )  # fmt: skip
    assert done.returncode == status, done.stderr
    assert "Traceback" not in (done.stderr or "")
    if STDERR not in closed and code == "'boom'":
        assert done.stderr == "boom\n"
    if STDOUT not in closed:
        assert done.stdout == "data\n"


def test_leave_to_a_reader_that_went_away_is_1() -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-c", LEAVE.format(code="0")], env=buffered(False),
            stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


HOLDS_THE_PLACE = """
import os, sys
from deerimg import _startup
assert sys.stdout is None
_startup.guard_start()
with open(os.devnull + "", "rb") as f:
    taken = f.fileno()
target = os.readlink("/proc/self/fd/1")
sys.stderr.write(f"{taken} {target}\\n")
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_closed_stdout_is_not_the_next_file_opened() -> None:
    # Else an image or the ledger opened later gets descriptor 1, where a C library or a fatal
    # error message would write.
    done = subprocess.run(
        [sys.executable, "-c", HOLDS_THE_PLACE],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    taken, target = done.stderr.split()
    assert int(taken) > 2 and target == os.devnull


def test_broken_pipe_with_stdout_closed_is_1_without_a_traceback() -> None:
    setup = (
        FINALISED
        + "import deerimg.cli as cli\n"
        + "def broken(name): raise BrokenPipeError(32, 'Broken pipe')\n"
        + "cli.only = broken\n"
    )
    done = run_main(["models"], setup, closed=(STDOUT,))
    assert done.returncode == 1
    assert clean(done), done.stderr


# --- every way out ends in leave(), with the certificate thread running ----------------------


@pytest.mark.parametrize(
    ("raised", "status", "traceback"),
    [
        ("SystemExit(2)", 2, False),
        ("SystemExit('a message')", 1, False),
        ("KeyboardInterrupt()", 130, False),
        ("ValueError('a bug')", 1, True),  # a bug is shown as Python shows it, then leave()
    ],
)
def test_whatever_leaves_run_ends_in_leave(raised: str, status: int, traceback: bool) -> None:
    setup = FINALISED + f"import deerimg.cli as cli\ndef run(): raise {raised}\ncli.run = run\n"
    done = run_main(["models"], setup)  # `models` starts the certificate thread
    assert done.returncode == status
    assert "FINALISED" not in done.stderr  # os._exit: no teardown under the thread
    assert ("Traceback" in done.stderr) is traceback
    if traceback:
        assert done.stderr.rstrip().endswith("ValueError: a bug")


def test_a_usage_error_of_a_sending_command_ends_in_leave() -> None:
    done = run_main(["models", "x"], FINALISED)
    assert done.returncode == 2 and clean(done), done.stderr


SLOW_CERTIFICATES = """
import sys, time
from deerimg.wire import tls
def slow():
    time.sleep(0.3)
    sys.stderr.write("made\\n")
    return None
tls._create = slow
tls.warm()
"""


def test_the_interpreters_own_exit_waits_for_the_certificate_thread() -> None:
    # For callers other than main(): finalising under the thread crashed about 1 run in 130
    # (SIGSEGV: OpenSSL's exit handler freed what the thread was still loading).
    done = subprocess.run(
        [sys.executable, "-c", SLOW_CERTIFICATES],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "made\n")


# --- a signal during start-up -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["models"], "typer"),  # the certificate thread is running
        (["generate", "a boat"], "deerimg.cli.images"),
        (["generate", "--help"], "rich.panel"),  # while the help is drawn
        (["models", "--no-such-option"], "rich.panel"),  # while a usage error is drawn
    ],
)
def test_ctrl_c_during_start_up_is_130_without_a_traceback(args: list[str], module: str) -> None:
    setup = FINALISED + SIGNAL_AT_IMPORT.format(module=module, signum=int(signal.SIGINT))
    done = run_main(args, setup)
    assert done.returncode == 130
    assert clean(done) and done.stderr == "", done.stderr


def test_sigterm_during_start_up_ends_at_once() -> None:
    setup = FINALISED + SIGNAL_AT_IMPORT.format(module="typer", signum=int(signal.SIGTERM))
    done = run_main(["models"], setup)
    assert done.returncode == -signal.SIGTERM  # its default action: 143 in a shell
    assert done.stderr == ""


def test_a_ctrl_c_the_parent_ignores_stays_ignored(fake_api) -> None:
    setup = SIGNAL_AT_IMPORT.format(module="typer", signum=int(signal.SIGINT))
    done = run_main(
        ["config", "path"], setup, before=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("config.toml"), done.stderr


# Ctrl-C once the command runs: KeyboardInterrupt again, so the command's error boundary says
# "interrupted" (and code on the way out gets to tidy up) ...
IN_THE_COMMAND = """
import signal
import deerimg.settings.resolve as resolve
def interrupted(*args, **kwargs):
    {how}
    raise AssertionError("the Ctrl-C did nothing")
resolve.resolve_settings = interrupted
"""


def test_ctrl_c_within_a_command_is_still_interrupted(fake_api) -> None:
    setup = FINALISED + IN_THE_COMMAND.format(how="signal.raise_signal(signal.SIGINT)")
    done = run_main(["models"], setup)
    assert done.returncode == 130
    assert done.stderr.strip() == "interrupted" and clean(done), done.stderr


# ... except within the import machinery, where a KeyboardInterrupt can leave the import lock
# held and every later import on another thread (the batch's workers) waiting for ever.
INSIDE_IMPORTLIB = (
    "code = 'def land():\\n    signal.raise_signal(signal.SIGINT)\\n'\n"
    "    space = {'__name__': 'importlib._bootstrap', 'signal': signal}\n"
    "    exec(code, space)\n"
    "    space['land']()"
)


def test_ctrl_c_inside_an_import_during_a_command_leaves_at_once(fake_api) -> None:
    done = run_main(["models"], FINALISED + IN_THE_COMMAND.format(how=INSIDE_IMPORTLIB))
    assert done.returncode == 130
    assert clean(done) and done.stderr == "", done.stderr
