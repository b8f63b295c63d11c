"""Simulate -j auto against the fake's token bucket on a virtual clock: seconds for minutes.

Runs tests/pace_model.py (the real Pacer, the fake's bucket, on a virtual clock) over many seeds
for each case of tests/benchmarks/ratelimit.py, alone and in pairs whose second process starts
up to --skew seconds after the first (about 10 ms in the real benchmark), and prints how often a
seed misses issue 23's targets. It is a model: the figures to quote are the real benchmark's;
this one finds the cases worth running there, in the time one real run takes.

    python tests/benchmarks/pacesim.py                       # every case, alone and in pairs
    python tests/benchmarks/pacesim.py --only 240 --seeds 200 --headers yes
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.pace_model import simulate  # noqa: E402 - needs ROOT on sys.path

CASES = [(240, 0.05), (300, 1.0), (1200, 1.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40, help="runs a case")
    parser.add_argument("--only", type=int, action="append", help="the case of R/min")
    parser.add_argument("--headers", choices=["no", "yes", "both"], default="both")
    parser.add_argument("--skew", type=float, default=0.02, help="the second start, at most (s)")
    parser.add_argument("--alone", action="store_true", help="no pairs")
    parser.add_argument("--noise", type=float, default=1.0, help="x every random delay's mean")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c[0] in args.only]
    print("R/min  L s   headers  who    rate/R min/med  429s med/max  share worst  failed  misses")
    for (per_minute, latency), headers in itertools.product(cases, (False, True)):
        if args.headers != "both" and headers != (args.headers == "yes"):
            continue
        for pair in (False,) if args.alone else (False, True):
            rows = [simulate(per_minute, latency, headers, seed, pair=pair, skew=args.skew,
                             noise=args.noise)
                    for seed in range(args.seeds)]  # fmt: skip
            rates, refused, shares, failed = zip(*rows, strict=True)
            worst = max(abs(s - 0.5) for s in shares) if pair else 0.0
            if pair:
                misses = sum(r < 0.9 or f > 0.10 or abs(s - 0.5) > 0.1 for r, f, s, _ in rows)
            else:
                cap = 0.01 if headers else 0.05
                misses = sum(r < 0.95 or f > cap for r, f, _, _ in rows)
            print(f"{per_minute:5d}  {latency:4.2f}  {headers!s:7}  {'pair' if pair else 'alone':5}"
                  f"  {min(rates):.3f} {statistics.median(rates):.3f}"
                  f"   {statistics.median(refused):5.1%} {max(refused):5.1%}"
                  f"   {0.5 + worst:.3f}  {sum(failed):4d}  {misses:3d}/{len(rows)}")  # fmt: skip
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
