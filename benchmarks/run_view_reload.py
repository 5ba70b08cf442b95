"""One live refresh of the TUI's run view on a run still training, as a ratio to reading its
metrics log alone (same run, same process).

Builds a running run: metrics.jsonl with N trainer log lines and a machine sample beside each
(as jobs/callbacks.py writes them), and a 1,320-problem evaluation (samples.jsonl). Times:

  reload     what the view does when metrics.jsonl moved and the evaluations did not: one
             analysis gives the headline (cards) and the series panels, the evaluations
             are kept as shown
  full       what a refresh cost before: the headline through its cache (a second parse of
             the log) and the evaluations read again (every sample rescored)
  floor      parsing metrics.jsonl with the json module, nothing else

The view polls every 2 s, so a reload well under that keeps a live run current without
loading the machine. Usage: python benchmarks/run_view_reload.py [-n 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEM_COPIES = 110  # × the 12 hand-written problems = 1,320 samples, about GSM8K's test set


def build(runs: Path, steps: int) -> str:
    sys.path.insert(0, str(ROOT))
    from gsmreport.core.runs import RunRecord, RunStore
    from gsmreport.gsm8k.scoring import counts_and_metrics
    from tests.report_samples import sample_rows
    from tests.run_fixtures import jsonl_line, train_log

    store = RunStore(runs)
    run_dir = store.create(
        RunRecord(id="live", kind="train", status="running", started_at="2025-01-01T00:00:00+00:00")
    )
    with (run_dir / "metrics.jsonl").open("w", encoding="utf-8") as fh:
        for step in range(1, steps + 1):
            fh.write(jsonl_line(step, train_log(step, 2.0 - step / (steps * 2), 0.5)) + "\n")
            sample = {"cpu": 97.0, "memory_percent": 41.0, "proc.memory.rssMB": 2300.0}
            fh.write(json.dumps({"step": step, "wall_time": step * 0.7, "system": sample}) + "\n")
    rows = [
        {**row, "doc_id": copy * 100 + row["doc_id"]}
        for copy in range(PROBLEM_COPIES)
        for row in sample_rows()
    ]
    counts, metrics = counts_and_metrics(rows)
    folder = run_dir / "evals" / "test-all"
    folder.mkdir(parents=True)
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = {"n": len(rows), "counts": counts, "results": {"gsm8k": metrics}}
    (folder / "results.json").write_text(json.dumps(results))
    return "live"


def best(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="trainer log lines (default 2000)")
    parser.add_argument("--repeat", type=int, default=5, help="best of K (default 5)")
    args = parser.parse_args()
    from gsmreport import pipeline
    from gsmreport.core.settings import Dirs
    from gsmreport.tui.detail import extras
    from gsmreport.tui.loading import RunDetail, load_detail

    with tempfile.TemporaryDirectory() as tmp:
        dirs = Dirs(runs=Path(tmp) / "runs", reports=Path(tmp) / "reports")
        run_id = build(dirs.runs, args.n)
        log = dirs.runs / run_id / "metrics.jsonl"
        shown = extras(pipeline.analyse(dirs, run_id))  # first open: imports, evals read
        assert shown.evals and shown.panels

        def reload() -> None:  # as RunScreen.load_extras: one analysis for cards and charts
            analysis = pipeline.analyse(dirs, run_id)
            RunDetail(record=analysis.record, summary=analysis.headline())
            extras(analysis, shown.evals)

        def full() -> None:
            load_detail(dirs, run_id)
            extras(pipeline.analyse(dirs, run_id))

        def floor() -> None:
            [json.loads(line) for line in log.read_text().splitlines()]

        def touched(fn: Callable[[], None]) -> Callable[[], None]:
            def run() -> None:
                log.touch()  # the cards' cache is keyed on mtimes: a live run moves them
                fn()

            return run

        timings = {}
        for name, fn in (("reload", reload), ("full", full), ("floor", floor)):
            timings[name] = best(touched(fn), args.repeat)
        lines = sum(1 for _ in log.open())
        print(
            f"run: {args.n} log steps ({lines} metrics.jsonl lines), 1 evaluation of "
            f"{12 * PROBLEM_COPIES} samples; best of {args.repeat}"
        )
        for name, seconds in timings.items():
            print(f"  {name:7s} {seconds * 1000:8.1f} ms")
        print(f"reload / floor: {timings['reload'] / timings['floor']:.1f}x")
        print(
            f"full / reload:  {timings['full'] / timings['reload']:.1f}x "
            "(what keeping the evaluations saves per refresh)"
        )


if __name__ == "__main__":
    main()
