"""Issue 22: what a wheel must carry, and the contract's last gaps (--debug after the command,
`config get` of a key set nowhere). The build itself is checked by .ci/build-check."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tools.check_wheel import problems

GOOD = [
    "deerimg/__init__.py",
    "deerimg/completions/deerimg.bash",
    "deerimg/completions/_deerimg",
    "deerimg/completions/deerimg.fish",
    "deerimg-0.1.0.data/data/share/man/man1/deerimg.1",
    "deerimg-0.1.0.dist-info/licenses/LICENSE",
]


def test_a_whole_wheel_passes_and_a_wheel_missing_or_holding_too_much_fails() -> None:
    assert problems(GOOD) == []
    assert problems(GOOD[:1]) == [
        "missing: deerimg/completions/deerimg.bash",
        "missing: deerimg/completions/_deerimg",
        "missing: deerimg/completions/deerimg.fish",
        "missing: share/man/man1/deerimg.1",
        "missing: licenses/LICENSE",
    ]
    assert problems([*GOOD, "tests/fake/server.py", "deerimg/_gen.py"]) == [
        "should not ship: tests/fake/server.py",
        "should not ship: deerimg/_gen.py",
    ]


def test_the_version_is_written_in_one_place() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'path = "deerimg/__init__.py"' in pyproject
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    from deerimg import __version__

    assert f"## {__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_debug_after_the_command_shows_the_traceback_as_before_it(tmp_path) -> None:
    """`deerimg generate x --debug` as `deerimg --debug generate x` (the contract)."""
    env = {"PATH": "/usr/bin:/bin", "DEERIMG_CONFIG_DIR": str(tmp_path),
           "DEERIMG_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}  # fmt: skip
    runs = {
        where: subprocess.run(
            [sys.executable, "-m", "deerimg", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        for where, args in (
            ("before", ["--debug", "generate", "x", "-o", str(tmp_path / "a.png")]),
            ("after", ["generate", "x", "-o", str(tmp_path / "a.png"), "--debug"]),
            ("none", ["generate", "x", "-o", str(tmp_path / "a.png")]),
        )
    }
    for where in ("before", "after"):
        assert runs[where].returncode == 3, runs[where].stderr  # no key: a config error
        assert "Traceback" in runs[where].stderr, where
    assert "Traceback" not in runs["none"].stderr
    quoted = subprocess.run(
        [sys.executable, "-m", "deerimg", "generate", "--dry-run", "-o", "-", "--", "--debug"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert '"prompt": "--debug"' in quoted.stdout, quoted.stderr
