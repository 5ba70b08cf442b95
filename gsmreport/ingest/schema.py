"""The one long-form metrics table every ingest source produces (DESIGN.md, "The metrics table").

Each HF/TRL `on_log` dict becomes one row per numeric key. Split and canonical metric name
are inferred from the key alone, because HF log entries carry no type field: `eval_*` and
`eval/*` are evaluation, `test_*` and `test/*` (HF's `trainer.predict` / `evaluate(
metric_key_prefix="test")`, W&B's `test/accuracy`) are the test split, everything else
(including the final `train_*` summary) is train.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import polars as pl

SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "source": pl.String(),
    "step": pl.Int64(),
    "epoch": pl.Float64(),
    "split": pl.String(),
    "metric": pl.String(),
    "value": pl.Float64(),
    "wall_time": pl.Float64(),
}
KEY = ("run_id", "source", "step", "split", "metric")

# Keys that describe *where* a row sits rather than *what* was measured.
_POSITION_KEYS = frozenset({"step", "epoch", "global_step", "_step", "_runtime", "_timestamp"})

# Applied after the split prefix is removed. The `train_*` names only occur in HF's final
# summary entry, whose `train_loss` is the run average, hence a name distinct from `loss`.
_ALIASES = {
    "train_loss": "train_loss_avg",
    "train_runtime": "runtime_s",
    "train_samples_per_second": "samples_per_second",
    "train_steps_per_second": "steps_per_second",
    "train_tokens_per_second": "tokens_per_second",
    "runtime": "runtime_s",
    "lr": "learning_rate",
}

# Key prefixes that name a split; anything else is train.
_SPLIT_PREFIXES = (("eval_", "eval"), ("eval/", "eval"), ("test_", "test"), ("test/", "test"))

_Row = dict[str, Any]


@dataclass(frozen=True)
class SeriesLayout:
    """Which series each row of a metrics table belongs to: row i is `names[codes[i]]`,
    a (split, metric) pair. The numpy build knows it for free; analysis.series_stats groups
    by it instead of asking polars to group the table again."""

    names: tuple[tuple[str, str], ...]
    codes: np.ndarray  # int64, one per row


class BuiltTable(NamedTuple):
    """A metrics table built from a log history, the indices of the entries that gave it
    rows, its layout when the build knows it, and the entries of each key shape (keys in
    order) when the build grouped them so."""

    frame: pl.DataFrame
    rows: set[int]
    layout: SeriesLayout | None = None
    shapes: dict[tuple[str, ...], list[int]] | None = None


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def canonical(key: str) -> tuple[str, str] | None:
    """(split, metric) for one log key, or None when the key is a position, not a metric."""
    split = "train"
    name = key
    for prefix, prefix_split in _SPLIT_PREFIXES:
        if key.startswith(prefix):
            split, name = prefix_split, key[len(prefix) :]
            break
    else:
        if key.startswith("train/"):
            name = key[len("train/") :]
    if name in _POSITION_KEYS or key in _POSITION_KEYS:
        return None
    return split, _ALIASES.get(name, name)


def json_number(value: Any) -> float | None:
    """A JSON number as a float (None for anything else). Every reader converts through here
    so that the same odd inputs give the same values."""
    # bool is an int subclass; a flag such as `is_world_process_zero` is not a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        # JSON allows integers of any size; one beyond float range (a corrupt or hand-edited
        # log) is an infinity as far as a float64 column can tell, kept like any other ±inf.
        return math.inf if value > 0 else -math.inf


def float_series(values: list[Any]) -> pl.Series:
    """A Float64 series of JSON numbers; ints beyond float range become ±inf, not an error."""
    try:
        return pl.Series(values, dtype=pl.Float64)
    except OverflowError:
        return pl.Series([json_number(v) for v in values], dtype=pl.Float64)


def _optional_float(value: Any) -> float | None:
    number = json_number(value)
    return number if number is not None and math.isfinite(number) else None


def rows_from_log(
    log: Mapping[str, Any],
    *,
    run_id: str,
    source: str,
    step: float | None = None,
    epoch: float | None = None,
    wall_time: float | None = None,
) -> list[_Row]:
    """One row per numeric metric in an HF log dict; NaN and ±inf are kept as values.

    `step`/`epoch` default to the dict's own (trainer_state entries carry them inline).
    Returns [] when no step is known, since a row without a step cannot be placed on a curve.
    """
    raw_step = step if step is not None else log.get("step", log.get("global_step"))
    step_value = json_number(raw_step)
    if step_value is None or not math.isfinite(step_value):
        return []
    epoch_value = epoch if epoch is not None else _optional_float(log.get("epoch"))
    rows: list[_Row] = []
    for key, raw in log.items():
        names = canonical(key)
        value = json_number(raw)
        if names is None or value is None:
            continue  # strings (e.g. a checkpoint path) and positions are not metrics
        rows.append(
            {
                "run_id": run_id,
                "source": source,
                "step": int(step_value),
                "epoch": epoch_value,
                "split": names[0],
                "metric": names[1],
                "value": value,
                "wall_time": wall_time,
            }
        )
    return rows


def finalize(frame: pl.DataFrame) -> pl.DataFrame:
    """Dedupe on (run_id, source, step, split, metric), last write wins, then sort.

    Resumed and multi-GPU runs log the same step more than once; the later line is the
    one the run continued from.
    """
    return _finalize_lazy(frame.lazy()).collect()


def _finalize_lazy(frame: pl.LazyFrame) -> pl.LazyFrame:
    return (
        frame.cast(SCHEMA)  # type: ignore[arg-type]
        .unique(subset=list(KEY), keep="last", maintain_order=True)
        .sort(["run_id", "source", "step", "split", "metric"])
    )


def checked_frame(rows: list[_Row], origin: object) -> pl.DataFrame:
    """frame_from_rows, or one SourceError line naming `origin` if a value does not fit."""
    from gsmreport.ingest.files import SourceError

    try:
        return frame_from_rows(rows)
    except pl.exceptions.PolarsError as exc:
        problem = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
        raise SourceError(f"{origin}: a value does not fit the metrics table ({problem})") from exc


def frame_from_rows(rows: list[_Row]) -> pl.DataFrame:
    if not rows:
        return empty_frame()
    return finalize(pl.DataFrame(rows, schema=SCHEMA))


_NUMBER_TYPES = frozenset({int, float, type(None)})
_MAX_STEP = 2.0**63  # the step column is Int64


def _column_kind(values: list[Any]) -> str:
    """'number' (ints/floats/None), 'other' (no number at all), or 'mixed'."""
    types = set(map(type, values))
    if types <= _NUMBER_TYPES:
        return "number"
    if not types & {int, float}:
        return "other"
    return "mixed"


def frame_from_logs(logs: list[Any], *, source: str, run_id: str = "") -> BuiltTable | None:
    """`rows_from_log` over every dict of `logs`, built column-wise; also the indices of the
    entries that produced at least one row.

    A 2,000-entry history takes ~25 ms row by row and ~4.5 ms here (1.2 ms of it the one
    Python pass that gathers the columns, 0.9 ms checking their types), against ~1.3 ms for
    orjson to parse the file. Returns
    None when the entries are irregular (a non-dict entry, a key holding numbers in some
    entries and strings in others): the caller then goes row by row, which handles them.
    """
    if not logs or not all(type(entry) is dict for entry in logs):
        return None
    n = len(logs)
    columns: dict[str, list[Any]] = {}
    for index, entry in enumerate(logs):  # one pass, entry by entry: ~3x faster than per key
        for key, value in entry.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [None] * n
            column[index] = value
    kinds = {key: _column_kind(values) for key, values in columns.items()}
    if "mixed" in kinds.values():
        return None
    step_key = "step" if "step" in columns else "global_step" if "global_step" in columns else None
    if step_key is None or kinds[step_key] != "number":
        return BuiltTable(empty_frame(), set())
    metrics = {
        key: names
        for key, names in ((k, canonical(k)) for k in columns if kinds[k] == "number")
        if names is not None
    }
    if not metrics:
        return BuiltTable(empty_frame(), set())
    epoch = columns.get("epoch") if kinds.get("epoch") == "number" else None
    return _long_table(columns, step_key, epoch, metrics, n, source=source, run_id=run_id)


def _long_table(
    columns: dict[str, list[Any]],
    step_key: str,
    epoch_column: list[Any] | None,
    metrics: dict[str, tuple[str, str]],
    n: int,
    *,
    source: str,
    run_id: str,
) -> BuiltTable:
    """The long table from number columns, in numpy: no per-value Python and one sort.

    np.nonzero over the (entry × key) presence matrix lists values entry by entry, key by key
    — log order — so a stable sort on (step, split/metric) keeps log order among duplicates
    and the last of each run of equal keys is the write that wins, as in finalize().
    """
    keys = list(metrics)
    wide = pl.DataFrame(
        {
            "_step": float_series(columns[step_key]),
            "_epoch": float_series(epoch_column or [None] * n),
            **{f"_{j}": float_series(columns[key]) for j, key in enumerate(keys)},
        }
    )
    return long_table_from_wide(
        wide,
        "_step",
        "_epoch",
        [(f"_{j}", metrics[key]) for j, key in enumerate(keys)],
        source=source,
        run_id=run_id,
    )


def _stable_order(step: np.ndarray, rank: np.ndarray, ranks: int) -> np.ndarray:
    """The stable sort order by (step, rank): one argsort of step * ranks + rank (5x faster
    than lexsort on 16,000 rows), lexsort where that product could overflow int64."""
    if len(step) and int(step.max()) < (2**62) // max(ranks, 1):
        return np.argsort(step * ranks + rank, kind="stable")
    return np.lexsort((rank, step))


def _presence(wide: pl.DataFrame, values: np.ndarray) -> np.ndarray:
    """Which cells hold a value. A null (key absent) is NaN in `values`, as is a logged NaN:
    when there are exactly as many NaNs as nulls, every NaN is an absent key and numpy can
    tell; only a history that logged NaNs pays for asking polars."""
    nan = np.isnan(values)
    if int(nan.sum()) == sum(wide.null_count().row(0)):
        return ~nan
    return wide.select(pl.all().is_not_null()).to_numpy()


def long_table_from_wide(
    wide: pl.DataFrame,
    step: str,
    epoch: str | None,
    metrics: list[tuple[str, tuple[str, str]]],
    *,
    source: str,
    run_id: str,
) -> BuiltTable:
    """The long table from an all-Float64 frame of one row per log entry, whose `step` and
    `epoch` columns place each entry and whose `metrics` columns, (column, (split, metric)) in
    log key order, hold the values; also the indices of the entries that produced a row."""
    column = {name: i for i, name in enumerate(wide.columns)}
    values = wide.to_numpy()
    return long_table_from_matrix(
        values,
        _presence(wide, values),
        column[step],
        column[epoch] if epoch is not None else None,
        [(column[name], pair) for name, pair in metrics],
        source=source,
        run_id=run_id,
    )


def long_table_from_matrix(
    values: np.ndarray,
    present_all: np.ndarray,
    step: int,
    epoch: int | None,
    metrics: list[tuple[int, tuple[str, str]]],
    *,
    source: str,
    run_id: str,
) -> BuiltTable:
    """`long_table_from_wide` on (entry × key) matrices of values and of presence, the keys
    given by column index.

    np.nonzero over the (entry × key) presence matrix lists values entry by entry, key by key
    — log order — so a stable sort on (step, split/metric) keeps log order among duplicates
    and the last of each run of equal keys is the write that wins, as in finalize(). Built
    with numpy and Series calls only: each polars DataFrame query costs a plan and a collect,
    which dominates for the small tables of a sweep's runs.
    """
    n = values.shape[0]
    names = sorted({pair for _, pair in metrics})  # (split, metric), in the table's sort order
    rank_of_key = np.array([names.index(pair) for _, pair in metrics], dtype=np.int64)
    metric_columns = [index for index, _ in metrics]
    steps = values[:, step]
    epochs = values[:, epoch] if epoch is not None else np.full(n, np.nan)
    matrix = values[:, metric_columns]
    with np.errstate(invalid="ignore"):
        placeable = present_all[:, step] & np.isfinite(steps) & (steps >= 0) & (steps < _MAX_STEP)
    present = present_all[:, metric_columns]
    entry, key_index = np.nonzero(present & placeable[:, None])
    step_of = steps[entry].astype(np.int64)
    rank = rank_of_key[key_index]
    order = _stable_order(step_of, rank, len(names))  # equal (step, rank) keep log order
    step_of, rank, entry, key_index = step_of[order], rank[order], entry[order], key_index[order]
    last = np.ones(len(step_of), dtype=bool)
    last[:-1] = (step_of[1:] != step_of[:-1]) | (rank[1:] != rank[:-1])
    codes = rank[last]
    kept = int(last.sum())
    epoch_of = epochs[entry[last]]
    epoch_of = np.where(np.isfinite(epoch_of), epoch_of, np.nan)  # ±inf and NaN: no epoch
    # Both name columns in one frame gather (a Series.gather goes through an expression:
    # ~2.5x slower on a small run's table), by uint32 row numbers (int64 ones are cast first).
    split, metric = pl.DataFrame(
        [
            pl.Series("split", [split for split, _ in names], dtype=pl.String),
            pl.Series("metric", [m for _, m in names], dtype=pl.String),
        ]
    )[pl.Series(codes.astype(np.uint32))]
    frame = pl.DataFrame(
        [
            pl.Series("run_id", [run_id], dtype=pl.String).new_from_index(0, kept),
            pl.Series("source", [source], dtype=pl.String).new_from_index(0, kept),
            pl.Series("step", step_of[last], dtype=pl.Int64),
            pl.Series("epoch", epoch_of, dtype=pl.Float64, nan_to_null=True),
            split,
            metric,
            pl.Series("value", matrix[entry[last], key_index[last]], dtype=pl.Float64),
            pl.Series("wall_time", [None], dtype=pl.Float64).new_from_index(0, kept),
        ]
    )
    used = np.zeros(n, dtype=bool)
    used[entry] = True
    layout = SeriesLayout(tuple(names), codes)
    return BuiltTable(frame, set(np.flatnonzero(used).tolist()), layout)
