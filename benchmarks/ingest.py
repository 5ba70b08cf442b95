"""`gsmreport ingest` of many trainer_state.json files, as ratios to two baselines (same run).

Generates N trainer_state.json files (default 1,000) of E log entries each (default 2,000) in
the shape TRL's SFTTrainer writes (loss, grad_norm, learning_rate, mean_token_accuracy,
num_tokens, entropy per step; eval entries every 100 steps; the final summary entry), then times:

  measured   gsmreport ingest DIR --recursive --jobs J  +  `gsmreport runs`' summaries of every
             run (two fresh processes, start-up included)
  floor      the least work any importer must do: polars.read_ndjson of the same entries,
             pre-flattened into one NDJSON file, unpivoted to the long (run, step, metric,
             value) table; all cores, no per-file cost, nothing written
  naive      a plain loop doing the same job: json.load per file, the long table with the
             split and metric names in pandas, one parquet file written per run, and each
             metric's first/last/min (the headline)

Each of the three is timed --repeat times (default 3), interleaved (measured, floor, naive,
then again), and the ratios are those of the medians: on a shared machine one sample of the
same step drifts by 10 % or more from one minute to the next, and interleaving exposes the
three steps to the same drift. Every sample is printed.

Targets (issues 4 and 17): measured / floor <= 2x; naive / measured >= 5x; peak memory
<= 1 GiB. Then the many-small-runs case (10,000 runs x 200 entries, a hyper-parameter sweep)
prints the same lines, unless --no-sweep.
Usage: python benchmarks/ingest.py [--runs 1000] [--entries 2000] [--jobs 2] [--keep DIR]
                                   [--repeat 3] [--no-sweep | --only-sweep]
                                   [--sweep-runs 10000] [--sweep-entries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any


def _entries(n: int, rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    loss = 2.5
    for step in range(1, n + 1):
        loss = max(0.05, loss * 0.999 + rng.gauss(0, 0.02))
        out.append(
            {
                "entropy": round(1.5 + rng.random(), 6),
                "epoch": round(step / n * 3, 6),
                "grad_norm": round(abs(rng.gauss(1, 0.3)), 6),
                "learning_rate": 2e-4 * (1 - step / n),
                "loss": round(loss, 6),
                "mean_token_accuracy": round(0.6 + 0.3 * step / n, 6),
                "num_tokens": float(step * 4096),
                "step": step,
            }
        )
        if step % 100 == 0:
            out.append(
                {
                    "epoch": round(step / n * 3, 6),
                    "eval_entropy": round(1.4 + rng.random(), 6),
                    "eval_loss": round(loss + 0.1, 6),
                    "eval_mean_token_accuracy": round(0.6 + 0.3 * step / n, 6),
                    "eval_num_tokens": float(step * 4096),
                    "eval_runtime": 12.5,
                    "eval_samples_per_second": 40.1,
                    "eval_steps_per_second": 5.0,
                    "step": step,
                }
            )
    out.append(
        {
            "epoch": 3.0,
            "step": n,
            "total_flos": 1.2e16,
            "train_loss": 0.8,
            "train_runtime": 3600.0,
            "train_samples_per_second": 12.0,
            "train_steps_per_second": 0.5,
        }
    )
    return out


def generate(root: Path, runs: int, entries: int) -> Path:
    """runs/<run-i>/trainer_state.json plus the flattened NDJSON the floor reads."""
    rng = random.Random(0)
    root.mkdir(parents=True, exist_ok=True)
    flat = root / "flat.ndjson"
    with flat.open("w") as flat_out:
        for i in range(runs):
            history = _entries(entries, rng)
            state = {
                "best_metric": None,
                "epoch": 3.0,
                "eval_steps": 100,
                "global_step": entries,
                "log_history": history,
                "logging_steps": 1,
                "max_steps": entries,
                "num_train_epochs": 3,
                "train_batch_size": 8,
            }
            folder = root / "logs" / f"run-{i:04d}"
            folder.mkdir(parents=True)
            # HF writes trainer_state.json with indent=2; keep the same bytes on disk.
            (folder / "trainer_state.json").write_text(json.dumps(state, indent=2))
            for entry in history:
                flat_out.write(json.dumps({"run": i, **entry}) + "\n")
    return flat


def _settle() -> None:
    """Flush what earlier steps wrote and deleted before the next timed step starts: on a
    virtual disk mounted with `discard`, deleting the last run's output and writing it back
    lands (as writeback and TRIM) in whichever step runs next, by seconds; each timed step
    should pay for its own writes only."""
    if hasattr(os, "sync"):
        os.sync()


def _timed(fn: Any) -> tuple[float, Any]:
    _settle()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def floor(flat: Path) -> float:
    import polars as pl

    def run() -> int:
        wide = pl.read_ndjson(flat, infer_schema_length=None)
        long = wide.unpivot(index=["run", "step", "epoch"], variable_name="key").drop_nulls("value")
        return long.height

    seconds, rows = _timed(run)
    assert rows > 0
    return seconds


def naive(logs: Path, out: Path) -> float:
    import pandas as pd

    def write(frame: pd.DataFrame, folder: Path) -> None:
        folder.mkdir(parents=True)
        try:
            frame.to_parquet(folder / "metrics.parquet")
        except ImportError:  # neither pyarrow nor fastparquet: still one file per run
            frame.to_csv(folder / "metrics.csv")

    def run() -> int:
        rows = 0
        for path in sorted(logs.glob("*/trainer_state.json")):
            with path.open() as handle:
                state = json.load(handle)
            records = []
            for entry in state["log_history"]:
                for key, value in entry.items():
                    if key not in ("step", "epoch") and isinstance(value, int | float):
                        evaluation = key.startswith("eval_")
                        split, name = ("eval", key[5:]) if evaluation else ("train", key)
                        records.append((entry["step"], entry.get("epoch"), split, name, value))
            frame = pd.DataFrame(records, columns=["step", "epoch", "split", "metric", "value"])
            frame = frame.drop_duplicates(["step", "split", "metric"], keep="last")
            write(frame.sort_values(["step", "split", "metric"]), out / path.parent.name)
            frame.groupby(["split", "metric"])["value"].agg(["first", "last", "min"])
            rows += len(frame)
        return rows

    seconds, rows = _timed(run)
    assert rows > 0
    return seconds


def _child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run `command` to its end: (wall seconds, its peak RSS in KiB, its stdout).

    The peak is this child's own (os.wait4), its children's folded in by the kernel as they
    exit; resource.RUSAGE_CHILDREN would give the largest of every child run so far, the
    floor's gigabytes included."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, stdout)
    return seconds, usage.ru_maxrss, stdout


def measured(logs: Path, runs_dir: Path, jobs: int) -> tuple[float, float, int]:
    """The CLI in a child process, then the summary of every run.

    Returns (ingest seconds, listing seconds, peak RSS KiB of the larger child)."""
    env = {**os.environ, "GSMREPORT_RUNS_DIR": str(runs_dir)}
    _settle()
    code = (
        "from gsmreport import pipeline; from gsmreport.core.settings import resolve_dirs;"
        "rows = pipeline.summaries(resolve_dirs(None, None));"
        "assert all(r.final_loss is not None for r in rows), 'a run lost its loss';"
        "print(len(rows))"
    )
    ingest = [sys.executable, "-m", "gsmreport", "ingest", str(logs), "-r", "-j", str(jobs)]
    t_ingest, peak_ingest, _ = _child(ingest, env)
    t_list, peak_list, out = _child([sys.executable, "-c", code], env)
    assert int(out.strip()) == len(list(logs.iterdir())), out
    return t_ingest, t_list, max(peak_ingest, peak_list)


def in_own_process(step: str, *paths: Path) -> float:
    """floor or naive, timed inside a fresh process: this one stays small (a child forked
    from a large process starts with its memory counted) and no step inherits another's
    heap."""
    command = [sys.executable, __file__, "--step", step, *map(str, paths)]
    return float(_child(command)[2].strip())


TRASH = ".bench-trash"  # outputs of earlier runs, deleted only after every timed step


def run_case(
    runs: int, entries: int, jobs: int, keep: Path | None, scratch: Path, repeat: int
) -> None:
    """One case; its files go under `keep`, or under a new folder in `scratch`. Nothing is
    deleted here: see `_clear_later`."""
    root = keep or Path(tempfile.mkdtemp(prefix="gsmreport-bench-", dir=scratch))
    flat = root / "flat.ndjson"
    if keep is not None and flat.is_file():  # generated by an earlier --keep run: reuse
        verb, t_gen = "reused", 0.0
        assert len(list((root / "logs").iterdir())) == runs, f"{root}: other --runs"
    else:
        verb = "generated"
        t_gen, flat = _timed(lambda: generate(root, runs, entries))
    size_mb = sum(p.stat().st_size for p in (root / "logs").rglob("*.json")) / 1e6
    print(
        f"{verb} {runs} trainer_state.json x {entries} entries ({size_mb:.0f} MB) in {t_gen:.0f} s",
        flush=True,
    )
    samples: dict[str, list[float]] = {"ingest": [], "list": [], "floor": [], "naive": []}
    peak = 0
    for _ in range(repeat):
        for output in (root / "runs", root / "naive"):
            _clear_later(output)
        t_ingest, t_list, peak_kib = measured(root / "logs", root / "runs", jobs)
        peak = max(peak, peak_kib)
        samples["ingest"].append(t_ingest)
        samples["list"].append(t_list)
        samples["floor"].append(in_own_process("floor", flat))
        samples["naive"].append(in_own_process("naive", root / "logs", root / "naive"))
    ours = [a + b for a, b in zip(samples["ingest"], samples["list"], strict=True)]
    t_ours, t_floor, t_naive = (median(x) for x in (ours, samples["floor"], samples["naive"]))
    t_ingest, t_list = median(samples["ingest"]), median(samples["list"])
    print(f"case      {runs:,} runs x {entries:,} entries, median of {repeat}")
    print(f"measured  gsmreport ingest + summaries (jobs={jobs})  {t_ours:8.2f} s  {_all(ours)}")
    print(f"  of which gsmreport ingest {t_ingest:6.2f} s, summaries of all runs {t_list:6.2f} s")
    print(
        f"floor     polars.read_ndjson + unpivot, pre-flattened{t_floor:8.2f} s  "
        f"{_all(samples['floor'])}"
    )
    print(
        f"naive     json.load + pandas loop + parquet per run  {t_naive:8.2f} s  "
        f"{_all(samples['naive'])}"
    )
    print(f"ratio     measured / floor   {t_ours / t_floor:6.2f}x   (target <= 2x)")
    print(f"ratio     naive / measured   {t_naive / t_ours:6.2f}x   (target >= 5x)")
    print(f"peak RSS  largest process    {peak / 1024:8.0f} MiB   (target <= 1024 MiB)")


def _all(seconds: list[float]) -> str:
    return "(" + ", ".join(f"{s:.2f}" for s in seconds) + ")" if len(seconds) > 1 else ""


def _clear_later(output: Path) -> None:
    """Move an earlier run's output aside (a rename) instead of deleting it now.

    Deleting thousands of run folders just before a timed step slows that step: ext4 places
    the new folders in the block groups just freed, and allocating an inode there costs
    0.5-3 ms instead of ~0.05 ms for a minute or more (its check for recently deleted
    inodes), which the import (four files a run) would pay and a later step would not."""
    if output.exists():
        trash = output.parent / TRASH
        trash.mkdir(exist_ok=True)
        output.rename(trash / f"{output.name}-{time.time_ns()}")


def _empty_trash(roots: list[Path]) -> None:
    for root in roots:
        shutil.rmtree(root / TRASH, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="generate here and keep the files")
    parser.add_argument(
        "--repeat", type=int, default=3, help="time each step this many times (medians)"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the many-small-runs case")
    parser.add_argument("--sweep-runs", type=int, default=10_000)
    parser.add_argument("--sweep-entries", type=int, default=200)
    parser.add_argument("--only-sweep", action="store_true", help="the sweep case alone")
    parser.add_argument("--one-case", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--step", choices=("floor", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step is not None:  # one timed step, in a process of its own: prints its seconds
        print(floor(*args.paths) if args.step == "floor" else naive(*args.paths))
        return
    if args.one_case:
        run_case(args.runs, args.entries, args.jobs, args.keep, args.scratch, args.repeat)
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    cases = [] if args.only_sweep else [(args.runs, args.entries, args.keep)]
    if not args.no_sweep:
        sweep_keep = args.keep / "sweep" if args.keep else None
        cases.append((args.sweep_runs, args.sweep_entries, sweep_keep))
    # Every case's files are deleted once all cases have run (see _clear_later): the
    # sweep's import must not follow the deletion of the first case's thousands of runs.
    scratch = Path(tempfile.mkdtemp(prefix="gsmreport-bench-"))
    try:
        for i, (runs, entries, keep) in enumerate(cases):
            if i:
                print(flush=True)
            # Each case in a fresh process, as each timed step (see in_own_process): a child
            # started from a large process reports the parent's RSS as its own peak (Linux
            # folds the forking process's high-water mark into the child's).
            command = [sys.executable, __file__, "--one-case", "--runs", str(runs)]
            command += ["--entries", str(entries), "--jobs", str(args.jobs)]
            command += ["--scratch", str(scratch), "--repeat", str(args.repeat)]
            subprocess.run(command + (["--keep", str(keep)] if keep else []), check=True)
    finally:
        _empty_trash([keep for _, _, keep in cases if keep is not None])
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
