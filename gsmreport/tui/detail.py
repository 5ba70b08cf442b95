"""The heavier half of the run screen, read in a worker: curves, cost, failure categories.

No Textual import, nothing written. Everything comes from the same analysis functions the
report uses (training series, `run_cost`, `failure_table`), so the screen and the report
cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from gsmreport.analysis.evaluation import (
    FilterScore,
    read_sample_dicts,
    samples_frame,
    scores_from_results,
    scores_from_samples,
)
from gsmreport.analysis.failures import FailureCount, failure_table

Points = list[tuple[float, float]]

# (chart title, y label, metric, series name per split): one chart each, splits overlaid.
CHARTS: tuple[tuple[str, str, str, Mapping[str, str]], ...] = (
    ("Loss", "loss", "loss", {"train": "train", "eval": "eval"}),
    ("Token accuracy", "mean token acc", "mean_token_accuracy", {"train": "train", "eval": "eval"}),
    ("Learning rate", "lr", "learning_rate", {"train": "lr"}),
)


@dataclass(frozen=True)
class Chart:
    title: str
    y_label: str
    series: dict[str, Points]


@dataclass(frozen=True)
class EvalView:
    eval_id: str
    scores: tuple[FilterScore, ...]
    n_samples: int  # rows in samples.jsonl (0: only results.json)
    failures: tuple[FailureCount, ...] = ()  # empty without samples.jsonl


@dataclass(frozen=True)
class RunExtras:
    charts: tuple[Chart, ...]
    evals: tuple[EvalView, ...] = field(default_factory=tuple)
    metrics_note: str = ""  # why there are no curves, when there are none


def read_metrics(run_dir: Path) -> tuple[pl.DataFrame | None, str]:
    """The run's metric rows, and why there are none when there are none.

    metrics.parquet is built when a job ends in the process that launched it; a run still
    training, or one that ended after the TUI that launched it quit, has logs newer than it.
    Those are read from the logs themselves, as the runs table does, without writing anything.
    """
    from gsmreport.core.errors import GsmReportError
    from gsmreport.ingest.run import needs_ingest, read_sources

    path = run_dir / "metrics.parquet"
    if needs_ingest(run_dir):
        try:
            frame = read_sources(run_dir, run_dir.name).frame
        except (GsmReportError, OSError, ValueError) as exc:
            return None, f"the run's logs are unreadable: {exc}"
        if frame.height:
            return frame, ""
    if not path.is_file():
        return None, "no metrics.parquet yet (run `gsmreport ingest` if the run has logs)"
    try:
        return pl.read_parquet(path), ""
    except (OSError, pl.exceptions.PolarsError) as exc:
        return None, f"metrics.parquet is unreadable: {exc}"


def points(frame: pl.DataFrame, split: str, metric: str) -> Points:
    """(step, value) sorted by step; NaN and ±inf kept, the chart shows them as gaps."""
    rows = (
        frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
        .select("step", "value")
        .sort("step")
    )
    return [(float(s), float(v)) for s, v in rows.iter_rows() if v is not None]


def charts(frame: pl.DataFrame | None) -> tuple[Chart, ...]:
    out = []
    for title, y_label, metric, names in CHARTS:
        series = {
            name: pts
            for split, name in names.items()
            if frame is not None and (pts := points(frame, split, metric))
        }
        out.append(Chart(title, y_label, series))
    return tuple(out)


def eval_view(eval_dir: Path) -> EvalView:
    """Scores recomputed from samples.jsonl where it exists (as the report does)."""
    rows = read_sample_dicts(eval_dir / "samples.jsonl")
    if rows:
        from_samples = scores_from_samples(samples_frame(rows))
        return EvalView(eval_dir.name, from_samples, len(rows), failure_table(rows))
    results = eval_dir / "results.json"
    scores: tuple[FilterScore, ...] = ()
    if results.is_file():
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
            scores = scores_from_results(data) if isinstance(data, dict) else ()
        except (OSError, ValueError, KeyError, TypeError):
            scores = ()
    return EvalView(eval_dir.name, scores, 0)


def eval_views(run_dir: Path) -> tuple[EvalView, ...]:
    folder = run_dir / "evals"
    if not folder.is_dir():
        return ()
    return tuple(
        eval_view(d)
        for d in sorted(folder.iterdir())
        if (d / "results.json").is_file() or (d / "samples.jsonl").is_file()
    )


def load_extras(run_dir: Path) -> RunExtras:
    frame, note = read_metrics(run_dir)
    return RunExtras(
        charts=charts(frame),
        evals=eval_views(run_dir),
        metrics_note=note,
    )


def top_failures(failures: Sequence[FailureCount], limit: int = 3) -> str:
    """The most frequent categories, e.g. `reasoning error 12 · truncated 3`."""
    ranked = sorted((f for f in failures if f.count), key=lambda f: -f.count)[:limit]
    return " · ".join(f"{f.category} {f.count}" for f in ranked)
