"""Read a generic CSV/TSV or JSONL training log, given which column means what.

For logs no dedicated reader knows: a home-made CSV, a W&B table export, a JSONL some
script appended to. The user names the columns (`--map step=global_step,loss=train_loss`);
the targets `step`, `epoch` and `wall_time` place a row, any other target is a metric name
(`eval_loss` → split eval, metric loss, through the same `schema.canonical` as every log).
Numeric columns the mapping does not mention come along under their own names, so a CSV
with `step,loss,eval_loss` needs no mapping at all.

polars reads the file with its schema inferred over every row (a column that holds text
only at row 9,000 is still seen as text); a metric column holding some text is converted
value by value and the values that are not numbers are counted, never silently lost.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from gsmreport.core.errors import UsageError
from gsmreport.ingest.files import SourceError, read_text
from gsmreport.ingest.schema import SCHEMA, canonical, empty_frame, finalize, float_series
from gsmreport.ingest.source import SourceData

SOURCE: Final = "csv"
POSITIONS = ("step", "epoch", "wall_time")
PREDICTION_TARGETS = ("question", "gold", "response", "id", "prompt")  # = predictions.TARGETS
_MAX_SHOWN = 12
_MAX_STEP = 2.0**63  # the step column is Int64  # columns listed in an error before "…"


# --- the mapping ------------------------------------------------------------------------


def _check_target(target: str, part: str) -> None:
    if target in PREDICTION_TARGETS:
        return  # a predictions file's fields (ingest/predictions.py reads those)
    if target not in POSITIONS and canonical(target) is None:
        raise UsageError(
            f"--map: {part!r}: {target!r} is a position, not a metric; "
            f"the position targets are {', '.join(POSITIONS)}"
        )


def parse_mapping(spec: str) -> dict[str, str]:
    """`"step=global_step,loss=train_loss"` → {"step": "global_step", "loss": "train_loss"}.

    Target first, like an assignment: it reads as "our step is their global_step".
    """
    mapping: dict[str, str] = {}
    parts = [part.strip() for part in spec.split(",")]
    if not any(parts):
        raise UsageError("--map: empty mapping; expected TARGET=COLUMN[,TARGET=COLUMN…]")
    for part in parts:
        target, sep, column = (piece.strip() for piece in part.partition("="))
        if not sep or not target or not column:
            raise UsageError(
                f"--map: {part!r} is not TARGET=COLUMN (e.g. step=global_step,loss=train_loss)"
            )
        if target in mapping:
            raise UsageError(f"--map: target {target!r} is given twice ({part!r})")
        _check_target(target, part)
        mapping[target] = column
    return mapping


# --- reading the file -------------------------------------------------------------------


def _polars_problem(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "…"


def _read_csv(text: str, separator: str) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(text), separator=separator, infer_schema_length=None)


def _read_jsonl(text: str) -> pl.DataFrame:
    try:
        return pl.read_ndjson(io.StringIO(text), infer_schema_length=None)
    except pl.exceptions.PolarsError:
        # Python writes bare NaN/Infinity, which polars' JSON parser rejects; the stdlib
        # parser accepts them. A bad line is a bad file here: say which one.
        return _read_jsonl_stdlib(text)


def jsonl_records(text: str) -> list[dict[str, Any]]:
    """The objects of a JSON-lines text (blank lines skipped, bare NaN/Infinity accepted);
    ValueError naming the line for one that is not a JSON object."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: {exc.msg}") from exc
        except RecursionError as exc:
            raise ValueError(f"line {number}: nested too deeply") from exc
        if not isinstance(record, dict):
            raise ValueError(f"line {number}: a JSON {type(record).__name__}, not an object")
        records.append(record)
    return records


def _read_jsonl_stdlib(text: str) -> pl.DataFrame:
    records = jsonl_records(text)
    columns = dict.fromkeys(key for record in records for key in record)
    return pl.DataFrame({name: _column([r.get(name) for r in records]) for name in columns})


def _column(values: list[Any]) -> pl.Series:
    """Numbers as Float64; anything else as text, so the numeric check below sees it."""
    if all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values):
        return float_series(values)
    return pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)


_LOADERS: dict[str, Callable[[str], pl.DataFrame]] = {
    ".csv": lambda text: _read_csv(text, ","),
    ".tsv": lambda text: _read_csv(text, "\t"),
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
}


def load_table(path: Path) -> pl.DataFrame:
    """The file as a polars frame; SourceError (one line) for anything unreadable."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise SourceError(f"{path}: unknown table format; expected .csv, .tsv, .jsonl or .ndjson")
    text = read_text(path)
    try:
        frame = loader(text)
    except (pl.exceptions.PolarsError, ValueError, TypeError, OverflowError) as exc:
        kind = "CSV" if path.suffix.lower() in (".csv", ".tsv") else "JSONL"
        raise SourceError(f"{path}: not a readable {kind} file ({_polars_problem(exc)})") from exc
    if frame.height == 0:
        raise SourceError(f"{path}: no data rows (only a header?): nothing to import")
    return frame


# --- columns → rows ---------------------------------------------------------------------


def _columns_hint(frame: pl.DataFrame) -> str:
    names = frame.columns
    shown = ", ".join(names[:_MAX_SHOWN]) + (", …" if len(names) > _MAX_SHOWN else "")
    return f"the file has: {shown}"


@dataclass
class _Plan:
    """Which column feeds which target, after checking them against the file."""

    positions: dict[str, str] = field(default_factory=dict)  # step/epoch/wall_time → column
    metrics: dict[tuple[str, str], str] = field(default_factory=dict)  # (split, metric) → column
    mapped: set[str] = field(default_factory=set)  # metric columns the user named
    warnings: list[str] = field(default_factory=list)


def _plan(path: Path, frame: pl.DataFrame, mapping: dict[str, str]) -> _Plan:
    missing = [f"{t}={c}" for t, c in mapping.items() if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{path}: mapped column(s) not found ({', '.join(missing)}); {_columns_hint(frame)}"
        )
    for target, column in mapping.items():
        _check_target(target, f"{target}={column}")
    plan = _Plan()
    for target in POSITIONS:
        position = mapping.get(target, target if target in frame.columns else None)
        if position is not None:
            plan.positions[target] = position
    if "step" not in plan.positions:
        raise SourceError(
            f"{path}: no `step` column; name one with --map step=COLUMN ({_columns_hint(frame)})"
        )
    for target, column in mapping.items():
        names = canonical(target)
        if target not in POSITIONS and names is not None:
            plan.metrics[names] = column
            plan.mapped.add(column)
    _add_unmapped(path, frame, plan)
    return plan


def _add_unmapped(path: Path, frame: pl.DataFrame, plan: _Plan) -> None:
    used = set(plan.positions.values()) | plan.mapped
    text_columns: list[str] = []
    for column in frame.columns:
        names = canonical(column)
        if column in used or names is None:
            continue
        if not _numeric_enough(frame.get_column(column)):
            text_columns.append(column)
        elif names in plan.metrics:
            plan.warnings.append(
                f"{path}: column {column!r} also means {names[0]} {names[1]}, which "
                f"{plan.metrics[names]!r} already gives; {column!r} ignored"
            )
        else:
            plan.metrics[names] = column
    if text_columns:
        shown = ", ".join(text_columns[:_MAX_SHOWN])
        plan.warnings.append(
            f"{path}: non-numeric column(s) not imported ({shown}); map one to import it"
        )


def _as_float(series: pl.Series) -> pl.Series:
    if series.dtype == pl.String:
        return series.str.strip_chars().cast(pl.Float64, strict=False)
    if series.dtype.is_numeric():
        return series.cast(pl.Float64)
    return pl.Series(series.name, [None] * series.len(), dtype=pl.Float64)


def _numeric_enough(series: pl.Series) -> bool:
    """A column we import unasked: numbers, or text that is mostly numbers ("nan", "1e-4")."""
    if series.dtype.is_numeric():
        return True
    if series.dtype != pl.String:
        return False
    present = series.len() - series.null_count()
    converted = series.len() - _as_float(series).null_count()
    return present > 0 and converted * 2 > present


def _not_numbers(series: pl.Series, converted: pl.Series) -> pl.Series:
    return series.is_not_null() & converted.is_null()


def _steps(path: Path, frame: pl.DataFrame, column: str, warnings: list[str]) -> pl.Series:
    """Integer steps; rows whose step is missing, text or fractional are dropped (counted)."""
    raw = _as_float(frame.get_column(column))
    whole = raw.is_not_null() & raw.is_finite() & (raw == raw.floor())
    good = whole & (raw >= 0) & (raw < _MAX_STEP)
    bad = frame.height - int(good.sum())
    if bad:
        warnings.append(
            f"{path}: {bad} row(s) whose {column!r} is not a whole number ≥ 0 dropped "
            "(no step to place them at)"
        )
    return raw.set(~good, None).cast(pl.Int64, strict=False)


def _metric_rows(
    path: Path, frame: pl.DataFrame, plan: _Plan, steps: pl.Series, warnings: list[str]
) -> pl.DataFrame:
    def position(target: str) -> pl.Series:
        column = plan.positions.get(target)
        if column is None:
            return pl.Series([None] * frame.height, dtype=pl.Float64)
        return _as_float(frame.get_column(column))

    epoch, wall_time = position("epoch"), position("wall_time")
    parts = [empty_frame()]
    for (split, metric), column in plan.metrics.items():
        series = frame.get_column(column)
        values = _as_float(series)
        _warn_not_numbers(path, column, series, values, warnings)
        part = pl.DataFrame(
            {"step": steps, "epoch": epoch, "value": values, "wall_time": wall_time}
        ).with_columns(
            run_id=pl.lit(""), source=pl.lit(SOURCE), split=pl.lit(split), metric=pl.lit(metric)
        )
        parts.append(part.filter(pl.col("step").is_not_null() & pl.col("value").is_not_null()))
    return pl.concat([p.select(list(SCHEMA)).cast(SCHEMA) for p in parts])  # type: ignore[arg-type]


def _warn_not_numbers(
    path: Path, column: str, series: pl.Series, values: pl.Series, warnings: list[str]
) -> None:
    bad = series.filter(_not_numbers(series, values))
    if bad.len():
        example = str(bad[0])[:40]
        warnings.append(
            f"{path}: {bad.len()} non-numeric value(s) in column {column!r} dropped "
            f"(e.g. {example!r})"
        )


def _repeated_steps(path: Path, steps: pl.Series) -> list[str]:
    present = steps.drop_nulls()
    repeats = present.len() - present.n_unique()
    if not repeats:
        return []
    return [f"{path}: {repeats} row(s) repeat an earlier step; the last one of each kept"]


def read(path: Path, mapping: dict[str, str] | None = None) -> SourceData:
    """A CSV/TSV/JSONL log, with `mapping` (target → column) for columns not named as ours."""
    frame = load_table(path)
    plan = _plan(path, frame, mapping or {})
    warnings = plan.warnings
    steps = _steps(path, frame, plan.positions["step"], warnings)
    if not plan.metrics:
        raise SourceError(
            f"{path}: no numeric metric column; name one with --map ({_columns_hint(frame)})"
        )
    table = finalize(_metric_rows(path, frame, plan, steps, warnings))
    if table.height == 0:
        raise SourceError(f"{path}: no row has both a step and a numeric metric: nothing to import")
    warnings.extend(_repeated_steps(path, steps))
    config = {"columns": {f"{s}/{m}": c for (s, m), c in plan.metrics.items()}}
    return SourceData(kind=SOURCE, path=path, frame=table, warnings=warnings, config=config)
