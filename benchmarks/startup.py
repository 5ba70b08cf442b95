"""How long `gsmreport --help` takes, as a ratio to a bare interpreter start (same run).

Target: under a second absolute and no torch import (tests/test_architecture.py pins the
import rule; this script only reports time). Usage: python benchmarks/startup.py [-n 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def _median_seconds(cmd: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=10, help="repetitions (median is reported)")
    args = parser.parse_args()
    baseline = _median_seconds([sys.executable, "-c", "pass"], args.n)
    help_time = _median_seconds([sys.executable, "-m", "gsmreport", "--help"], args.n)
    print(f"baseline  python -c pass        {baseline * 1000:7.1f} ms")
    print(f"measured  gsmreport --help      {help_time * 1000:7.1f} ms")
    print(f"ratio     help / bare python    {help_time / baseline:7.2f}x")


if __name__ == "__main__":
    main()
