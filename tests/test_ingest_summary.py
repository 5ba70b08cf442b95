"""The headline an import caches is the one the run's files give when read back, and
`summaries` lists from those caches without losing what reading run.yaml would tell."""

from __future__ import annotations

import math
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gsmreport import pipeline
from gsmreport.analysis.summary import summarize
from gsmreport.analysis.summary_cache import CACHE, cached_summary, peek_summary
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.ingest import importer
from gsmreport.ingest.importer import import_paths
from tests.run_fixtures import assert_same_runs, write_trainer_state


def test_cached_headline_equals_the_one_read_back_from_disk(tmp_path: Path) -> None:
    history = [
        {"step": s, "epoch": s / 10, "loss": 2.0 / s, "mean_token_accuracy": 0.5 + s / 100}
        for s in range(1, 11)
    ]
    history += [{"step": 5, "eval_loss": 1.1}, {"step": 7, "grad_norm": math.inf}]
    history.append({"step": 10, "train_runtime": 42.0, "train_loss": 0.7})
    write_trainer_state(tmp_path / "out", history)
    runs = tmp_path / "runs"
    [outcome] = import_paths(runs, [tmp_path / "out"])
    assert outcome.ok and outcome.run_id is not None, outcome.error
    run_dir = runs / outcome.run_id
    assert (run_dir / CACHE).is_file()
    cached = peek_summary(run_dir)  # valid: the cache's key matches the files in place
    assert cached is not None
    fresh = summarize(run_dir, RunStore(runs).read(outcome.run_id))  # metrics.parquet re-read
    assert cached == fresh
    assert cached.final_loss == 0.2 and cached.runtime_s == 42.0
    assert not list(runs.glob(".import-*"))  # no temp folder left behind


def _imported(tmp_path: Path) -> tuple[Path, str]:
    write_trainer_state(tmp_path / "out")
    runs = tmp_path / "runs"
    [outcome] = import_paths(runs, [tmp_path / "out"])
    assert outcome.ok and outcome.run_id is not None, outcome.error
    return runs, outcome.run_id


def test_listing_from_caches_sees_what_run_yaml_says(tmp_path: Path) -> None:
    """`summaries` skips run.yaml only while the cache is valid: an edit to run.yaml shows."""
    runs, run_id = _imported(tmp_path)
    dirs = Dirs(runs=runs, reports=tmp_path / "reports")
    [before] = pipeline.summaries(dirs)
    assert before == summarize(runs / run_id, RunStore(runs).read(run_id))
    store = RunStore(runs)
    record = store.read(run_id).model_copy(update={"model": "org/edited"})
    time.sleep(0.01)  # a new mtime even on a coarse clock
    store.write(record)
    [after] = pipeline.summaries(dirs)
    assert after.model == "org/edited"


def test_listing_leaves_out_a_copied_folder_despite_its_valid_cache(tmp_path: Path) -> None:
    runs, run_id = _imported(tmp_path)
    shutil.copytree(runs / run_id, runs / "a-copy")  # copy2 keeps mtimes: the cache looks valid
    dirs = Dirs(runs=runs, reports=tmp_path / "reports")
    assert [s.id for s in pipeline.summaries(dirs)] == [run_id]
    assert [p.folder.name for p in pipeline.run_problems(dirs)] == ["a-copy"]


def test_listing_marks_a_running_run_whose_process_vanished(tmp_path: Path) -> None:
    runs, run_id = _imported(tmp_path)
    store = RunStore(runs)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid is gone
    running = store.read(run_id).model_dump()
    running.update(status="running", pid=dead.pid, host=socket.gethostname())
    store.write(RunRecord.model_validate(running))
    cached_summary(runs / run_id, store.read(run_id, check_alive=False))  # cache says running
    dirs = Dirs(runs=runs, reports=tmp_path / "reports")
    [row] = pipeline.summaries(dirs)
    assert row.status == "interrupted"


def _sources(root: Path, n: int) -> Path:
    for i in range(n):
        history = [{"step": s, "loss": 3.0 / s + i, "epoch": s / 5} for s in range(1, 6)]
        write_trainer_state(root / f"run-{i:02d}", history)
    return root


def test_parallel_import_equals_serial_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process works beside the pool's workers: every source still becomes exactly one
    run, with the same table and headline as a one-process import gives."""
    sources = _sources(tmp_path / "logs", 20)
    serial = import_paths(tmp_path / "serial", [sources], recursive=True, jobs=1)
    # These runs are too quick to be worth a worker's start: say they are not, so that the
    # workers do run them.
    monkeypatch.setattr(importer, "_WORKER_START_S", 0.0)
    spy = _Spy(monkeypatch)
    parallel = import_paths(tmp_path / "parallel", [sources], recursive=True, jobs=3)
    assert spy.runs == 18  # all but the two this process times before it decides
    assert all(o.ok for o in serial + parallel)
    assert sorted(o.run_id or "" for o in parallel) == sorted(o.run_id or "" for o in serial)
    assert len({o.run_id for o in parallel}) == 20
    assert_same_runs([o.run_id for o in serial], tmp_path / "serial", tmp_path / "parallel")


class _Spy:
    """Counts the jobs handed to the worker pool."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs = 0
        real = importer._in_workers

        def spy(planned: list[importer.Job], *args: Any) -> Iterator[importer.Outcome]:
            self.runs += len(planned)
            return real(planned, *args)

        monkeypatch.setattr(importer, "_in_workers", spy)


def test_a_quick_import_stays_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty small runs take less than a worker takes to start: no worker is started, and
    the outcome is the same."""
    spy = _Spy(monkeypatch)
    outcomes = import_paths(
        tmp_path / "runs", [_sources(tmp_path / "logs", 20)], jobs=2, recursive=True
    )
    assert spy.runs == 0
    assert len(outcomes) == 20 and all(o.ok for o in outcomes)
