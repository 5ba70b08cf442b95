"""Every metric series a run logged, grouped into chart panels, the most useful first.

The run view draws these panels (a grid, paged and filterable); nothing else decides which
series a run has or in which order they are worth looking at. Pure polars, no I/O.

Grouping:
- train and evaluation rows of the same metric share a panel (train loss beside eval loss);
  a metric logged under a prefix (W&B's `test/accuracy`, kept as a `train` row named
  `test/accuracy` by ingest) joins the panel of its bare name as the series `test`;
- system rows (`split = system`) get their own panels, plotted against seconds since the
  start when every row has a wall time (W&B samples them on a clock, not per step); one
  field of several GPUs (`gpu.0.gpu`, `gpu.1.gpu`) shares a panel, one series per GPU;
- a panel whose every series has at most one finite value is a `final value`, not a chart
  (the trainer's closing `train_runtime`, `total_flos`), listed beside the charts; so is a
  one-value series of a throughput/runtime panel (train_runtime beside eval_runtime), while
  a one-value task series (`test/accuracy`) stays a dot on its panel's chart;
- a panel with no finite value at all is left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import polars as pl

SYSTEM = "system"
_GPU = re.compile(r"^gpu\.(\d+)\.(.+)$")

# Lower ranks come first. A metric not named here ranks by its family (RANK_OTHER_*).
_TRAIN_RANKS: dict[str, int] = {
    "loss": 0,
    "accuracy": 10,
    "exact_match": 10,
    "mean_token_accuracy": 12,
    "reward": 13,
    "grad_norm": 20,
    "learning_rate": 30,
}
_TASK_WORDS = ("accuracy", "exact_match", "f1", "reward", "score")
_BOOKKEEPING = frozenset(
    {
        "runtime_s",
        "samples_per_second",
        "steps_per_second",
        "tokens_per_second",
        "total_flos",
        "train_loss_avg",
        "num_tokens",
        "num_input_tokens_seen",
    }
)
_SYSTEM_RANKS: dict[str, int] = {
    "gpu.gpu": 100,
    "gpu.memoryAllocated": 101,
    "gpu.memoryAllocatedBytes": 102,
    "cpu": 110,
    "memory_percent": 111,
    "proc.memory.rssMB": 112,
}
RANK_OTHER_TRAIN = 40
RANK_TASK = 15
RANK_BOOKKEEPING = 60
RANK_OTHER_SYSTEM = 120


@dataclass(frozen=True)
class MetricSeries:
    """One logged series: `name` is how the run view and a filter know it (`eval/loss`)."""

    name: str
    label: str  # its name inside its panel: `train`, `eval`, `test`, `gpu.1`, …
    points: tuple[tuple[float, float], ...]  # (x, value) sorted by x; NaN/±inf kept

    @property
    def finite(self) -> int:
        return sum(1 for _, y in self.points if math.isfinite(y))

    @property
    def last(self) -> float | None:
        """The last finite value: what the legend and the final-values list show."""
        return next((y for _, y in reversed(self.points) if math.isfinite(y)), None)


@dataclass(frozen=True)
class MetricPanel:
    title: str  # `loss`, `accuracy`, `system/gpu.gpu`
    group: str  # `train` (train and evaluation metrics) or `system`
    x_label: str  # `step` or `seconds`
    series: tuple[MetricSeries, ...]
    rank: int

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.series)

    def matches(self, pattern: re.Pattern[str]) -> bool:
        """A filter keeps the panel when its title or any series name matches."""
        return any(pattern.search(text) for text in (self.title, *self.names))


@dataclass(frozen=True)
class RunSeries:
    panels: tuple[MetricPanel, ...]  # charts, the most useful first
    finals: tuple[MetricSeries, ...]  # series logged once (or with one finite value)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for panel in self.panels for name in panel.names)


def _train_rank(metric: str) -> int:
    if metric in _TRAIN_RANKS:
        return _TRAIN_RANKS[metric]
    if metric in _BOOKKEEPING:
        return RANK_BOOKKEEPING
    if any(word in metric for word in _TASK_WORDS):
        return RANK_TASK
    return RANK_OTHER_TRAIN


def _place(split: str, metric: str) -> tuple[str, str, str, str]:
    """(panel title, panel group, series label, series name) of one (split, metric)."""
    if split == SYSTEM:
        gpu = _GPU.match(metric)
        if gpu:
            return f"system/gpu.{gpu.group(2)}", SYSTEM, f"gpu.{gpu.group(1)}", f"system/{metric}"
        return f"system/{metric}", SYSTEM, SYSTEM, f"system/{metric}"
    if split == "train" and "/" in metric:
        prefix, bare = metric.split("/", 1)
        return bare, "train", prefix, metric
    return metric, "train", split, f"{split}/{metric}"


def _split_order(label: str) -> tuple[int, str]:
    return ({"train": 0, "eval": 1, "test": 2}.get(label, 3), label)


def run_series(frame: pl.DataFrame) -> RunSeries:
    """The run's panels and final values from its metric rows (RunAnalysis.frame)."""
    if frame.height == 0:
        return RunSeries((), ())
    system_by_time = (
        frame.filter(pl.col("split") == SYSTEM).get_column("wall_time").null_count() == 0
    )
    grouped = (
        frame.sort("step")
        .group_by("split", "metric", maintain_order=True)
        .agg(pl.col("step"), pl.col("wall_time"), pl.col("value"))
    )
    panels: dict[str, tuple[str, str, list[MetricSeries]]] = {}
    for split, metric, steps, walls, values in grouped.iter_rows():
        title, group, label, name = _place(split, metric)
        by_time = group == SYSTEM and system_by_time
        xs = walls if by_time else steps
        order = sorted(range(len(xs)), key=lambda i: xs[i]) if by_time else range(len(xs))
        points = tuple((float(xs[i]), float(values[i])) for i in order if values[i] is not None)
        x_label = "seconds" if by_time else "step"
        panels.setdefault(title, (group, x_label, []))[2].append(MetricSeries(name, label, points))
    charts: list[MetricPanel] = []
    finals: list[MetricSeries] = []
    for title, (group, x_label, members) in panels.items():
        members.sort(key=lambda s: _split_order(s.label))
        bare = title.removeprefix("system/")
        rank = _SYSTEM_RANKS.get(bare, RANK_OTHER_SYSTEM) if group == SYSTEM else _train_rank(title)
        if rank >= RANK_BOOKKEEPING and group != SYSTEM:
            # A closing figure (the whole run's train_runtime) is no point on the curve of the
            # per-evaluation ones: listed on its own.
            finals.extend(s for s in members if s.finite == 1)
            members = [s for s in members if s.finite != 1]
        kept = [s for s in members if s.finite]
        if not kept:
            continue  # nothing to draw: no panel
        if max(s.finite for s in kept) <= 1:
            finals.extend(kept)
            continue
        charts.append(MetricPanel(title, group, x_label, tuple(members), rank))
    charts.sort(key=lambda p: (p.rank, p.title))
    finals.sort(key=lambda s: s.name)
    return RunSeries(tuple(charts), tuple(finals))
