"""Benchmark deerimg on a fake DeerAPI: start-up, one generation, a batch, peak memory (issue 10).

Run from the repository root, with the project's virtual environment active:

    python tests/benchmarks/bench.py              # 15 rounds, about 90 s on 2 cores
    python tests/benchmarks/bench.py --quick      # 5 rounds, under 40 s
    python tests/benchmarks/bench.py --no-peer    # without the openai CLI

It prints a Markdown table on stdout and writes every sample to
tests/benchmarks/results/latest.json.

What it compares, and how:
- deerimg is measured as users get it: installed (not editable) from a snapshot of this working
  tree into its own virtual environment (``--env current`` measures the active one instead; a
  setuptools editable install adds an import hook that costs every Python start about 10 ms).
- The peer is the legacy ``openai`` CLI of openai-python (2.34.0 is the last release that has it),
  in its own virtual environment, pointed at the same fake with OPENAI_BASE_URL.
- Commands that are compared run in the same round, one after the other, and the order rotates
  from round to round; figures are medians, and differences and ratios are medians of the
  per-round differences and ratios, so a noisy neighbour moves both sides alike.
- The fake DeerAPI (tests/fake/) runs in this process's threads: it records when each
  request arrived, so a run splits into "until the request arrived" and the rest. While a
  command runs, this process only waits for it (os.wait4: its CPU time and, through a small
  launcher, its peak RSS).
- ``--source DIR`` installs another tree (a copy with a proposed change) to compare with this one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.fake import FakeDeerAPI  # noqa: E402 - needs ROOT on sys.path

KEY = "sk-bench-0123456789abcdef"
RESULTS = ROOT / "tests" / "benchmarks" / "results" / "latest.json"
DEERIMG_VENV = Path(tempfile.gettempdir()) / "bench-deerimg-venv"
PEER_VENV = Path(tempfile.gettempdir()) / "bench-openai-venv"
PEER_REQUIREMENT = "openai<2.35"  # 2.35.0 removed the CLI (openai-python CHANGELOG)
PEER_MODEL = "gpt-image-1"
PROMPT = "A paper boat floating on calm water at sunrise."
GENERATION_BYTES = 1_500_000  # (b): a 1.5 MB PNG, 2 MB of base64
BATCH_PROMPTS, BATCH_JOBS, BATCH_LATENCY = 64, 8, 0.5  # (c)
MEMORY_BYTES, MEMORY_COUNTS, MEMORY_JOBS = 3_000_000, (5, 50), 4  # (d)
# (d) names no latency. With 0.2 s the two runs differ only in length, which is what "the same for
# 50 as for 5" asks; with none, every answer lands at once: the worst case, shown beside it.
MEMORY_LATENCY, MEMORY_STRESS_LATENCY = 0.2, 0.0
COMMAND_TIMEOUT = 120.0
MIB = 1 << 20


class BenchError(Exception):
    """A command failed or gave a wrong answer: the figures would mean nothing."""


# --------------------------------------------------------------------------------------------
# Running one command


@dataclass(frozen=True, slots=True)
class Run:
    wall: float  # seconds from just before the fork to the reaped exit
    started: float  # time.monotonic() just before the fork (the fake's clock)
    cpu: float  # the child's user + system CPU seconds
    maxrss: int | None  # the child's peak resident set in bytes, when asked for
    stdout: bytes
    stderr: bytes


# Peak RSS needs a small parent. Linux keeps a process's peak across exec, and a child that
# Python starts with vfork() runs in this process's memory until it execs: its ru_maxrss would
# be at least this process's own size (the fake and its cached images). This launcher is small.
_RSS_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(
    cmd: Sequence[str], env: dict[str, str], *, cwd: Path | None = None, rss: bool = False
) -> Run:
    """Run CMD to its end; stdout and stderr go to files, so neither side blocks on a pipe.

    rss: also measure its peak resident set, through a small launcher process.
    """
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile())
        err = stack.enter_context(tempfile.TemporaryFile())
        argv = list(cmd)
        report: Path | None = None
        if rss:
            report = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "maxrss"
            argv = [sys.executable, "-I", "-c", _RSS_LAUNCHER, str(report), *argv]
        started = time.monotonic()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,  # so the watchdog can stop a launcher's child too
        )
        watchdog = threading.Timer(COMMAND_TIMEOUT, os.killpg, (proc.pid, signal.SIGKILL))
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # this child's rusage alone
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        maxrss = int(report.read_text()) if report and proc.returncode == 0 else None
    if proc.returncode != 0:
        tail = stderr.decode("utf-8", "replace")[-800:]
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(wall, started, cpu, maxrss, stdout, stderr)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def rotated(items: Sequence[Any], k: int) -> list[Any]:
    """The round's order: a different command goes first each round."""
    k %= len(items)
    return [*items[k:], *items[:k]]


# --------------------------------------------------------------------------------------------
# Environments


@dataclass(frozen=True, slots=True)
class Env:
    """A Python environment: its interpreter and console scripts."""

    label: str
    python: Path

    def script(self, name: str) -> Path:
        return self.python.parent / name

    def versions(self, names: Sequence[str]) -> dict[str, str]:
        code = (
            "import json, importlib.metadata as m\n"
            "def v(n):\n"
            "    try:\n        return m.version(n)\n"
            "    except m.PackageNotFoundError:\n        return None\n"
            f"print(json.dumps({{n: v(n) for n in {list(names)!r}}}))"
        )
        done = subprocess.run(
            [str(self.python), "-c", code], capture_output=True, text=True, check=True
        )
        return {k: v for k, v in json.loads(done.stdout).items() if v}


def _pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")


def _new_venv(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _snapshot(source: Path, dest: Path) -> tuple[str, str]:
    """Copy what a build needs from a working tree; returns hashes of pyproject and sources."""
    dest.mkdir(parents=True)
    shutil.copy2(source / "pyproject.toml", dest)
    shutil.copy2(source / "README.md", dest)
    shutil.copytree(
        source / "deerimg", dest / "deerimg", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    sources = hashlib.sha256()
    for path in sorted((dest / "deerimg").rglob("*")):
        if path.is_file():
            sources.update(path.relative_to(dest).as_posix().encode() + b"\0")
            sources.update(path.read_bytes())
    meta = hashlib.sha256((dest / "pyproject.toml").read_bytes()).hexdigest()
    return meta, sources.hexdigest()


def installed_deerimg(path: Path, source: Path) -> Env:
    """A virtual environment with deerimg installed from the working tree as `pip install .` does.

    Created once; deerimg is reinstalled when its sources change, and its dependencies when
    pyproject.toml does.
    """
    stamp_file = path / "deerimg-bench-stamp.json"
    with tempfile.TemporaryDirectory(prefix="deerimg-snapshot-") as tmp:
        snapshot = Path(tmp) / "deerimg"
        meta, sources = _snapshot(source, snapshot)
        try:
            stamp = json.loads(stamp_file.read_text())
        except (OSError, ValueError):
            stamp = {}
        python = path / "bin" / "python"
        if stamp.get("pyproject") != meta or not python.exists():
            print(f"bench: creating {path} (deerimg and its dependencies)", file=sys.stderr)
            python = _new_venv(path)
            _pip(python, str(snapshot))
        elif stamp.get("sources") != sources:
            print(f"bench: reinstalling deerimg into {path}", file=sys.stderr)
            _pip(python, "--no-deps", "--force-reinstall", str(snapshot))
        stamp_file.write_text(json.dumps({"pyproject": meta, "sources": sources}))
    return Env("installed", python)


def current_env() -> Env:
    return Env("current", Path(sys.executable))


def peer_env(path: Path) -> Env | None:
    """The legacy openai CLI in its own virtual environment, created when missing."""
    python = path / "bin" / "python"
    if not (path / "bin" / "openai").exists():
        print(f"bench: creating {path} ({PEER_REQUIREMENT})", file=sys.stderr)
        try:
            python = _new_venv(path)
            _pip(python, PEER_REQUIREMENT)
        except (BenchError, OSError, subprocess.SubprocessError) as exc:
            print(f"bench: no peer: {exc}", file=sys.stderr)
            return None
    return Env("openai", python)


def base_env(url: str, config_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.lower().endswith("_proxy")
        and k not in ("NO_COLOR", "DEERIMG_DEBUG", "PYTHONPATH", "PYTHONPROFILEIMPORTTIME")
        and not k.startswith(("DEERIMG_", "DEERAPI_", "OPENAI_"))
    }
    env.update(
        {
            "DEERAPI_KEY": KEY,
            "DEERIMG_BASE_URL": url,
            "DEERIMG_CONFIG_DIR": str(config_dir),
            "DEERIMG_DATA_DIR": str(config_dir),  # the history ledger: not the user's
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": f"{url}/v1",
            "NO_PROXY": "*",
        }
    )
    return env


# --------------------------------------------------------------------------------------------
# The benchmark


@dataclass
class Context:
    deerimg: Env
    peer: Env | None
    api: FakeDeerAPI
    env: dict[str, str]
    work: Path
    rounds: int
    heavy_rounds: int
    latency: float = 0.0
    image_bytes: int | None = None

    def deerimg_cmd(self, *args: str) -> list[str]:
        return [str(self.deerimg.script("deerimg")), *args]

    def peer_cmd(self, *args: str) -> list[str]:
        assert self.peer is not None
        return [str(self.peer.script("openai")), *args]

    def configure(self, *, latency: float, image_bytes: int | None) -> None:
        self.latency, self.image_bytes = latency, image_bytes
        self.reset()
        self.api.expected_image("png")  # encoded now, not during a timed request

    def reset(self) -> None:
        """Forget the fake's requests and counters (reset() also restores its settings)."""
        self.api.reset()
        self.api.latency, self.api.image_bytes = self.latency, self.image_bytes

    @contextlib.contextmanager
    def folder(self, name: str) -> Iterator[Path]:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchError(message)


def bench_startup(ctx: Context) -> dict[str, Any]:
    """(a) and (e): --version, --help, generate --help against `python -c pass`, both tools."""
    commands: dict[str, tuple[list[str], Callable[[bytes], bool]]] = {
        "deerimg_pass": ([str(ctx.deerimg.python), "-c", "pass"], lambda _o: True),
        "deerimg_version": (ctx.deerimg_cmd("--version"), lambda o: o.startswith(b"deerimg ")),
        # Without the console script pip writes, whose `import re` costs about 5 ms.
        "deerimg_module_version": (
            [str(ctx.deerimg.python), "-m", "deerimg", "--version"],
            lambda o: o.startswith(b"deerimg "),
        ),
        # What the script pip writes runs before deerimg's own code: the floor for `--version`.
        "deerimg_import_re": ([str(ctx.deerimg.python), "-c", "import re"], lambda _o: True),
        "deerimg_help": (ctx.deerimg_cmd("--help"), lambda o: b"generate" in o),
        "deerimg_generate_help": (ctx.deerimg_cmd("generate", "--help"), lambda o: b"-j" in o),
    }
    if ctx.peer is not None:
        commands |= {
            "peer_pass": ([str(ctx.peer.python), "-c", "pass"], lambda _o: True),
            "peer_version": (ctx.peer_cmd("--version"), lambda o: o.startswith(b"openai ")),
            "peer_help": (ctx.peer_cmd("--help"), lambda o: b"usage: openai" in o),
            "peer_generate_help": (
                ctx.peer_cmd("api", "images.generate", "--help"),
                lambda o: b"--prompt" in o,
            ),
        }
    for name, (cmd, ok) in commands.items():  # warm-up: .pyc files, the page cache
        _check(ok(run(cmd, ctx.env, cwd=ctx.work).stdout), f"unexpected output from {name}")
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for k in range(ctx.rounds):
        for name in rotated(list(commands), k):
            samples[name].append(run(commands[name][0], ctx.env, cwd=ctx.work).wall)
    return {"rounds": ctx.rounds, "samples_s": samples}


def _raw_post(url: str, body: dict[str, Any]) -> float:
    """The server's own time for BODY: a new connection, the request, every byte of the answer."""
    host, port = url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    t0 = time.perf_counter()
    connection = http.client.HTTPConnection(host, int(port))
    try:
        connection.request("POST", "/v1/images/generations", body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        _check(response.status == 200, f"the fake answered {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - t0


def _is_image(path: Path, size: int) -> bool:
    """PATH holds the PNG the fake sent: at least its size (provenance may be embedded)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    return head == b"\x89PNG\r\n\x1a\n" and path.stat().st_size >= size


def _arrival(ctx: Context, started: float) -> float:
    (request,) = ctx.api.generation_requests()
    return request.time - started


def bench_generation(ctx: Context) -> dict[str, Any]:
    """(b) and (e): one 1.5 MB PNG, no latency; wall minus the server's own time."""
    ctx.configure(latency=0.0, image_bytes=GENERATION_BYTES)
    expected = len(ctx.api.expected_image("png"))
    deer_body = {"model": "gpt-image-2", "prompt": PROMPT, "output_format": "png"}
    peer_body = {
        "prompt": PROMPT,
        "model": PEER_MODEL,
        "n": 1,
        "response_format": "url",
        "size": "1024x1024",
    }
    imports = [
        str(ctx.deerimg.python),
        "-c",
        # What a generation imports (it also loads the TLS certificates, but on a thread), then
        # out without the interpreter's teardown, as deerimg leaves.
        # Either layout: the packages of issue 15, else the flat modules before it (--source).
        "import deerimg.cli, httpx, httpcore\n"
        "try:\n    import deerimg.run.images, deerimg.run.runner, deerimg.wire.client\n"
        "except ImportError:\n    import deerimg.generate, deerimg.runner, deerimg.client\n"
        "import os; os._exit(0)",
    ]
    pass_cmd = [str(ctx.deerimg.python), "-c", "pass"]
    keys = ["wall", "server", "arrival", "imports", "pass"]
    deer: dict[str, list[float]] = {k: [] for k in keys}
    peer: dict[str, list[float]] = {k: [] for k in ("wall", "server", "arrival")}
    steps = ["deerimg", "imports", "pass"] + (["peer"] if ctx.peer else [])
    for k in range(-1, ctx.rounds):  # round -1 warms up and is not kept
        for step in rotated(steps, max(k, 0)):
            with ctx.folder("generation") as out:
                if step == "deerimg":
                    server = _raw_post(ctx.api.base_url, deer_body)
                    ctx.reset()
                    target = out / "boat.png"
                    cmd = ctx.deerimg_cmd("generate", PROMPT, "-o", str(target), "--retries", "0")
                    done = run(cmd, ctx.env, cwd=out)
                    _check(_is_image(target, expected), "deerimg wrote a wrong file")
                    sample = {"wall": done.wall, "server": server}
                    sample["arrival"] = _arrival(ctx, done.started)
                elif step == "peer":
                    server = _raw_post(ctx.api.base_url, peer_body)
                    ctx.reset()
                    cmd = ctx.peer_cmd("api", "images.generate", "-p", PROMPT, "-m", PEER_MODEL)
                    done = run(cmd, ctx.env, cwd=out)
                    _check(b'"url"' in done.stdout, "the openai CLI printed no answer")
                    sample = {"wall": done.wall, "server": server}
                    sample["arrival"] = _arrival(ctx, done.started)
                else:
                    sample = {step: run(imports if step == "imports" else pass_cmd, ctx.env).wall}
            if k >= 0:
                for name, value in sample.items():
                    (peer if step == "peer" else deer)[name].append(value)
    result: dict[str, Any] = {
        "rounds": ctx.rounds,
        "image_bytes": expected,
        "deerimg_s": deer,
        "split_s": _split_in_process(ctx, deer_body),
    }
    if ctx.peer:
        result["peer_s"] = peer
    return result


def _split_in_process(ctx: Context, body: dict[str, Any]) -> dict[str, float | str]:
    """Request, decoding and writing as deerimg does them, timed here on the same answer.

    The request is httpx's (a new connection, the POST) and deerimg's parse of the answer
    (wire.responses.lift_images); decoding and writing call deerimg's images.decode and
    writer.write_file.
    """
    try:
        import httpx

        try:
            from deerimg.imaging import images, writer
            from deerimg.wire.responses import lift_images
        except ImportError:  # a --source tree from before the packages of issue 15
            from deerimg.answers import lift_images  # type: ignore[no-redef]

            from deerimg import images, writer  # type: ignore[no-redef]
    except ImportError as exc:
        return {"error": f"cannot import: {exc}"}
    times: dict[str, list[float]] = {"request": [], "decode": [], "write": []}
    url = f"{ctx.api.base_url}/v1/images/generations"
    try:
        for _ in range(max(ctx.rounds, 5)):
            with httpx.Client(trust_env=False) as client, ctx.folder("split") as out:
                t0 = time.perf_counter()
                response = client.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"})
                answer = lift_images(response.content) or response.json()
                b64 = answer["data"][0].pop("b64_json")
                t1 = time.perf_counter()
                data = images.decode(b64)
                t2 = time.perf_counter()
                writer.write_file([data], out / "boat.png", replace=False, rename_on_clash=True)
                t3 = time.perf_counter()
            times["request"].append(t1 - t0)
            times["decode"].append(t2 - t1)
            times["write"].append(t3 - t2)
    except Exception as exc:  # deerimg's internals changed: report it, keep the other figures
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {name: median(values) for name, values in times.items()}


PARTIAL_LATENCY = 0.3  # before the first event: the model's first pass
PARTIAL_GAP = 0.5  # between events: each partial is seen alone


def bench_partials(ctx: Context) -> dict[str, Any]:
    """(f) issue 21: `--partial-images 2`, the fake's events PARTIAL_GAP s apart after
    PARTIAL_LATENCY s. The time to the first partial, from the command's start to its file on
    disk, and deerimg's own share of it: the file's time less when the fake sent the event (the
    request's arrival plus the latency), read off a folder polled every millisecond."""
    ctx.configure(latency=PARTIAL_LATENCY, image_bytes=GENERATION_BYTES)
    samples: dict[str, list[float]] = {"first_partial": [], "own": [], "wall": []}
    for _ in range(min(ctx.rounds, 5)):
        ctx.reset()
        ctx.api.always(route="generations", stream_gap=PARTIAL_GAP)
        with ctx.folder("partials") as out:
            target = out / "fox.png"
            first = out / "fox.partial-1.png"
            cmd = ctx.deerimg_cmd("generate", PROMPT, "--partial-images", "2", "-o", str(target))
            started = time.monotonic()
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=ctx.env, cwd=out,
            )  # fmt: skip
            seen = None
            while proc.poll() is None and seen is None:
                if first.exists():
                    seen = time.monotonic()
                else:
                    time.sleep(0.001)
            _check(proc.wait(timeout=COMMAND_TIMEOUT) == 0, "the streamed generation failed")
            ended = time.monotonic()
            _check(seen is not None, "no partial file was seen")
            _check(sorted(p.name for p in out.iterdir()) == ["fox.png"], "partials were left")
            assert seen is not None
            (request,) = ctx.api.generation_requests()
            samples["first_partial"].append(seen - started)
            samples["own"].append(seen - (request.time + PARTIAL_LATENCY))
            samples["wall"].append(ended - started)
    return {"latency_s": PARTIAL_LATENCY, "gap_s": PARTIAL_GAP, "samples_s": samples}


def _prompt_file(folder: Path, count: int) -> Path:
    path = folder / f"prompts-{count}.txt"
    path.write_text("".join(f"{PROMPT} Variation {i + 1}.\n" for i in range(count)))
    return path


def _batch_cmd(ctx: Context, prompts: Path, out: Path, jobs: int) -> list[str]:
    """deerimg generating every line of PROMPTS into OUT, JOBS at a time, with no retry."""
    return ctx.deerimg_cmd(
        "generate", "-f", str(prompts), "-d", str(out), "-j", str(jobs), "--retries", "0"
    )


def bench_batch(ctx: Context) -> dict[str, Any]:
    """(c): 64 prompts, 0.5 s latency, -j 8; efficiency = ceil(64/8) x 0.5 s / wall time."""
    ctx.configure(latency=BATCH_LATENCY, image_bytes=GENERATION_BYTES)
    ideal = math.ceil(BATCH_PROMPTS / BATCH_JOBS) * BATCH_LATENCY
    prompts = _prompt_file(ctx.work, BATCH_PROMPTS)
    waves = math.ceil(BATCH_PROMPTS / BATCH_JOBS)
    samples: dict[str, list[float]] = {k: [] for k in ("wall", "first", "period", "tail", "cpu")}
    in_flight = []
    for _ in range(ctx.heavy_rounds):
        ctx.reset()
        with ctx.folder("batch") as out:
            cmd = _batch_cmd(ctx, prompts, out, BATCH_JOBS)
            done = run(cmd, ctx.env, cwd=out)
            _check(len(list(out.glob("*.png"))) == BATCH_PROMPTS, "the batch lost images")
        arrivals = sorted(r.time - done.started for r in ctx.api.generation_requests())
        # wall = first arrival + (waves - 1) x period + latency + tail: where the time goes
        samples["wall"].append(done.wall)
        samples["cpu"].append(done.cpu)
        samples["first"].append(arrivals[0])
        samples["period"].append((arrivals[-1] - arrivals[0]) / max(waves - 1, 1))
        samples["tail"].append(done.wall - arrivals[-1] - BATCH_LATENCY)
        in_flight.append(ctx.api.max_in_flight)
    return {
        "rounds": ctx.heavy_rounds,
        "prompts": BATCH_PROMPTS,
        "jobs": BATCH_JOBS,
        "latency_s": BATCH_LATENCY,
        "image_bytes": GENERATION_BYTES,
        "ideal_s": ideal,
        "samples_s": samples,
        "max_in_flight": in_flight,
        "efficiency": ideal / median(samples["wall"]),
    }


def bench_memory(ctx: Context) -> dict[str, Any]:
    """(d): peak RSS of one run with 5 and with 50 images of about 3 MB, -j 4."""
    peaks: dict[str, dict[str, list[int]]] = {}
    largest = 0
    for latency in (MEMORY_LATENCY, MEMORY_STRESS_LATENCY):
        ctx.configure(latency=latency, image_bytes=MEMORY_BYTES)
        largest = len(ctx.api.expected_image("png"))
        runs = peaks[f"{latency:g}"] = {str(n): [] for n in MEMORY_COUNTS}
        for k in range(ctx.heavy_rounds):
            for count in rotated(list(MEMORY_COUNTS), k):
                prompts = _prompt_file(ctx.work, count)
                with ctx.folder("memory") as out:
                    cmd = _batch_cmd(ctx, prompts, out, MEMORY_JOBS)
                    done = run(cmd, ctx.env, cwd=out, rss=True)
                    _check(len(list(out.glob("*.png"))) == count, "the run lost images")
                assert done.maxrss is not None
                runs[str(count)].append(done.maxrss)
    return {
        "rounds": ctx.heavy_rounds,
        "jobs": MEMORY_JOBS,
        "largest_image_bytes": largest,
        "peak_rss_bytes_by_latency": peaks,
        "limit_bytes": 90 * MIB + 3 * largest,
    }


# --------------------------------------------------------------------------------------------
# Figures, targets and the table


def _paired(a: Sequence[float], b: Sequence[float], op: Callable[[float, float], float]) -> float:
    return median([op(x, y) for x, y in zip(a, b, strict=True)])


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """Medians, per-round differences and ratios, and each target met or not."""
    fig: dict[str, Any] = {}
    targets: list[dict[str, Any]] = []

    def target(name: str, value: float, limit: float, *, at_most: bool) -> None:
        ok = value <= limit if at_most else value >= limit
        targets.append(
            {"target": name, "value": value, "limit": limit, "ok": bool(ok and value == value)}
        )

    startup = results.get("startup")
    if startup:
        s = startup["samples_s"]
        for cmd in ("version", "module_version", "import_re", "help", "generate_help"):
            fig[f"{cmd}_ms"] = 1000 * median(s[f"deerimg_{cmd}"])
            fig[f"{cmd}_over_pass_ms"] = 1000 * _paired(
                s[f"deerimg_{cmd}"], s["deerimg_pass"], lambda x, y: x - y
            )
        fig["pass_ms"] = 1000 * median(s["deerimg_pass"])
        target("--version over python -c pass (ms)", fig["version_over_pass_ms"], 20, at_most=True)
        target("--help over python -c pass (ms)", fig["help_over_pass_ms"], 250, at_most=True)
        target(
            "generate --help over python -c pass (ms)",
            fig["generate_help_over_pass_ms"],
            300,
            at_most=True,
        )
        if "peer_version" in s:
            fig["peer_pass_ms"] = 1000 * median(s["peer_pass"])
            for cmd in ("module_version", "import_re"):  # shown beside --version, no target
                fig[f"{cmd}_ratio"] = _paired(
                    s["peer_version"], s[f"deerimg_{cmd}"], lambda x, y: x / y
                )
            for cmd, least in (("version", 30), ("help", 4), ("generate_help", 3)):
                fig[f"peer_{cmd}_ms"] = 1000 * median(s[f"peer_{cmd}"])
                fig[f"{cmd}_ratio"] = _paired(
                    s[f"peer_{cmd}"], s[f"deerimg_{cmd}"], lambda x, y: x / y
                )
                target(
                    f"{cmd.replace('_', ' ')}: times faster than openai",
                    fig[f"{cmd}_ratio"],
                    least,
                    at_most=False,
                )
    generation = results.get("generation")
    if generation:
        d = generation["deerimg_s"]
        fig["gen_wall_ms"] = 1000 * median(d["wall"])
        fig["gen_server_ms"] = 1000 * median(d["server"])
        fig["gen_own_ms"] = 1000 * _paired(d["wall"], d["server"], lambda x, y: x - y)
        fig["gen_arrival_ms"] = 1000 * median(d["arrival"])
        fig["gen_imports_ms"] = 1000 * _paired(d["imports"], d["pass"], lambda x, y: x - y)
        split = generation["split_s"]
        if "error" not in split:
            for name in ("decode", "write"):
                fig[f"gen_{name}_ms"] = 1000 * split[name]
            # The fake answers in this process too: what the client adds to the server's time.
            fig["gen_request_ms"] = 1000 * split["request"] - fig["gen_server_ms"]
            fig["gen_other_ms"] = fig["gen_own_ms"] - sum(
                fig[k]
                for k in ("gen_arrival_ms", "gen_request_ms", "gen_decode_ms", "gen_write_ms")
            )
        target("one generation, wall minus server (ms)", fig["gen_own_ms"], 300, at_most=True)
        p = generation.get("peer_s")
        if p:
            fig["peer_gen_wall_ms"] = 1000 * median(p["wall"])
            fig["peer_gen_server_ms"] = 1000 * median(p["server"])
            fig["peer_gen_arrival_ms"] = 1000 * median(p["arrival"])
            own_peer = [w - s for w, s in zip(p["wall"], p["server"], strict=True)]
            own = [w - s for w, s in zip(d["wall"], d["server"], strict=True)]
            fig["peer_gen_own_ms"] = 1000 * median(own_peer)
            fig["gen_ratio"] = _paired(own_peer, own, lambda x, y: x / y)
            target(
                "one generation: times less own time than openai",
                fig["gen_ratio"],
                5,
                at_most=False,
            )
    partials = results.get("partials")
    if partials:
        for name, values in partials["samples_s"].items():
            fig[f"partials_{name}_ms"] = 1000 * median(values)
    batch = results.get("batch")
    if batch:
        for name, values in batch["samples_s"].items():
            fig[f"batch_{name}_s"] = median(values)
        fig["batch_efficiency"] = batch["efficiency"]
        target("batch efficiency", batch["efficiency"], 0.85, at_most=False)
    memory = results.get("memory")
    if memory:
        for latency, peaks in memory["peak_rss_bytes_by_latency"].items():
            for n in MEMORY_COUNTS:
                fig[f"rss_{n}_{latency}s_mib"] = median(peaks[str(n)]) / MIB
        few, many = (fig[f"rss_{n}_{MEMORY_LATENCY:g}s_mib"] for n in MEMORY_COUNTS)
        limit = memory["limit_bytes"] / MIB
        target(f"peak RSS, {MEMORY_COUNTS[0]} images (MiB)", few, limit, at_most=True)
        target(f"peak RSS, {MEMORY_COUNTS[1]} images (MiB)", many, limit, at_most=True)
        target("peak RSS, 50 images / 5 images", many / few, 1.10, at_most=True)
    return {"figures": fig, "targets": targets}


def _f(value: float | None, fmt: str = "{:.0f}") -> str:
    return "n/a" if value is None or value != value else fmt.format(value)


def render(results: dict[str, Any], summary: dict[str, Any]) -> str:
    fig = summary["figures"]
    peer = results["machine"].get("peer") or "openai CLI"
    get = fig.get
    lines = [
        f"| measure (median) | deerimg | {peer} | openai / deerimg |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, ours: str, theirs: str = "", ratio: str = "") -> None:
        lines.append(f"| {name} | {ours} | {theirs} | {ratio} |")

    def ms(key: str, fmt: str = "{:.0f}") -> str:
        """A figure in milliseconds, or nothing where it was not measured (--no-peer)."""
        return f"{_f(get(key), fmt)} ms" if get(key) is not None else ""

    if "startup" in results:
        rounds = results["startup"]["rounds"]
        row(
            f"**start-up**, {rounds} rounds: `python -c pass`",
            f"{_f(get('pass_ms'), '{:.1f}')} ms",
            ms("peer_pass_ms", "{:.1f}"),
        )
        for cmd, label in (
            ("version", "`--version`"),
            ("module_version", "`python -m deerimg --version`"),
            ("import_re", "`python -c 'import re'`: what pip's script imports first"),
            ("help", "`--help`"),
            ("generate_help", "`generate --help`"),
        ):
            ours = f"{_f(get(cmd + '_ms'))} ms (+{_f(get(cmd + '_over_pass_ms'))})"
            theirs = ms(f"peer_{cmd}_ms")
            ratio = f"{_f(get(cmd + '_ratio'), '{:.1f}')}x" if get(cmd + "_ratio") else ""
            row(label, ours, theirs, ratio)
    if "generation" in results:
        g = results["generation"]
        mb = g["image_bytes"] / 1e6
        row(
            f"**one generation**, {mb:.1f} MB PNG, {g['rounds']} rounds: wall",
            f"{_f(get('gen_wall_ms'))} ms",
            ms("peer_gen_wall_ms"),
        )
        row(
            "server's own time (a bare client: connect, send, read)",
            f"{_f(get('gen_server_ms'), '{:.1f}')} ms",
            ms("peer_gen_server_ms", "{:.1f}"),
        )
        ratio = f"{_f(get('gen_ratio'), '{:.1f}')}x" if get("gen_ratio") else ""
        row(
            "own time: wall minus server",
            f"{_f(get('gen_own_ms'))} ms",
            ms("peer_gen_own_ms"),
            ratio,
        )
        row(
            "&nbsp;&nbsp;start-up, until the request arrives",
            f"{_f(get('gen_arrival_ms'))} ms",
            ms("peer_gen_arrival_ms"),
        )
        row(
            "&nbsp;&nbsp;&nbsp;&nbsp;of which imports (deerimg's, typer, httpx, httpcore)",
            f"{_f(get('gen_imports_ms'))} ms",
        )
        if "gen_request_ms" in fig:
            row(
                "&nbsp;&nbsp;request: httpx and JSON, beyond the server's time",
                f"{_f(get('gen_request_ms'), '{:.1f}')} ms",
            )
            row("&nbsp;&nbsp;decoding base64", f"{_f(get('gen_decode_ms'), '{:.1f}')} ms")
            row(
                "&nbsp;&nbsp;writing (temp file, fsync, link)",
                f"{_f(get('gen_write_ms'), '{:.1f}')} ms",
            )
            row("&nbsp;&nbsp;the rest (report, exit)", f"{_f(get('gen_other_ms'))} ms")
    if "partials" in results:
        p = results["partials"]
        row(
            f"**time to the first partial**, `--partial-images 2`, the first event "
            f"{p['latency_s']} s after the request",
            f"{_f(get('partials_first_partial_ms'))} ms",
        )
        row("&nbsp;&nbsp;deerimg's own share (event sent to file on disk)", ms("partials_own_ms"))
    if "batch" in results:
        b = results["batch"]
        row(
            f"**batch**, {b['prompts']} prompts, `-j {b['jobs']}`, {b['latency_s']} s latency, "
            f"{b['rounds']} rounds: wall (ideal {b['ideal_s']:.1f} s)",
            f"{_f(get('batch_wall_s'), '{:.2f}')} s",
        )
        row("&nbsp;&nbsp;first request arrives", f"{_f(get('batch_first_s'), '{:.2f}')} s")
        row(
            f"&nbsp;&nbsp;period of a worker (ideal {b['latency_s']} s)",
            f"{_f(get('batch_period_s'), '{:.3f}')} s",
        )
        row("&nbsp;&nbsp;after the last answer", f"{_f(get('batch_tail_s'), '{:.2f}')} s")
        row(
            "&nbsp;&nbsp;CPU time of deerimg (user + system)",
            f"{_f(get('batch_cpu_s'), '{:.2f}')} s",
        )
        row("efficiency: ideal / wall", _f(get("batch_efficiency"), "{:.2f}"))
    if "memory" in results:
        m = results["memory"]
        mb = m["largest_image_bytes"] / 1e6
        for latency in m["peak_rss_bytes_by_latency"]:
            for n in MEMORY_COUNTS:
                row(
                    f"**peak RSS**, {n} images of {mb:.1f} MB, `-j {m['jobs']}`, "
                    f"{latency} s latency",
                    f"{_f(get(f'rss_{n}_{latency}s_mib'), '{:.1f}')} MiB",
                )
    lines.append("")
    lines.append("| target | value | limit | met |")
    lines.append("|---|---:|---:|:-:|")
    for t in summary["targets"]:
        value = _f(t["value"], "{:.2f}" if abs(t["value"]) < 10 else "{:.0f}")
        limit = _f(t["limit"], "{:.2f}" if t["limit"] < 10 else "{:.0f}")
        lines.append(f"| {t['target']} | {value} | {limit} | {'yes' if t['ok'] else '**no**'} |")
    return "\n".join(lines)


def machine(deerimg: Env, peer: Env | None) -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "load_average": os.getloadavg(),
        "deerimg_env": deerimg.label,
        "deerimg_python": str(deerimg.python),
        "deerimg_versions": deerimg.versions(
            ["deerimg", "typer", "httpx", "rich", "platformdirs", "pydantic"]
        ),
    }
    if peer is not None:
        versions = peer.versions(["openai", "httpx", "pydantic"])
        info["peer_versions"] = versions
        info["peer"] = f"openai {versions.get('openai', '?')}"
    return info


PHASES: dict[str, Callable[[Context], dict[str, Any]]] = {
    "startup": bench_startup,
    "generation": bench_generation,
    "partials": bench_partials,
    "batch": bench_batch,
    "memory": bench_memory,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tests/benchmarks/bench.py",
        description="Benchmark deerimg (and the legacy openai CLI) on the fake DeerAPI.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds of (a) start-up and (b) generation (default 15; --quick 5)",
    )
    parser.add_argument(
        "--heavy-rounds", type=int, help="rounds of (c) batch and (d) memory (default 3; --quick 1)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under 40 s")
    parser.add_argument("--no-peer", action="store_true", help="skip the openai CLI")
    parser.add_argument(
        "--env",
        choices=["installed", "current"],
        default="installed",
        help="deerimg installed from this tree into its own venv (default), or "
        "the active environment as it is",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=ROOT,
        help="the deerimg tree to install "
        "for --env installed (default: this one); to compare a change",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        help=f"venv for --env installed (default: "
        f"{DEERIMG_VENV}, with a suffix for another --source)",
    )
    parser.add_argument("--peer-venv", type=Path, default=PEER_VENV, help="venv of the openai CLI")
    parser.add_argument(
        "--only", action="append", choices=list(PHASES), help="run only these parts (repeatable)"
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (5 if args.quick else 15)
    args.heavy_rounds = args.heavy_rounds or (1 if args.quick else 3)
    args.source = args.source.resolve()
    if args.venv is None:
        suffix = hashlib.sha256(str(args.source).encode()).hexdigest()[:8]
        args.venv = DEERIMG_VENV if args.source == ROOT else Path(f"{DEERIMG_VENV}-{suffix}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    if args.source != ROOT:
        sys.path.insert(0, str(args.source))  # the in-process split times that tree's code
    try:
        deerimg = (
            installed_deerimg(args.venv, args.source) if args.env == "installed" else current_env()
        )
    except (BenchError, OSError) as exc:
        print(f"bench: cannot install deerimg ({exc}); measuring the current env", file=sys.stderr)
        deerimg = current_env()
    _check(deerimg.script("deerimg").exists(), f"no deerimg script beside {deerimg.python}")
    peer = None if args.no_peer else peer_env(args.peer_venv)
    results: dict[str, Any] = {"machine": machine(deerimg, peer)}
    with tempfile.TemporaryDirectory(prefix="deerimg-bench-") as tmp, FakeDeerAPI(KEY) as api:
        work = Path(tmp)
        ctx = Context(
            deerimg,
            peer,
            api,
            base_env(api.base_url, work / "config"),
            work,
            args.rounds,
            args.heavy_rounds,
        )
        for name, phase in PHASES.items():
            if args.only and name not in args.only:
                continue
            t0 = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            results[name] = phase(ctx)
            results[name]["phase_s"] = time.monotonic() - t0
        _check(not api.errors, f"the fake reported errors: {api.errors}")
    results["total_s"] = time.monotonic() - began
    summary = summarize(results)
    results |= summary
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    print(
        f"deerimg {m['deerimg_versions'].get('deerimg')} ({m['deerimg_env']} env: typer "
        f"{m['deerimg_versions'].get('typer')}, httpx {m['deerimg_versions'].get('httpx')}), "
        f"Python {m['python']}, {m['cpus']} CPUs ({m['cpu']}), {results['total_s']:.0f} s"
    )
    print()
    print(render(results, summary))
    print(f"\nsamples: {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        sys.exit(1)
