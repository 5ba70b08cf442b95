"""First, min, max and final of every logged series, in one pass over the metrics table.

The one place a series' end points are decided: the report's training table, its "All logged
series" table, the throughput figures, the task metrics and the headline that `runs`, the TUI
and the gates show all read them from here, so no two surfaces can disagree about a run's
final loss. One vectorised numpy pass serves them all, over the rows grouped by series: a
polars query costs ~0.1–0.3 ms of planning whatever the table's size, and at import, where
the numpy build already knows each row's series (`SeriesLayout`), even the grouping is free.

Non-finite values (NaN, ±inf) are counted but left out of first/min/max/final; a series whose
values are all non-finite has no points at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import polars as pl

from gsmreport.ingest.schema import SeriesLayout


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


def all_series(frame: pl.DataFrame, layout: SeriesLayout | None = None) -> tuple[SeriesStats, ...]:
    """Every (split, metric) of the table, eval/test first, then train, then system.

    `layout`: which series each row belongs to, when the caller built the table and knows
    (the importer: its numpy build has the codes at hand); else read from the table."""
    if frame.height == 0:
        return ()
    steps = frame.get_column("step")
    if steps.null_count():  # a row without a step sits on no curve (none is stored so)
        frame, layout = frame.filter(pl.col("step").is_not_null()), None
        if frame.height == 0:
            return ()
    if not frame.get_column("step").is_sorted():  # stored tables are; a hand-built may not be
        frame = frame.sort("step", maintain_order=True)
        layout = None  # its codes follow the unsorted rows
    groups = (_by_layout(frame, layout) if layout is not None else None) or _by_table(frame)
    step = frame.get_column("step").cast(pl.Int64).to_numpy()[groups.order]
    value = frame.get_column("value").cast(pl.Float64).to_numpy()[groups.order]  # null: NaN
    return _sorted(_stats(groups.names, groups.starts, step, value))


class _Groups(NamedTuple):
    names: list[tuple[str, str]]  # each series' (split, metric), read from the table
    order: np.ndarray  # the rows, grouped by series, in step order within each
    starts: np.ndarray  # where each series' rows start in `order`
    codes: list[int]  # each series' code


def _by_table(frame: pl.DataFrame) -> _Groups:
    """Each row's series as the rank of its (split, metric) among the table's pairs."""
    ranks = frame.select(pl.struct("split", "metric").rank("dense")).to_series()
    return _group(frame, ranks.to_numpy())


def _by_layout(frame: pl.DataFrame, layout: SeriesLayout) -> _Groups | None:
    """The grouping the table's builder gave; None when it does not fit the table: another
    row count, or a series whose first row holds other names (a stale layout)."""
    if len(layout.codes) != frame.height:
        return None
    groups = _group(frame, layout.codes)
    if groups.codes[0] < 0 or groups.codes[-1] >= len(layout.names):
        return None
    return groups if groups.names == [layout.names[c] for c in groups.codes] else None


def _group(frame: pl.DataFrame, codes: np.ndarray) -> _Groups:
    # A stable sort keeps step order within each series; on 16-bit codes numpy sorts by
    # radix, ~3x faster than on int64.
    narrow = codes.astype(np.int16) if int(codes.max()) < 2**15 else codes
    order = np.argsort(narrow, kind="stable")
    code = codes[order]
    starts = np.flatnonzero(np.append(True, code[1:] != code[:-1]))
    split, metric = frame.get_column("split"), frame.get_column("metric")
    names = [(split[row], metric[row]) for row in order[starts].tolist()]
    return _Groups(names, order, starts, code[starts].tolist())


def _stats(
    names: list[tuple[str, str]], starts: np.ndarray, step: np.ndarray, value: np.ndarray
) -> list[SeriesStats]:
    """The statistics of every series from its rows, grouped by series (each group from
    `starts` on) and in step order within it. Vectorised over the series: a polars grouped
    query costs ~1 ms of planning and aggregating per run, this ~0.1 ms."""
    ends = np.append(starts[1:], len(step))
    count = ends - starts
    last_step = np.maximum.reduceat(step, starts)
    finite = np.isfinite(value)
    finite_count = np.add.reduceat(finite, starts)
    fstep, fvalue = step[finite], value[finite]
    # Per series, the index range of its finite rows (empty where it has none).
    hi = np.cumsum(finite_count)
    lo = hi - finite_count
    has = finite_count > 0
    at_min = _first_at(fvalue, lo, hi, has, np.minimum)
    at_max = _first_at(fvalue, lo, hi, has, np.maximum)
    # Each series' four points (first, min, max, final) gathered in one go: indexing numpy
    # element by element costs more than all the arithmetic above. A series without finite
    # values gets none (its clipped indices are never read).
    at = np.stack([lo, at_min, at_max, hi - 1], axis=1).clip(0, max(len(fvalue) - 1, 0))
    nothing = [[0.0] * 4] * len(names)
    values = fvalue[at].tolist() if len(fvalue) else nothing
    steps = fstep[at].tolist() if len(fvalue) else nothing
    out = []
    for (split, metric), n, n_finite, last, vs, ss in zip(
        names, count.tolist(), finite_count.tolist(), last_step.tolist(), values, steps, strict=True
    ):
        first, low, high, final = (
            (Point(v, int(s)) for v, s in zip(vs, ss, strict=True))
            if n_finite
            else (None, None, None, None)
        )
        out.append(SeriesStats(split, metric, n, n - n_finite, first, low, high, final, last))
    return out


def _first_at(
    value: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    has: np.ndarray,
    extreme: np.ufunc,
) -> np.ndarray:
    """Per series, the index of the first row (earliest step) holding its extreme value."""
    out = np.zeros(len(lo), dtype=np.int64)
    if not has.any():
        return out
    starts = lo[has]
    best = extreme.reduceat(value, starts)
    per_row = np.repeat(best, hi[has] - starts)  # finite rows are contiguous per series
    hits = np.flatnonzero(value == per_row)
    out[has] = hits[np.searchsorted(hits, starts)]
    return out


def _sorted(stats: list[SeriesStats]) -> tuple[SeriesStats, ...]:
    return tuple(sorted(stats, key=lambda s: (_SPLIT_ORDER.get(s.split, 4), s.split, s.metric)))


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
