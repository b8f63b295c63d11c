"""`python -m tools.gen [--check]`: write the shipped files, or name the ones that drifted."""

import sys

from tools.gen import main

if __name__ == "__main__":
    sys.exit(main())
