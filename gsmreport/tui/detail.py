"""The heavier half of the run screen, read in a worker: curves, evaluations, failures.

No Textual import, nothing written. Everything comes from the run's one analysis
(pipeline.analyse → RunAnalysis), the object the report and `gsmreport show` read, so the
screen and the report cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from gsmreport.pipeline import FailureCount, FilterScore, RunAnalysis

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
    latest: bool = False  # the evaluation the run's headline exact match comes from


@dataclass(frozen=True)
class RunExtras:
    charts: tuple[Chart, ...]
    evals: tuple[EvalView, ...] = field(default_factory=tuple)
    metrics_note: str = ""  # why there are no curves, when there are none


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


def extras(analysis: RunAnalysis) -> RunExtras:
    """The curves and evaluations of a run's analysis, shaped for the run screen."""
    latest = analysis.latest
    views = tuple(
        EvalView(
            s.summary.eval_id,
            s.summary.scores,
            s.n_rows,
            s.failures,
            latest=latest is not None and s.folder == latest.folder,
        )
        for s in analysis.evaluations
    )
    frame = analysis.frame
    note = "" if frame.height else "no metric rows: no metrics.parquet or training log yet"
    return RunExtras(charts=charts(frame if frame.height else None), evals=views, metrics_note=note)


def top_failures(failures: Sequence[FailureCount], limit: int = 3) -> str:
    """The most frequent categories, e.g. `reasoning error 12 · truncated 3`."""
    ranked = sorted((f for f in failures if f.count), key=lambda f: -f.count)[:limit]
    return " · ".join(f"{f.category} {f.count}" for f in ranked)
