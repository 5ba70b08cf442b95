"""The one long-form metrics table every ingest source produces (DESIGN.md, "The metrics table").

Each HF/TRL `on_log` dict becomes one row per numeric key. Split and canonical metric name
are inferred from the key alone, because HF log entries carry no type field: `eval_*` and
`eval/*` are evaluation, everything else (including the final `train_*` summary) is train.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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

_Row = dict[str, Any]


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def canonical(key: str) -> tuple[str, str] | None:
    """(split, metric) for one log key, or None when the key is a position, not a metric."""
    split = "train"
    name = key
    for prefix in ("eval_", "eval/"):
        if key.startswith(prefix):
            split, name = "eval", key[len(prefix) :]
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


def frame_from_logs(
    logs: list[Any], *, source: str, run_id: str = ""
) -> tuple[pl.DataFrame, set[int]] | None:
    """`rows_from_log` over every dict of `logs`, built column-wise; also the indices of the
    entries that produced at least one row.

    A 2,000-entry history takes ~25 ms row by row and ~3 ms here, which is what makes
    importing a thousand runs bounded by JSON parsing rather than by Python loops. Returns
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
        return empty_frame(), set()
    metrics = {
        key: names
        for key, names in ((k, canonical(k)) for k in columns if kinds[k] == "number")
        if names is not None
    }
    epoch = columns.get("epoch") if kinds.get("epoch") == "number" else None
    wide = pl.DataFrame(
        {
            "_entry": range(n),
            "_step": float_series(columns[step_key]),
            "_epoch": float_series(epoch if epoch is not None else [None] * n),
            **{key: float_series(columns[key]) for key in metrics},
        }
    )
    if not metrics:
        return empty_frame(), set()
    step = pl.col("_step")
    keys = list(metrics)
    order = {names: rank for rank, names in enumerate(sorted(set(metrics.values())))}

    def per_key(values: list[Any], dtype: type[pl.DataType]) -> pl.Expr:
        # A small lookup table indexed by the key's position in `keys`: integer gathers instead
        # of string replaces and string sorts, which were most of the time on long histories.
        return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col("_k"))

    # One lazy query, collected once: each eager polars call has a fixed cost of about 1 ms.
    long = (
        wide.lazy()
        .filter(step.is_finite() & (step >= 0) & (step < _MAX_STEP))
        .with_columns(pl.col("_step").cast(pl.Int64))
        .unpivot(index=["_entry", "_step", "_epoch"], on=keys, variable_name="key")
        .drop_nulls("value")
        .with_columns(pl.col("key").cast(pl.Enum(keys)).to_physical().alias("_k"))
        .with_columns(per_key([order[metrics[k]] for k in keys], pl.Int32).alias("_rank"))
    )
    # Same result as finalize() on rows_from_log output: in log order (entry, then key), the
    # last write wins per (step, split, metric); sorted by step, split, metric.
    last = (pl.col("_step") != pl.col("_step").shift(-1)) | (
        pl.col("_rank") != pl.col("_rank").shift(-1)
    )
    table = (
        long.sort(["_step", "_rank", "_entry", "_k"])
        .filter(last.fill_null(True))
        .select(
            pl.lit(run_id, dtype=pl.String).alias("run_id"),
            pl.lit(source, dtype=pl.String).alias("source"),
            pl.col("_step").alias("step"),
            pl.when(pl.col("_epoch").is_finite()).then(pl.col("_epoch")).alias("epoch"),
            per_key([metrics[k][0] for k in keys], pl.String).alias("split"),
            per_key([metrics[k][1] for k in keys], pl.String).alias("metric"),
            pl.col("value"),
            pl.lit(None, dtype=pl.Float64).alias("wall_time"),
        )
    )
    entries = long.select(pl.col("_entry").unique())
    frame, used = pl.collect_all([table, entries])
    return frame, set(used.get_column("_entry").to_list())
