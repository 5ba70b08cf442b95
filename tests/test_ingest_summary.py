"""The headline an import caches is the one the run's files give when read back."""

from __future__ import annotations

import math
from pathlib import Path

from gsmreport.analysis.summary import summarize
from gsmreport.analysis.summary_cache import CACHE, peek_summary
from gsmreport.core.runs import RunStore
from gsmreport.ingest.importer import import_paths
from tests.run_fixtures import write_trainer_state


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
