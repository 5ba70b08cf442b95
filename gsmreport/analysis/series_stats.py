"""First, min, max and final of every logged series, in one pass over the metrics table.

The one place a series' end points are decided: the report's training table, its "All logged
series" table, the throughput figures, the task metrics and the headline that `runs`, the TUI
and the gates show all read them from here, so no two surfaces can disagree about a run's
final loss. One grouped query serves them all: every polars query costs ~0.1–0.3 ms of
planning whatever the table's size, which is most of summarising a run at import.

Non-finite values (NaN, ±inf) are counted but left out of first/min/max/final; a series whose
values are all non-finite has no points at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Point:
    value: float
    step: int


@dataclass(frozen=True)
class SeriesStats:
    split: str
    metric: str
    count: int  # rows, non-finite included
    non_finite: int
    first: Point | None  # None when no value is finite
    min: Point | None  # the earliest step on a tie
    max: Point | None  # the earliest step on a tie
    final: Point | None
    last_step: int = 0  # the highest step of any row, non-finite values included

    @property
    def finite(self) -> int:
        return self.count - self.non_finite


SeriesIndex = Mapping[tuple[str, str], SeriesStats]
_SPLIT_ORDER = {"eval": 0, "test": 1, "train": 2, "system": 3}


def all_series(frame: pl.DataFrame) -> tuple[SeriesStats, ...]:
    """Every (split, metric) of the table, eval/test first, then train, then system."""
    if frame.height == 0:
        return ()
    steps = frame.get_column("step")
    if not steps.is_sorted():  # the stored table is sorted by step; a hand-built one may not be
        frame = frame.sort("step", maintain_order=True)
    # Non-finite values become nulls once, so each aggregation skips them by itself
    # (~0.4 ms less than filtering inside every aggregation, for a 12,000-row run).
    value, step = pl.col("value"), pl.col("step")
    finite_step = step.filter(value.is_not_null())
    grouped = (
        frame.lazy()
        .select("split", "metric", "step", pl.when(value.is_finite()).then(value).alias("value"))
        .group_by("split", "metric")
        .agg(
            pl.len().alias("count"),
            value.null_count().alias("non_finite"),
            value.drop_nulls().first().alias("first"),
            finite_step.first().alias("first_step"),
            value.min().alias("min"),
            step.get(value.arg_min()).alias("min_step"),  # arg_min: the earliest on a tie
            value.max().alias("max"),
            step.get(value.arg_max()).alias("max_step"),
            value.drop_nulls().last().alias("final"),
            finite_step.last().alias("final_step"),
            step.max().alias("last_step"),
        )
        .collect()
    )
    out = [
        SeriesStats(
            split=split,
            metric=metric,
            count=count,
            non_finite=non_finite,
            first=_point(first, first_step),
            min=_point(low, low_step),
            max=_point(high, high_step),
            final=_point(final, final_step),
            last_step=int(last_step),
        )
        for (
            split,
            metric,
            count,
            non_finite,
            first,
            first_step,
            low,
            low_step,
            high,
            high_step,
            final,
            final_step,
            last_step,
        ) in grouped.iter_rows()
    ]
    return tuple(sorted(out, key=lambda s: (_SPLIT_ORDER.get(s.split, 4), s.split, s.metric)))


def index_series(series: Iterable[SeriesStats]) -> dict[tuple[str, str], SeriesStats]:
    return {(s.split, s.metric): s for s in series}


def series_index(frame: pl.DataFrame) -> dict[tuple[str, str], SeriesStats]:
    """`all_series` by (split, metric)."""
    return index_series(all_series(frame))


def final_point(index: SeriesIndex, split: str, metric: str) -> Point | None:
    """The last finite value of one series, with its step; None when it has none."""
    stat = index.get((split, metric))
    return stat.final if stat is not None else None


def _point(value: float | None, step: int | None) -> Point | None:
    return None if value is None or step is None else Point(float(value), int(step))
