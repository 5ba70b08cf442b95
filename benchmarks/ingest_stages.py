"""Where `gsmreport ingest` spends its time per run: each stage's share, in one process.

Imports every trainer_state.json under DIR (e.g. the files `benchmarks/ingest.py --keep DIR`
generated, DIR/logs) into a temporary runs folder, one run after another in this process with
one polars thread, and times the importer's stages by wrapping them:

  parse      reading and parsing the JSON file (orjson)
  table      building the long metrics table from the log history
  summary    the headline summary cached beside the run (analysis.summary)
  parquet    writing metrics.parquet's bytes
  yaml       run.yaml's text
  other      the rest: locating the file, the run record, folders, writes, renames

The ratio printed is the stages' share of the whole, measured in the same run; absolute times
drift on shared machines. Profile here before changing the importer (issue 17 did).
Usage: python benchmarks/ingest_stages.py DIR [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("POLARS_MAX_THREADS", "1")  # as in `ingest -j N`: before polars loads

from gsmreport.analysis import summary_cache
from gsmreport.core.runs import RunStore
from gsmreport.ingest import importer, trainer_state
from gsmreport.ingest.detect import Found, discover

STAGES = (
    (trainer_state, "load_json", "parse"),
    (trainer_state, "_collect", "table"),
    (summary_cache, "summarize_safe", "summary"),
    (importer, "parquet_bytes", "parquet"),
    (importer, "dump_yaml", "yaml"),
)


def _timed(module: Any, name: str, label: str, spent: dict[str, float]) -> None:
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", type=Path, help="a folder of runs holding trainer_state.json")
    parser.add_argument("--runs", type=int, default=200, help="import at most this many")
    args = parser.parse_args()
    found = [
        f
        for f in discover(args.logs, recursive=True, mapped=False, experiment=None)
        if isinstance(f, Found)
    ][: args.runs]
    if not found:
        sys.exit(f"error: {args.logs}: no log to import; pass the folder of runs (e.g. DIR/logs)")
    spent: dict[str, float] = defaultdict(float)
    for module, name, label in STAGES:
        _timed(module, name, label, spent)
    root = Path(tempfile.mkdtemp(prefix="gsmreport-stages-"))
    try:
        jobs = importer.plan(RunStore(root), [(args.logs, f) for f in found])
        start = time.perf_counter()
        failed = [o for o in map(importer.run_job, jobs) if not o.ok]
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if failed:
        sys.exit(f"error: {failed[0].error}")
    n = len(jobs)
    print(f"{n} runs in one process: {total / n * 1000:.2f} ms per run")
    for label in [label for _, _, label in STAGES] + ["other"]:
        seconds = spent[label] if label != "other" else total - sum(spent.values())
        print(f"  {label:8s} {seconds / n * 1000:6.2f} ms   {seconds / total:6.1%}")


if __name__ == "__main__":
    main()
