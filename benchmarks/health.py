"""The health checks of a run (analysis/health.py) and the smoothing rule (analysis/smoothing.py)
on a long log, as ratios to work the report already does on the same rows (same process).

Builds one run's metric rows: N logged training steps (loss, grad_norm, learning_rate,
num_tokens) and an eval every 50 steps, then times

  health     check_health(frame, record): every check, before any narrative
  smoothing  smooth() over the N training-loss points
  baseline   summarize_training(frame): the key-metrics table's figures of the same rows

Usage: python benchmarks/health.py [-n 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="logged training steps")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from gsmreport.analysis.health import check_health
    from gsmreport.analysis.smoothing import smooth
    from gsmreport.analysis.training import series, summarize_training
    from gsmreport.core.runs import RunRecord
    from gsmreport.ingest import rows_from_log
    from gsmreport.ingest.schema import frame_from_rows

    rows = []
    for step in range(1, args.n + 1):
        logged = {
            "loss": 2.0 / math.sqrt(step) + 0.05 * math.sin(step),
            "grad_norm": 1.0 + 0.1 * math.cos(step),
            "learning_rate": 1e-4 * (1 - step / (args.n + 1)),
            "num_tokens": 512.0 * step,
            "step": step,
        }
        rows += rows_from_log(logged, run_id="r", source="bench")
        if step % 50 == 0:
            rows += rows_from_log(
                {"eval_loss": 1.0 / math.sqrt(step), "step": step}, run_id="r", source="bench"
            )
    frame = frame_from_rows(rows)
    record = RunRecord.model_validate(
        {"id": "r", "kind": "imported", "config": {"lr_scheduler_type": "linear"}}
    )
    train = series(frame, "train", "loss")
    steps, values = train.get_column("step").to_list(), train.get_column("value").to_list()

    baseline = _best(lambda: summarize_training(frame), args.repeat)
    health = _best(lambda: check_health(frame, record), args.repeat)
    smoothing = _best(lambda: smooth(steps, values), args.repeat)
    print(f"{frame.height:,} metric rows, {args.n:,} training steps, best of {args.repeat}")
    print(f"baseline  summarize_training  {baseline * 1000:8.1f} ms")
    print(f"health    check_health        {health * 1000:8.1f} ms  ({health / baseline:.2f}x)")
    print(
        f"smoothing smooth              {smoothing * 1000:8.1f} ms  ({smoothing / baseline:.2f}x)"
    )


if __name__ == "__main__":
    main()
