"""The heavier half of the run screen, read in a worker: every series, evaluations, failures.

No Textual import, nothing written. Everything comes from the run's one analysis
(pipeline.analyse → RunAnalysis), the object the report and `gsmreport show` read, so the
screen and the report cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gsmreport.core.fmt import sig

if TYPE_CHECKING:
    from gsmreport.pipeline import FailureCount, FilterScore, RunAnalysis, RunSeries

Points = list[tuple[float, float]]


@dataclass(frozen=True)
class PanelView:
    """One chart of the run view's grid: a panel of the analysis (analysis/series.py)."""

    title: str
    x_label: str
    series: dict[str, Points]  # label in the legend -> (x, value)
    names: tuple[str, ...]  # full series names (`eval/loss`), what a filter matches

    def matches(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(text) for text in (self.title, *self.names))


@dataclass(frozen=True)
class EvalView:
    eval_id: str
    scores: tuple[FilterScore, ...]
    n_samples: int  # rows in samples.jsonl (0: only results.json)
    failures: tuple[FailureCount, ...] = ()  # empty without samples.jsonl
    latest: bool = False  # the evaluation the run's headline exact match comes from


@dataclass(frozen=True)
class RunExtras:
    evals: tuple[EvalView, ...] = field(default_factory=tuple)
    metrics_note: str = ""  # why there are no curves, when there are none
    panels: tuple[PanelView, ...] = ()  # every logged series, the most useful first
    finals: tuple[tuple[str, float], ...] = ()  # series logged once: (name, value)


def panel_views(found: RunSeries) -> tuple[tuple[PanelView, ...], tuple[tuple[str, float], ...]]:
    """The analysis' panels and final values, shaped for the grid (no figure computed here)."""
    panels = tuple(
        PanelView(
            p.title,
            p.x_label,
            {s.label: list(s.points) for s in p.series},
            p.names,
        )
        for p in found.panels
    )
    finals = tuple((s.name, s.last) for s in found.finals if s.last is not None)
    return panels, finals


def eval_views(analysis: RunAnalysis) -> tuple[EvalView, ...]:
    latest = analysis.latest
    return tuple(
        EvalView(
            s.summary.eval_id,
            s.summary.scores,
            s.n_rows,
            s.failures,
            latest=latest is not None and s.folder == latest.folder,
        )
        for s in analysis.evaluations
    )


def extras(analysis: RunAnalysis, evals: tuple[EvalView, ...] | None = None) -> RunExtras:
    """The curves and evaluations of a run's analysis, shaped for the run screen.

    `evals`: the evaluations as last read, when none of their files changed since; a live run
    then re-reads only its metric rows, not every sample of every evaluation."""
    views = eval_views(analysis) if evals is None else evals
    frame = analysis.frame
    panels, finals = panel_views(analysis.panels)
    if not frame.height:
        note = "no metric rows: no metrics.parquet or training log yet"
        if views:
            note = "no training curves: this run holds evaluations only (below)"
    else:
        note = "" if panels else "no series with two or more values to draw"
    return RunExtras(
        evals=views,
        metrics_note=note,
        panels=panels,
        finals=finals,
    )


def task_cards(analysis: RunAnalysis, limit: int = 2) -> tuple[tuple[str, str], ...]:
    """The run's own task metrics (analysis.task_metrics) as (card title, value): the final
    value, and the best with its step where the metric has a direction."""
    cards = []
    for m in analysis.task_metrics[:limit]:
        value = sig(m.final.value, 4)
        if m.best is not None and m.best.step != m.final.step:
            value += f" (best {sig(m.best.value, 4)} @ {m.best.step})"
        cards.append((f"{m.split}/{m.metric}, final", value))
    return tuple(cards)


def kind_line(analysis: RunAnalysis) -> str:
    kind = analysis.run_kind
    return f"{kind.label} — {'; '.join(kind.evidence)}" if kind.evidence else kind.label


def top_failures(failures: Sequence[FailureCount], limit: int = 3) -> str:
    """The most frequent categories, e.g. `reasoning error 12 · truncated 3`."""
    ranked = sorted((f for f in failures if f.count), key=lambda f: -f.count)[:limit]
    return " · ".join(f"{f.category} {f.count}" for f in ranked)
