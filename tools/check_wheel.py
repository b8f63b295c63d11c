"""Check a built wheel's file list: the generated files are in, tests and the generator are out.

Run by .ci/build-check: `python tools/check_wheel.py dist/deerimg-*.whl`. Exit 1, naming what is
wrong, when a completion script or the man page is missing, or anything of tests/ or tools/ got in.
"""

from __future__ import annotations

import sys
import zipfile

WANTED = (
    "deerimg/completions/deerimg.bash",
    "deerimg/completions/_deerimg",
    "deerimg/completions/deerimg.fish",
    "share/man/man1/deerimg.1",  # under the wheel's .data/data/
    "licenses/LICENSE",  # under .dist-info/
)
UNWANTED = ("tests/", "tools/", "_gen.py", "conftest.py", "/fake/")


def problems(names: list[str]) -> list[str]:
    found = [f"missing: {want}" for want in WANTED if not any(n.endswith(want) for n in names)]
    found += [f"should not ship: {n}" for n in names if any(bad in n for bad in UNWANTED)]
    return found


def main(paths: list[str]) -> int:
    bad = 0
    for path in paths:
        with zipfile.ZipFile(path) as wheel:
            for problem in problems(wheel.namelist()):
                print(f"{path}: {problem}")
                bad += 1
    if not bad:
        print(f"{', '.join(paths)}: the generated files are in; tests and tools are out")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
