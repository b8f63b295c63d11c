"""Stress deerimg's ways out with the certificate thread still running (issue 16); count tracebacks.

Not a test: it runs short commands that start the TLS thread (deerimg/wire/tls.py) many hundreds
of times, several at once so that they load the machine, and sends some of them SIGINT or
SIGTERM at a random moment of their start-up. A race between the interpreter's shutdown and an
import on that thread shows as a rare traceback; every other way out that skips
_startup.leave shows too. From the repository root, with the project's virtual environment active:

    python tests/benchmarks/exit_stress.py              # 600 runs, 3 at a time
    python tests/benchmarks/exit_stress.py -n 2000 -j 4 --show 2

It prints, per scenario, how often each exit status came and how many runs printed a traceback
(or "Exception ignored", "Exception in thread", "Fatal Python error"), then one example of each
kind. A traceback from before deerimg's main() ran (Python's own start-up, site, the console
script's imports: nothing deerimg can handle) is counted apart, as "before main". Two scenarios
are known tracebacks of other findings, counted apart too: `-o ''` (finding 9) and `--dry-run`
with stdout closed (finding 7, the report's own writes). Negative statuses are deaths by a signal
(-11: SIGSEGV; -2: SIGINT before Python's handler was in place; -15: SIGTERM, 143 in a shell).
The exit status is 1 when any other run printed a traceback or crashed.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BAD = ("Traceback", "Exception ignored", "Exception in thread", "Fatal Python error")


def scenarios(exe: list[str]) -> dict[str, tuple[list[str], dict[str, object]]]:
    """NAME -> (argv, options): what to run and how to disturb it."""
    return {
        "models --bad-option": ([*exe, "models", "--bad-option"], {}),
        "generate --nope": ([*exe, "generate", "x", "--nope"], {}),
        "models x (extra arg)": ([*exe, "models", "x"], {}),
        "generate -o '' (finding 9)": ([*exe, "generate", "x", "-o", ""], {}),
        "models, no server": ([*exe, "models"], {}),
        "models, SIGINT at start": ([*exe, "models"], {"signal": signal.SIGINT}),
        "generate, SIGINT at start": ([*exe, "generate", "x"], {"signal": signal.SIGINT}),
        "generate --help, SIGINT": ([*exe, "generate", "--help"], {"signal": signal.SIGINT}),
        "models --bad, SIGINT": ([*exe, "models", "--bad"], {"signal": signal.SIGINT}),
        "models, SIGTERM at start": ([*exe, "models"], {"signal": signal.SIGTERM}),
        "--version >&-": ([*exe, "--version"], {"close": 1}),
        "models --bad 2>&-": ([*exe, "models", "--bad"], {"close": 2}),
        "generate --dry-run >&- (f. 7)": ([*exe, "generate", "x", "--dry-run"], {"close": 1}),
    }


def closer(fd: int | None):  # a preexec_fn, or None
    if fd is None:
        return None

    def close() -> None:
        os.close(fd)

    return close


def once(argv: list[str], options: dict[str, object], env: dict[str, str], cwd: str):
    sig = options.get("signal")
    close = options.get("close")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if close == 1 else out,
            stderr=subprocess.DEVNULL if close == 2 else err,
            env=env,
            cwd=cwd,
            preexec_fn=closer(close),  # type: ignore[arg-type]
        )
        if sig is not None:
            time.sleep(random.uniform(0.0, 0.2))
            child.send_signal(sig)  # type: ignore[arg-type]
        try:
            code = child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            code = "hang"  # type: ignore[assignment]
        err.seek(0)
        text = err.read().decode(errors="replace")
    if close == 2:
        # No stderr to read: the interpreter's own messages are lost, but the status tells.
        text = ""
    return code, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=600, help="runs in all (default 600)")
    parser.add_argument("-j", type=int, default=3, help="runs at once (default 3)")
    parser.add_argument("--show", type=int, default=1, help="examples of each traceback kind")
    parser.add_argument("--module", action="store_true", help="run `python -m deerimg`")
    parser.add_argument("--only", help="only the scenarios whose name contains this")
    args = parser.parse_args()

    script = shutil.which("deerimg", path=str(Path(sys.executable).parent))
    exe = [sys.executable, "-m", "deerimg"] if args.module or not script else [script]
    chosen = {k: v for k, v in scenarios(exe).items() if not args.only or args.only in k}
    home = tempfile.mkdtemp(prefix="deerimg-stress-")
    env = {
        **os.environ,
        "HOME": home,
        "DEERIMG_CONFIG_DIR": f"{home}/config",
        "DEERIMG_DATA_DIR": f"{home}/data",
        "DEERAPI_KEY": "sk-stress-0123456789abcdef",
        "DEERIMG_BASE_URL": "http://127.0.0.1:9",  # nothing listens: refused at once
        "NO_PROXY": "*",
    }
    env.pop("DEERIMG_DEBUG", None)
    names = [random.choice(list(chosen)) for _ in range(args.n)]
    statuses: dict[str, collections.Counter[object]] = collections.defaultdict(collections.Counter)
    bad: collections.Counter[str] = collections.Counter()
    early: collections.Counter[str] = collections.Counter()
    crashed: collections.Counter[str] = collections.Counter()
    kinds: dict[str, list[str]] = collections.defaultdict(list)
    lock = threading.Lock()

    def one(name: str) -> None:
        argv, options = chosen[name]
        code, text = once(argv, options, env, home)
        with lock:
            statuses[name][code] += 1
            if code in (-11, -6, -7, "hang"):  # SIGSEGV, SIGABRT, SIGBUS
                crashed[name] += 1
            if any(mark in text for mark in BAD):
                lines = [line for line in text.splitlines() if line.strip()]
                kind = next((ln for ln in lines if "Error" in ln or "Interrupt" in ln), lines[-1])
                if before_main(text):
                    early[name] += 1
                    kind = f"before main: {kind.strip()}"
                else:
                    bad[name] += 1
                kinds[f"{name}: {kind.strip()}"].append(text)

    started = time.monotonic()
    with ThreadPoolExecutor(args.j) as pool:
        list(pool.map(one, names))
    took = time.monotonic() - started
    shutil.rmtree(home, ignore_errors=True)

    print(f"{args.n} runs, {args.j} at once, {took:.0f} s; {' '.join(exe)}")
    print(
        f"{'scenario':<30} {'runs':>5} {'traceback':>9} {'crash':>5} {'before main':>11}  statuses"
    )
    for name in chosen:
        runs = sum(statuses[name].values())
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses[name].items(), key=str))
        print(f"{name:<30} {runs:>5} {bad[name]:>9} {crashed[name]:>5} {early[name]:>11}  {shown}")
    total = sum(bad.values()), sum(crashed.values()), sum(early.values())
    print(f"{'all':<30} {args.n:>5} {total[0]:>9} {total[1]:>5} {total[2]:>11}")
    known = [n for n in chosen if "finding" in n or "f. 7" in n]
    unknown = sum(bad[n] + crashed[n] for n in chosen if n not in known)
    print(f"tracebacks and crashes outside the known findings: {unknown}")
    for kind, texts in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
        print(f"\n===== {len(texts)} x {kind}")
        for text in texts[: args.show]:
            print(text[-3000:])
    return 1 if unknown else 0


def before_main(text: str) -> bool:
    """Whether a traceback came before deerimg's main() ran: Python's start-up, site, imports."""
    if "Exception ignored" in text or "Exception in thread" in text:
        return False
    return re.search(r'deerimg/__main__\.py", line \d+, in main\n', text) is None


if __name__ == "__main__":
    sys.exit(main())
