"""A run's headline (what `gsmreport runs` and the TUI's table show), computed uncached, as a
ratio to the floor of reading its inputs (same runs, same process).

Builds N finished runs with `benchmarks/tui.py`'s builder (a 50-step loss curve and token
accuracy each; every third run with a 20-problem evaluation), then times, per run:

  measured   analysis.summary.summarize: RunAnalysis's headline (train loss and token
             accuracy, runtime, cost, the latest evaluation rescored from samples.jsonl)
  floor      reading the same inputs and nothing more: run.yaml, metrics.parquet and the
             latest evaluation's samples.jsonl (polars + json)

The cache (analysis/summary_cache.py) makes every later listing read one small JSON file per
run; this measures the first, uncached one. Usage: python benchmarks/headline.py [-n 300]
[--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def _floor(run_dir: Path) -> None:
    from gsmreport.core.runs import read_record

    read_record(run_dir / "run.yaml")
    pl.read_parquet(run_dir / "metrics.parquet")
    for samples in (run_dir / "evals").glob("*/samples.jsonl"):
        [json.loads(line) for line in samples.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="runs (default 300)")
    parser.add_argument("--repeat", type=int, default=3, help="best of K passes (default 3)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT))
    from tui import build  # the TUI benchmark's run builder

    from gsmreport.analysis.summary import summarize
    from gsmreport.core.runs import RunStore

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(build(Path(tmp) / "runs", args.n))
        records = list(store.iter_records())
        summarize(store.path(records[0].id), records[0])  # imports and first-call costs
        _floor(store.path(records[0].id))
        best_measured = best_floor = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for record in records:
                summarize(store.path(record.id), record)
            best_measured = min(best_measured, time.perf_counter() - t0)
            t0 = time.perf_counter()
            for record in records:
                _floor(store.path(record.id))
            best_floor = min(best_floor, time.perf_counter() - t0)
    n = len(records)
    print(f"headline, uncached   {best_measured / n * 1000:6.2f} ms per run ({n} runs)")
    print(f"floor (read inputs)  {best_floor / n * 1000:6.2f} ms per run")
    print(f"ratio                {best_measured / best_floor:6.2f}x")


if __name__ == "__main__":
    main()
