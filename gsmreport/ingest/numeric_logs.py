"""The metrics table of a log history that holds nothing but numbers, without a Python pass
per value.

Almost every HF/TRL `log_history` is a list of dicts of ints and floats in a few shapes (the
train step's keys, the eval's, the final summary's). Without None among the values, numpy
converts each shape's entries in one block (a key's presence is then its shape's); with None,
`pl.DataFrame(history, schema=all Float64)` gathers the columns in Rust. Either replaces the
Python pass of `schema.frame_from_logs` that gathers the columns into lists, checks each
list's types and converts each to a Series; placing, dedupe and sort are the same numpy code
(`schema.long_table_from_matrix`), so every build gives one table. For 2,000 entries:
~3.3 ms against ~4.8 ms (on a busy machine).

numpy and polars coerce what does not fit (a bool becomes 1, a string of digits a number), so
these builds are only taken when a C-speed pass over the values finds no type but int, float
and None; anything else returns None and the caller goes the Python way. The numpy build
checks each shape's values on the very list it converts (~0.2 ms less than a pass of its
own); only a history with a None, or past _MAX_SHAPES shapes, pays for a pass over them all.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import polars as pl

from gsmreport.ingest.schema import (
    BuiltTable,
    canonical,
    empty_frame,
    long_table_from_matrix,
    long_table_from_wide,
)

_NUMBERS = frozenset({int, float, type(None)})
_PLAIN = frozenset({int, float})
# A history has a few entry shapes (train step, eval, the final summary); past this many,
# gathering by shape costs more than polars' own gathering.
_MAX_SHAPES = 32


def _value_types(logs: list[dict[str, Any]]) -> set[type]:
    """The types of every value."""
    return set(map(type, chain.from_iterable(map(dict.values, logs))))


def _shapes(logs: list[dict[str, Any]]) -> dict[tuple[str, ...], list[int]] | None:
    """Entry indices by key tuple, first-seen shape first; None past _MAX_SHAPES.

    Entries are grouped by their number of keys first (C-level), and a group whose entries
    all list the keys of its first, in its order, is one shape: one comparison of the
    group's keys, flattened, against the first's repeated (~0.4 ms for 2,000 entries
    against ~0.6 ms for a key tuple and a lookup per entry). A group that mixes shapes of
    one size is sorted out entry by entry."""
    lengths = np.fromiter(map(len, logs), np.int64, len(logs))
    order = np.argsort(lengths, kind="stable")  # each size's entries, in log order
    size = lengths[order]
    bounds = np.flatnonzero(size[1:] != size[:-1]) + 1
    shapes: dict[tuple[str, ...], list[int]] = {}
    for rows in np.split(order, bounds):
        indices: list[int] = rows.tolist()
        group = list(map(logs.__getitem__, indices))
        first = tuple(group[0])
        if list(chain.from_iterable(group)) == list(first) * len(group):
            shapes[first] = indices
        else:
            _by_key_tuple(group, indices, shapes)
        if len(shapes) > _MAX_SHAPES:
            return None
    # First-seen order, as the entries list them: the caller reads its columns from it.
    return dict(sorted(shapes.items(), key=lambda item: item[1][0]))


def _by_key_tuple(
    group: list[dict[str, Any]], indices: list[int], shapes: dict[tuple[str, ...], list[int]]
) -> None:
    """Add `group`'s entries (at `indices` in the log) to `shapes`, by key tuple."""
    for index, shape in zip(indices, map(tuple, group), strict=True):
        rows = shapes.get(shape)
        if rows is None:
            rows = shapes[shape] = []
        rows.append(index)


def _matrices(
    logs: list[dict[str, Any]], shapes: dict[tuple[str, ...], list[int]], columns: list[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, presence), entry × column, one numpy block per shape; None when a value is
    anything but an int or a float (with a None a key's presence is not the shape's alone,
    and numpy would coerce a bool), or an int beyond float range."""
    position = {key: j for j, key in enumerate(columns)}
    values = np.full((len(logs), len(columns)), np.nan)
    present = np.zeros(values.shape, dtype=bool)
    for shape, rows in shapes.items():
        if not shape:
            continue  # an empty entry: nothing to place
        # Every entry of a shape lists its values in the shape's key order, so the values of
        # all of them, read in one flat C-level pass, fill the block row by row (~2x faster
        # than a tuple per entry). Their types are checked on that same list.
        entries = map(logs.__getitem__, rows)
        flat = list(chain.from_iterable(map(dict.values, entries)))
        if not set(map(type, flat)) <= _PLAIN:
            return None
        try:  # converted in Rust: ~0.1 ms less a run than np.fromiter's pass
            block = pl.Series(flat, dtype=pl.Float64, strict=True).to_numpy()
        except OverflowError:  # an int beyond polars' range: the Python build makes it ±inf
            return None
        block = block.reshape(len(rows), len(shape))
        cells = np.ix_(np.array(rows), np.array([position[key] for key in shape]))
        values[cells] = block
        present[cells] = True
    return values, present


def frame_from_numeric_logs(logs: list[Any], *, source: str, run_id: str = "") -> BuiltTable | None:
    """What `schema.frame_from_logs` returns for `logs`, or None when an entry is not a dict
    of numbers (the caller then takes that slower path)."""
    if not logs or set(map(type, logs)) != {dict}:
        return None
    shapes = _shapes(logs)
    # Keys in first-seen order, as the Python build has them: among two keys for one metric
    # in one entry (`lr` and `learning_rate`), the later column wins in both builds. (The
    # shapes in first-seen order list the keys in the same order as the entries do.)
    columns = list(dict.fromkeys(chain.from_iterable(shapes or logs)))
    step_key = "step" if "step" in columns else "global_step" if "global_step" in columns else None
    metrics = [(key, names) for key, names in ((k, canonical(k)) for k in columns) if names]
    if step_key is None or not metrics:
        return BuiltTable(empty_frame(), set()) if _value_types(logs) <= _NUMBERS else None
    epoch = "epoch" if "epoch" in columns else None
    matrices = _matrices(logs, shapes, columns) if shapes is not None else None
    if matrices is not None:
        position = {key: j for j, key in enumerate(columns)}
        built = long_table_from_matrix(
            *matrices,
            position[step_key],
            position[epoch] if epoch is not None else None,
            [(position[key], names) for key, names in metrics],
            source=source,
            run_id=run_id,
        )
        return built._replace(shapes=shapes)
    if not _value_types(logs) <= _NUMBERS:  # a bool or a string: polars would coerce it
        return None
    try:
        # Float64 throughout, as float_series gives: an int is converted the way float() does.
        wide = pl.DataFrame(logs, schema=dict.fromkeys(columns, pl.Float64))
    except (pl.exceptions.PolarsError, OverflowError, ValueError, TypeError):
        return None  # e.g. an int beyond float range: the Python build makes it ±inf
    return long_table_from_wide(wide, step_key, epoch, metrics, source=source, run_id=run_id)
