"""The metrics table of a log history that holds nothing but numbers, built by polars in Rust.

Almost every HF/TRL `log_history` is a list of dicts of ints and floats. For those,
`pl.DataFrame(history, schema=all Float64)` gathers the columns in Rust, where the Python
pass of `schema.frame_from_logs` gathers them into lists, checks each list's types and then
converts each to a Series (~4.5 of its ~5.5 ms for 2,000 entries); the rest (placing, dedupe,
sort) is the same numpy code, `schema.long_table_from_wide`, so both builds give one table.

Polars coerces what does not fit (a bool becomes 1, a number among strings a string), so this
build is only taken when one C-speed pass over the values finds no type but int, float and
None; anything else returns None and the caller goes the Python way, which knows those cases.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import polars as pl

from gsmreport.ingest.schema import canonical, empty_frame, long_table_from_wide

_NUMBERS = frozenset({int, float, type(None)})


def _only_numbers(logs: list[Any]) -> bool:
    if not logs or set(map(type, logs)) != {dict}:
        return False
    return set(map(type, chain.from_iterable(map(dict.values, logs)))) <= _NUMBERS


def frame_from_numeric_logs(
    logs: list[Any], *, source: str, run_id: str = ""
) -> tuple[pl.DataFrame, set[int]] | None:
    """What `schema.frame_from_logs` returns for `logs`, or None when an entry is not a dict
    of numbers (the caller then takes that slower path)."""
    if not _only_numbers(logs):
        return None
    columns = list(dict.fromkeys(chain.from_iterable(logs)))  # first-seen order, as there
    step_key = "step" if "step" in columns else "global_step" if "global_step" in columns else None
    # Among two keys for one metric in one entry (`lr` and `learning_rate`), the later
    # column wins in both builds.
    metrics = [(key, names) for key, names in ((k, canonical(k)) for k in columns) if names]
    if step_key is None or not metrics:
        return empty_frame(), set()
    try:
        # Float64 throughout, as float_series gives: an int is converted the way float() does.
        wide = pl.DataFrame(logs, schema=dict.fromkeys(columns, pl.Float64))
    except (pl.exceptions.PolarsError, OverflowError, ValueError, TypeError):
        return None  # e.g. an int beyond float range: the Python build makes it ±inf
    epoch = "epoch" if "epoch" in columns else None
    return long_table_from_wide(wide, step_key, epoch, metrics, source=source, run_id=run_id)
