"""analysis/series_stats.py: each series' count, first, min, max and final, computed once.

The statistics are computed in numpy over rows grouped by series; the grouping comes either
from the table (a polars rank) or from the importer's build (`SeriesLayout`). Both must give
what a plain polars grouped query over the table gives: that query, kept here as the oracle,
is how the statistics were computed before.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from gsmreport.analysis.series_stats import Point, SeriesStats, all_series
from gsmreport.ingest.numeric_logs import frame_from_numeric_logs
from gsmreport.ingest.schema import SCHEMA, SeriesLayout, frame_from_logs
from tests.conftest import shared_data

_ORDER = {"eval": 0, "test": 1, "train": 2, "system": 3}


def _oracle(frame: pl.DataFrame) -> tuple[SeriesStats, ...]:
    """The statistics by one polars grouped query (non-finite values left out)."""
    if frame.height == 0:
        return ()
    frame = frame.sort("step", maintain_order=True)
    value, step = pl.col("value"), pl.col("step")
    grouped = (
        frame.lazy()
        .select("split", "metric", "step", pl.when(value.is_finite()).then(value).alias("value"))
        .group_by("split", "metric")
        .agg(
            pl.len().alias("count"),
            value.null_count().alias("non_finite"),
            value.drop_nulls().first().alias("first"),
            step.filter(value.is_not_null()).first().alias("first_step"),
            value.min().alias("min"),
            step.get(value.arg_min()).alias("min_step"),
            value.max().alias("max"),
            step.get(value.arg_max()).alias("max_step"),
            value.drop_nulls().last().alias("final"),
            step.filter(value.is_not_null()).last().alias("final_step"),
            step.max().alias("last_step"),
        )
        .collect()
    )

    def point(v: float | None, s: int | None) -> Point | None:
        return None if v is None or s is None else Point(float(v), int(s))

    out = [
        SeriesStats(
            r["split"],
            r["metric"],
            r["count"],
            r["non_finite"],
            point(r["first"], r["first_step"]),
            point(r["min"], r["min_step"]),
            point(r["max"], r["max_step"]),
            point(r["final"], r["final_step"]),
            r["last_step"],
        )
        for r in grouped.iter_rows(named=True)
    ]
    return tuple(sorted(out, key=lambda s: (_ORDER.get(s.split, 4), s.split, s.metric)))


def _table(rows: list[tuple[int, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"run_id": "r", "source": "t", "step": step, "epoch": None, "split": split}
            | {"metric": metric, "value": value, "wall_time": None}
            for step, split, metric, value in rows
        ],
        schema=SCHEMA,
    )


def test_ends_ties_and_non_finite_values() -> None:
    frame = _table(
        [
            (1, "train", "loss", math.nan),
            (2, "train", "loss", 2.0),
            (3, "train", "loss", 1.0),
            (4, "train", "loss", 1.0),  # a tie: the earliest step is the minimum's
            (5, "train", "loss", math.inf),
            (5, "eval", "loss", 3.0),
            (6, "train", "grad_norm", None),  # a null: counted as non-finite
            (7, "train", "grad_norm", math.nan),
        ]
    )
    stats = {(s.split, s.metric): s for s in all_series(frame)}
    loss = stats["train", "loss"]
    assert (loss.count, loss.non_finite, loss.last_step) == (5, 2, 5)
    assert loss.first == Point(2.0, 2) and loss.final == Point(1.0, 4)
    assert loss.min == Point(1.0, 3) and loss.max == Point(2.0, 2)
    norm = stats["train", "grad_norm"]
    assert (norm.count, norm.non_finite, norm.first, norm.last_step) == (2, 2, None, 7)
    assert (all_series(frame)[0].split, all_series(frame)[0].metric) == ("eval", "loss")
    assert all_series(frame) == _oracle(frame)


def test_unsorted_table_is_read_in_step_order() -> None:
    frame = _table([(3, "train", "loss", 1.0), (1, "train", "loss", 3.0), (2, "eval", "x", 0.5)])
    assert all_series(frame) == _oracle(frame)
    assert all_series(frame)[1].first == Point(3.0, 1)


_finite_or_not = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0]),  # ties, and the two zeros
)
_keys = st.sampled_from(["step", "epoch", "loss", "eval_loss", "lr", "grad_norm", "train_loss"])


def _agrees(history: list[dict[str, Any]]) -> None:
    for build in (frame_from_numeric_logs, frame_from_logs):
        built = build(history, source="trainer_state")
        if built is None:
            continue
        expected = _oracle(built.frame)
        assert all_series(built.frame) == expected
        if built.layout is not None:  # the importer's path: the build's own grouping
            assert all_series(built.frame, built.layout) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(_keys, _finite_or_not, max_size=6), min_size=1, max_size=40))
def test_any_history_gives_the_grouped_querys_statistics(history: list[dict[str, Any]]) -> None:
    _agrees(history)


def test_real_history_with_its_layout() -> None:
    import json

    name = "Dheena731+tinyLlama-finetune__trainer_state.json"
    history = json.loads(shared_data("real-logs", "trainer_state", name).read_text())["log_history"]
    built = frame_from_numeric_logs(history, source="trainer_state")
    assert built is not None and built.layout is not None
    assert len(built.layout.names) > 3
    assert all_series(built.frame, built.layout) == _oracle(built.frame)


def test_a_layout_that_does_not_fit_the_table_is_not_used() -> None:
    """A stale layout (rows added, or rows of another table) must not give wrong figures."""
    frame = _table([(1, "train", "loss", 2.0), (2, "train", "loss", 1.0), (2, "eval", "loss", 3.0)])
    truth = _oracle(frame)
    swapped = SeriesLayout((("eval", "loss"), ("train", "loss")), np.array([0, 0, 1]))
    short = SeriesLayout((("eval", "loss"), ("train", "loss")), np.array([1, 1]))
    assert all_series(frame, swapped) == truth
    assert all_series(frame, short) == truth


def test_trainer_state_reader_hands_the_importer_a_layout_that_fits(tmp_path: Path) -> None:
    """The importer's headline groups by the reader's layout: it must describe the very
    table the reader returns (and so what metrics.parquet holds)."""
    from gsmreport.ingest import trainer_state
    from tests.run_fixtures import write_trainer_state

    write_trainer_state(tmp_path / "out")
    data = trainer_state.read(tmp_path / "out")
    assert data.layout is not None
    assert len(data.layout.codes) == data.frame.height
    rows = data.frame.select("split", "metric").rows()
    assert rows == [data.layout.names[code] for code in data.layout.codes.tolist()]
    assert all_series(data.frame, data.layout) == _oracle(data.frame)


def test_a_row_without_a_step_is_left_out() -> None:
    frame = _table([(1, "train", "loss", 2.0), (2, "train", "loss", 1.0)])
    with_null = pl.concat(
        [frame, frame.head(1).with_columns(pl.lit(None).cast(pl.Int64).alias("step"))]
    )
    assert all_series(with_null) == all_series(frame)
    assert (
        all_series(with_null.head(1).with_columns(pl.lit(None).cast(pl.Int64).alias("step"))) == ()
    )
