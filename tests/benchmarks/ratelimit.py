"""Benchmark -j auto against a rate-limited fake DeerAPI (issue 23), in real time.

For each case (R requests a minute, a token bucket of burst 2, latency L; with and without the
x-ratelimit-* headers) it runs one deerimg process with -j auto, -j 4 and -j 32, then two
-j auto processes started together on the two halves of one batch, and prints: the accepted
rate over R (from the first accepted request to the last, less the bucket's burst), the share
of requests answered 429 and the prompts that failed; for the pair, each one's share of the
accepted requests while both ran and the pair's rate. Minutes of wall time; never a test.

    python tests/benchmarks/ratelimit.py                  # every case
    python tests/benchmarks/ratelimit.py --quick          # R = 240/min only
    python tests/benchmarks/ratelimit.py --only 1200 --auto-only  # one case again, -j auto
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fake import FakeDeerAPI  # noqa: E402 - needs ROOT on sys.path
from tests.fake.ratelimit import rate_of, while_all_ran  # noqa: E402

KEY = "sk-bench-ratelimit"
BURST = 2
CASES = [(240, 0.05), (300, 1.0), (1200, 1.0)]


def env_for(url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEERIMG_", "DEERAPI_"))}
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    env.update(
        DEERAPI_KEY=KEY,
        DEERIMG_BASE_URL=url,
        DEERIMG_CONFIG_DIR=str(home / "config"),
        DEERIMG_DATA_DIR=str(home / "data"),
        NO_PROXY="*",
    )
    return env


def run(api: FakeDeerAPI, home: Path, prompts: list[str], jobs: str, tag: str) -> subprocess.Popen:
    folder = home / f"out-{tag}"
    batch = home / f"batch-{tag}.txt"
    batch.write_text("".join(f"{p}\n" for p in prompts))
    command = [sys.executable, "-m", "deerimg", "generate", "-f", str(batch), "-d", str(folder)]
    command += ["-j", jobs, "--quiet", "--no-history"]
    return subprocess.Popen(
        command, env=env_for(api.base_url, home), stdout=subprocess.DEVNULL,
        stderr=(home / f"stderr-{tag}.txt").open("wb"),
    )  # fmt: skip


def failed_of(proc: subprocess.Popen, home: Path, tag: str, count: int) -> int:
    proc.wait()
    return count - len(list((home / f"out-{tag}").glob("*.png")))


def one(api: FakeDeerAPI, home: Path, per_minute: float, count: int, jobs: str) -> str:
    prompts = [f"prompt {jobs} {k}" for k in range(count)]
    failed = failed_of(run(api, home, prompts, jobs, jobs), home, jobs, count)
    log = list(api.limiter.log) if api.limiter else []
    accepted = [v for v in log if v.accepted]
    share = 1 - len(accepted) / len(log) if log else 0.0
    return f"{rate_of(accepted, per_minute, BURST):6.3f}  {share:6.1%}  {failed:3d}"


def pair(api: FakeDeerAPI, home: Path, per_minute: float, count: int) -> str:
    prompts = [f"pair {k}" for k in range(2 * count)]
    procs = [run(api, home, prompts[k::2], "auto", f"pair{k}") for k in range(2)]
    failed = sum(failed_of(p, home, f"pair{k}", count) for k, p in enumerate(procs))
    log = list(api.limiter.log) if api.limiter else []
    side = {p: k for k in range(2) for p in prompts[k::2]}
    sides = [lambda v, k=k: side.get(v.tag) == k for k in (0, 1)]
    both_ok, refused, shares = while_all_ran(log, sides)
    return (
        f"shares {shares[0]:.3f} / {shares[1]:.3f}, "
        f"pair {rate_of(both_ok, per_minute, BURST):.3f} of R, {refused:.1%} 429, {failed} failed"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="R = 240/min only")
    parser.add_argument("--requests", type=int, default=80, help="prompts a run (at least)")
    parser.add_argument("--only", type=int, action="append", help="the case of R/min (repeatable)")
    parser.add_argument("--auto-only", action="store_true", help="no -j 4 and -j 32 runs")
    args = parser.parse_args()
    cases = CASES[:1] if args.quick else CASES
    if args.only:
        cases = [case for case in cases if case[0] in args.only]
    fixed = [] if args.auto_only else ["4", "32"]
    print("R/min  L s   headers  jobs   rate/R  429s  failed")
    with FakeDeerAPI(KEY) as api, tempfile.TemporaryDirectory() as temp:
        for per_minute, latency in cases:
            # About 20 s of requests at R, and never fewer than --requests.
            count = max(args.requests, int(per_minute / 3))
            for headers in (False, True):
                for jobs in ["auto", *fixed]:
                    api.reset()
                    api.latency = latency
                    api.rate_limit(per_minute, burst=BURST, headers=headers)
                    home = Path(tempfile.mkdtemp(dir=temp))
                    row = one(api, home, per_minute, count, jobs)
                    print(f"{per_minute:5d}  {latency:4.2f}  {headers!s:7}  {jobs:5}  {row}")
                    sys.stdout.flush()
                api.reset()
                api.latency = latency
                api.rate_limit(per_minute, burst=BURST, headers=headers)
                home = Path(tempfile.mkdtemp(dir=temp))
                print(f"{per_minute:5d}  {latency:4.2f}  {headers!s:7}  2 x auto: "
                      f"{pair(api, home, per_minute, count // 2)}")  # fmt: skip
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
