"""A run's headline summary, cached beside it and recomputed only when its inputs change.

Listing a thousand runs (the CLI's `runs`, the TUI's first paint) must not read a thousand
parquet files. The cache records the mtime of every file the summary reads; any change to
one of them, or a new gsmreport version, makes it stale.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gsmreport import __version__
from gsmreport.analysis.summary import RunSummary, summarize_safe
from gsmreport.core.runs import RunRecord

if TYPE_CHECKING:
    import polars as pl

    from gsmreport.ingest.schema import SeriesLayout

CACHE = ".summary.json"
_INPUTS = ("run.yaml", "metrics.parquet", "metrics.jsonl", "trainer_state.json")
_FORMAT = 5  # bump when RunSummary or summarize() changes meaning (5: kind, scores, steps)


_SUMMARY_FIELDS = dataclasses.fields(RunSummary)


def input_stamps(run_dir: Path) -> dict[str, int]:
    """mtime (ns) of every file a run's summary reads: what a watcher compares between polls."""
    stamps: dict[str, int] = {}
    # os.stat on joined strings: through pathlib, the joins cost as much as the stats
    # (listing 1,000 runs stats 6,000 paths).
    folder = os.fspath(run_dir)
    for name in _INPUTS:
        try:
            stamps[name] = os.stat(os.path.join(folder, name)).st_mtime_ns
        except OSError:
            continue
    evals = run_dir / "evals"
    if os.path.isdir(evals):
        # samples.jsonl too: exact match is rescored from it (analysis.run).
        for pattern in ("*/results.json", "*/samples.jsonl", "*/eval.yaml"):
            for path in evals.glob(pattern):
                stamps[str(path.relative_to(run_dir))] = path.stat().st_mtime_ns
    return stamps


def _fields(summary: RunSummary) -> dict[str, Any]:
    """The summary's fields, all plain values: dataclasses.asdict would deep-copy each one
    (~0.1 ms a run, at import)."""
    return {field.name: getattr(summary, field.name) for field in _SUMMARY_FIELDS}


def _read(path: Path, key: dict[str, Any]) -> RunSummary | None:
    try:
        data = json.loads(path.read_bytes())
        if data.get("key") != key:
            return None
        return RunSummary(**data["summary"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # missing, stale or damaged: recompute


def _write(path: Path, key: dict[str, Any], summary: RunSummary) -> None:
    """Best effort, no fsync: a lost cache is only recomputed; a read-only folder is fine."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(json.dumps({"key": key, "summary": _fields(summary)}))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _key(stamps: dict[str, int]) -> dict[str, object]:
    """What a cached summary must have been computed from to still be valid."""
    return {"version": __version__, "format": _FORMAT, "inputs": stamps}


def peek_summary(run_dir: Path, stamps: dict[str, int] | None = None) -> RunSummary | None:
    """The cached summary if it is still valid, else None; never reads run.yaml or parquet.

    Lets the TUI paint a thousand runs from their small JSON caches and compute the rest later.
    """
    return _read(run_dir / CACHE, _key(input_stamps(run_dir) if stamps is None else stamps))


def cached_summary(run_dir: Path, record: RunRecord) -> RunSummary:
    key = _key(input_stamps(run_dir))
    cached = _read(run_dir / CACHE, key)
    if cached is not None:
        return cached
    summary = summarize_safe(run_dir, record)
    _write(run_dir / CACHE, key, summary)
    return summary


def cache_summary_of(
    run_dir: Path, record: RunRecord, frame: pl.DataFrame, layout: SeriesLayout | None = None
) -> RunSummary:
    """Compute and cache the headline of a run just written whose metric rows the caller
    holds (the importer): the very analysis `cached_summary` runs, without reading the table
    back from metrics.parquet. `frame` must be what metrics.parquet now holds; `layout`, its
    rows' series when the reader's build knows them (series_stats groups by it).

    Written in place, not through a temp file and a rename: the importer calls this on its
    private folder before renaming it into the runs folder, and a damaged cache would only
    be recomputed."""
    key = _key(input_stamps(run_dir))
    summary = summarize_safe(run_dir, record, frame, layout)
    with contextlib.suppress(OSError):
        data = {"key": key, "summary": _fields(summary)}
        (run_dir / CACHE).write_text(json.dumps(data))
    return summary


def listed_summary(run_dir: Path, run_id: str) -> RunSummary | None:
    """The cached headline when it can stand for the run without reading run.yaml, else None
    (the caller reads run.yaml and goes through `cached_summary`).

    A valid cache was computed from this very run.yaml (its mtime is in the key), so parsing
    the YAML again would only repeat what the cache holds: ~1.5 ms a run, most of listing a
    thousand imported runs. Two things `RunStore.read` checks can change without touching
    run.yaml, so those runs take the full read: a `running` run whose process may have
    vanished, and a folder copied or renamed (its cached id is not its folder's name).
    """
    summary = peek_summary(run_dir)
    if summary is None or summary.id != run_id or summary.status == "running":
        return None
    return summary
