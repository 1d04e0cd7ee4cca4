"""Hostile input at scale: tests/test_fuzz.py's properties (IDX parser, image decoding and
preparation, any grey image, the upload parser, reading a line) each over N generated and
mutated inputs (default 20,000 each: 100,000 in all). Every input must be answered or refused
with a one-line Lenet5Error; pytest reports any other outcome with the smallest input it found.

    python benchmarks/fuzz.py [--examples 20000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROPERTIES = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=20_000, help="inputs per property (default: 20000)")
    args = parser.parse_args()
    env = {**os.environ, "LENET5_HYPOTHESIS_PROFILE": "fuzz", "LENET5_FUZZ_EXAMPLES": str(args.examples)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py")],
                            env=env, cwd=ROOT)
    print(f"{PROPERTIES} properties x {args.examples:,} inputs = {PROPERTIES * args.examples:,} inputs in "
          f"{time.perf_counter() - start:.0f} s: {'all answered or refused in one line' if result.returncode == 0 else 'FAILURES above'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
