"""Issue 16: files and names in a hostile world: where a paid image could be lost, deleted, or
written outside the folder it was meant for. Each refusal comes before anything is paid for."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fake import FakeDeerAPI
from tests.helpers import error_lines, names_in

LONG_AGO = time.time() - 3600


def old(path: Path, data: bytes = b"") -> Path:
    """A file last written an hour ago (a run killed then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (LONG_AGO, LONG_AGO))
    return path


def is_png(path: Path) -> bool:
    with Image.open(path) as image:
        image.load()
        return image.format == "PNG"


# -- 2: what earlier runs left --------------------------------------------------------------


def test_temporary_files_of_a_killed_run_are_cleared_and_no_others(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    out = Path("out")
    stale = old(out / ".big-prompt-4.vvyk659a.deerimg-tmp", b"\x89PNG half of it")
    stale_sidecar = old(out / ".x.png.k2ndhk_o.deerimg-tmp", b"{")
    # Another run's, being written now: it holds its lock (as write_file does) …
    locked = old(out / ".other-run.abcd1234.deerimg-tmp", b"\x89PNG")
    # … or it was written after this run began.
    young = out / ".young.zyxw9876.deerimg-tmp"
    young.write_bytes(b"\x89PNG")
    os.utime(young, (time.time() + 60, time.time() + 60))
    # Not deerimg's own names.
    others = [old(out / name, b"x") for name in (".notes.deerimg-tmp", "keep.abcdefgh.deerimg-tmp")]
    import fcntl

    with locked.open("rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        outcome = invoke("generate", "a boat", "-d", "out", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert not stale.exists() and not stale_sidecar.exists()
    assert locked.exists() and young.exists()
    assert all(p.exists() for p in others)
    assert (out / "a-boat.png").exists()
    assert "removed 2 temporary file(s) left in out by an earlier run" in outcome.stderr


def test_a_stale_temporary_file_is_cleared_by_a_skip_existing_run_that_skips_all(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    first = invoke("generate", "a boat", "-d", "out", "--no-history")
    assert first.exit_code == 0, first
    stale = old(Path("out/.a-boat.q1w2e3r4.deerimg-tmp"), b"\x89PNG")
    again = invoke("generate", "a boat", "-d", "out", "--skip-existing", "--no-history")
    assert again.exit_code == 0, again
    assert not stale.exists()
    assert len(fake_api.generation_requests()) == 1


@pytest.mark.parametrize(
    "args", [["-o", "c/{slug}.{ext}"], ["-o", "c/claim-window.png"], ["-d", "c"]]
)
def test_an_empty_file_is_no_image_for_skip_existing(
    fake_api: FakeDeerAPI, invoke: Any, args: list[str]
) -> None:
    """Finding 12: where there are no hard links, a run killed between its claim and its rename
    left a 0-byte file at the target, which --skip-existing took for the image, for ever."""
    old(Path("c/claim-window.png"))
    outcome = invoke("generate", "claim window", *args, "--skip-existing", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert len(fake_api.generation_requests()) == 1
    assert names_in("c") == ["claim-window.png"]  # in its place: no claim-window-2.png
    assert is_png(Path("c/claim-window.png"))
    again = invoke("generate", "claim window", *args, "--skip-existing", "--no-history")
    assert again.exit_code == 0 and len(fake_api.generation_requests()) == 1


def test_an_empty_file_at_an_explicit_target_is_still_refused_without_skip_existing(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    old(Path("x.png"))
    outcome = invoke("generate", "a boat", "-o", "x.png")
    assert outcome.exit_code == 2, outcome
    assert "x.png exists" in outcome.stderr
    assert fake_api.requests == []


# -- 3: a paid image is never deleted because its name is taken --------------------------------


def test_a_dangling_link_at_the_target_is_refused_before_paying(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    Path("dangling.png").symlink_to("elsewhere/nothing.png")
    outcome = invoke("generate", "dangling", "-o", "dangling.png")
    assert outcome.exit_code == 2, outcome
    assert error_lines(outcome) == ["error: dangling.png exists (a symbolic link)"]
    assert fake_api.requests == []
    forced = invoke("generate", "dangling", "-o", "dangling.png", "--force", "--no-history")
    assert forced.exit_code == 0, forced
    assert not Path("dangling.png").is_symlink() and is_png(Path("dangling.png"))
    assert not Path("elsewhere").exists()  # the link was replaced, not written through


def test_a_dangling_link_at_a_default_name_moves_it_on(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("a-boat.png").symlink_to("nowhere.png")
    outcome = invoke("generate", "a boat", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert outcome.stdout == "a-boat-2.png\n"
    assert Path("a-boat.png").is_symlink()


def test_a_folder_at_a_prompt_files_output_is_refused_with_force_too(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    Path("out/taken.png").mkdir(parents=True)
    Path("p.txt").write_text('{"prompt": "x", "output": "taken.png"}\n', encoding="utf-8")
    outcome = invoke("generate", "-f", "p.txt", "-d", "out", "--force")
    assert outcome.exit_code == 2, outcome
    assert 'p.txt line 1: "output" taken.png is a folder' in outcome.stderr
    assert fake_api.requests == []


def test_a_name_taken_after_paying_keeps_the_image_under_the_next_number(
    fake_api: FakeDeerAPI, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 4b: another run took the explicit name between the check and the link; the
    image paid for was deleted. Now it is kept as x-2.png and the warning says so."""
    real_mkstemp = tempfile.mkstemp

    def another_run_first(*args: Any, **kwargs: Any) -> Any:
        Path("x.png").write_bytes(b"another run's image")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", another_run_first)
    outcome = invoke("generate", "a boat", "-o", "x.png", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert outcome.stdout == "x-2.png\n"
    assert "x.png was created by someone else meanwhile; this image was kept as x-2.png" in (
        outcome.stderr
    )
    assert Path("x.png").read_bytes() == b"another run's image"
    assert is_png(Path("x-2.png"))


def test_a_taken_sidecar_name_is_refused_before_paying(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("boat.png.json").mkdir()
    outcome = invoke("generate", "a boat", "-o", "boat.png", "--sidecar")
    assert outcome.exit_code == 2, outcome
    assert "boat.png.json is a folder" in outcome.stderr
    forced = invoke("generate", "a boat", "-o", "boat.png", "--sidecar", "--force")
    assert forced.exit_code == 2, forced
    Path("boat.png.json").rmdir()
    Path("boat.png.json").write_text("{}")
    taken = invoke("generate", "a boat", "-o", "boat.png", "--sidecar")
    assert taken.exit_code == 2, taken
    assert "boat.png.json exists" in taken.stderr
    assert fake_api.requests == []


def test_a_default_name_whose_sidecar_is_taken_moves_on(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("a-boat.png.json").write_text("{}")
    outcome = invoke("generate", "a boat", "--sidecar", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert outcome.stdout == "a-boat-2.png\n"
    assert "not written" not in outcome.stderr
    assert json.loads(Path("a-boat-2.png.json").read_text())
    assert Path("a-boat.png.json").read_text() == "{}"


# -- 5: -o naming a folder, or nothing; names too long ------------------------------------------


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("out/", "-o out/ names a folder, not the image's file"),
        ("new/", "-o new/ names a folder, not the image's file"),
        ("out", "-o out is a folder: an image cannot replace it"),
        ("~", "is a folder: an image cannot replace it"),
        ("~/Pictures/", "~/Pictures/ names a folder"),
        ("..", "-o .. names a folder"),
        (".", "-o . names a folder"),
        ("./", "-o ./ names a folder"),
        ("/", "-o / names a folder"),
        ("", "-o is empty"),
        (".png", "-o .png is an extension with no name before it"),
    ],
)
@pytest.mark.parametrize("count", ["1", "2"])
def test_o_naming_a_folder_or_nothing_is_a_usage_error(
    fake_api: FakeDeerAPI,
    invoke: Any,
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    output: str,
    message: str,
    count: str,
) -> None:
    home = isolated_env / "home"
    (home / "Pictures").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    Path("out").mkdir()
    before = sorted(p.name for p in isolated_env.parent.iterdir()), names_in()
    outcome = invoke("generate", "x", "-o", output, "-n", count)
    assert outcome.exit_code == 2, outcome
    assert "Traceback" not in outcome.stderr
    (line,) = error_lines(outcome)
    assert message in line, line
    assert fake_api.requests == []
    assert (sorted(p.name for p in isolated_env.parent.iterdir()), names_in()) == before
    dry = invoke("generate", "x", "-o", output, "-n", count, "--dry-run")
    assert dry.exit_code == 2 and dry.stdout == "", dry


def test_the_hint_names_d_for_a_folder(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("pics").mkdir()
    outcome = invoke("generate", "x", "-o", "pics")
    assert "hint: to write into it under the default names, use -d pics" in outcome.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "a" * 300 + ".png"], "is 304 bytes long: a file name holds at most 255"),
        (["-d", "/".join(["d" * 200] * 25)], "bytes long: at most 4,095 fit"),
        (["-d", "d" * 300], "is 300 bytes long: a file name holds at most 255"),
        (["-o", "b" * 250 + ".png", "--sidecar"], "is 259 bytes long"),  # its NAME.json
    ],
)
def test_names_too_long_are_refused_before_sending(
    fake_api: FakeDeerAPI, invoke: Any, args: list[str], message: str
) -> None:
    outcome = invoke("generate", "x", *args)
    assert outcome.exit_code == 2, outcome
    (line,) = error_lines(outcome)
    assert message in line, line
    assert fake_api.requests == []
    assert names_in() == []


def test_d_naming_a_file_says_so(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("afile").write_text("x")
    outcome = invoke("generate", "x", "-d", "afile")
    assert outcome.exit_code == 2, outcome
    assert error_lines(outcome) == ["error: output folder afile is a file, not a folder"]
    deeper = invoke("generate", "x", "-d", "afile/sub")
    assert error_lines(deeper) == [
        "error: cannot create output folder afile/sub: afile is a file, not a folder"
    ]
    assert fake_api.requests == []


# -- 6: a prompt file's "output" stays under the output folder --------------------------------


@pytest.mark.parametrize(
    ("output", "why"),
    [
        ("ABSOLUTE/evil.png", "is an absolute path"),
        ("../sibling/evil2.png", "leaves the output folder"),
        ("a/../../evil.png", "leaves the output folder"),
        ("..", "leaves the output folder"),
        ("~/evil3.png", "starts with ~"),
        ("~", "starts with ~"),
    ],
)
def test_a_prompt_files_output_outside_the_folder_is_refused(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path, output: str, why: str
) -> None:
    output = output.replace("ABSOLUTE", str(isolated_env.parent))
    before = names_in(isolated_env.parent)
    lines = [
        '{"prompt": "fine", "output": "fine.png"}',
        json.dumps({"prompt": "x", "output": output}),
    ]
    Path("shared.txt").write_text("# someone else's\n" + "\n".join(lines) + "\n", encoding="utf-8")
    outcome = invoke("generate", "-f", "shared.txt", "-d", "out")
    assert outcome.exit_code == 2, outcome
    assert error_lines(outcome) == [f'error: shared.txt line 3: "output" {output} {why}: a prompt '
                                    "file writes only under the output folder"]  # fmt: skip
    assert fake_api.requests == []
    assert names_in() == ["shared.txt"]
    assert names_in(isolated_env.parent) == before


def test_a_prompt_files_output_inside_the_folder_is_kept(
    fake_api: FakeDeerAPI, invoke: Any
) -> None:
    Path("p.txt").write_text('{"prompt": "x", "output": "sub/../x.png"}\n', encoding="utf-8")
    outcome = invoke("generate", "-f", "p.txt", "-d", "out", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert names_in("out") == ["x.png"]


def test_the_command_lines_own_o_may_be_absolute(
    fake_api: FakeDeerAPI, invoke: Any, isolated_env: Path
) -> None:
    target = isolated_env / "abs.png"
    outcome = invoke("generate", "x", "-o", str(target), "-d", "out", "--no-history")
    assert outcome.exit_code == 0, outcome
    assert is_png(target)


# -- 9: a batch stopped by a refused key leaves no empty folder ---------------------------------


def test_a_refused_key_leaves_no_empty_output_folder(fake_api: FakeDeerAPI, invoke: Any) -> None:
    Path("p.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
    outcome = invoke("generate", "-f", "p.txt", "-d", "new/out", env={"DEERAPI_KEY": "sk-wrong"})
    assert outcome.exit_code == 3, outcome
    assert len(fake_api.generation_requests()) >= 1
    assert names_in() == ["p.txt"]  # no new/, no new/out/
