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


def _number(value: Any) -> float | None:
    # bool is an int subclass; a flag such as `is_world_process_zero` is not a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _optional_float(value: Any) -> float | None:
    number = _number(value)
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
    step_value = _number(raw_step)
    if step_value is None or not math.isfinite(step_value):
        return []
    epoch_value = epoch if epoch is not None else _optional_float(log.get("epoch"))
    rows: list[_Row] = []
    for key, raw in log.items():
        names = canonical(key)
        value = _number(raw)
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
    frame = frame.cast(SCHEMA)  # type: ignore[arg-type]
    deduped = frame.unique(subset=list(KEY), keep="last", maintain_order=True)
    return deduped.sort(["run_id", "source", "step", "split", "metric"])


def frame_from_rows(rows: list[_Row]) -> pl.DataFrame:
    if not rows:
        return empty_frame()
    return finalize(pl.DataFrame(rows, schema=SCHEMA))
