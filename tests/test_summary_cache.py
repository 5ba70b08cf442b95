"""The per-run summary cache: reused while the run's files are unchanged, rebuilt otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path

from gsmreport.analysis.summary import summarize
from gsmreport.analysis.summary_cache import CACHE, cached_summary
from tests.run_fixtures import make_train_run


def _bump(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_cache_is_written_reused_and_invalidated(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)
    first = cached_summary(run_dir, record)
    assert first == summarize(run_dir, record)
    assert (run_dir / CACHE).is_file()

    # A cached figure is served as long as no input changed (prove it by editing the cache).
    data = json.loads((run_dir / CACHE).read_text())
    data["summary"]["em"] = 0.123
    (run_dir / CACHE).write_text(json.dumps(data))
    assert cached_summary(run_dir, record).em == 0.123

    # A new evaluation result invalidates it.
    results = run_dir / "evals" / "e1" / "results.json"
    payload = json.loads(results.read_text())
    payload["counts"]["strict-match"]["correct"] = 0
    results.write_text(json.dumps(payload))
    _bump(results)
    (run_dir / "evals" / "e1" / "samples.jsonl").unlink()
    assert cached_summary(run_dir, record).em == 0.0


def test_damaged_cache_is_recomputed(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)
    (run_dir / CACHE).write_text("{not json")
    assert cached_summary(run_dir, record) == summarize(run_dir, record)
    assert json.loads((run_dir / CACHE).read_text())["summary"]["id"] == record.id
