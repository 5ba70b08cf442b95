"""Text for the runs table and the run screen: pure formatting, no Textual import.

Kept apart from the widgets so the numbers a person reads, the order rows sort in and the
columns that fit a terminal can all be tested without one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from gsmreport.core.fmt import DASH, duration, num, pct, pct_value, usd
from gsmreport.pipeline import RunSummary

MISSING = DASH
LOADING = "…"  # status of a run whose summary is still being read in the background
CELL_PADDING = 1  # DataTable's default: one blank cell either side of every column
MARK_WIDTH = 1
SCROLLBAR_WIDTH = 2

SortValue = float | str


def fmt_float(value: float | None, digits: int = 3) -> str:
    return num(value, digits, missing=MISSING)


def fmt_pct(value: float | None, *, fraction: bool) -> str:
    """`fraction=True` for 0..1 values (accuracies); False for values already in percent."""
    return pct(value, missing=MISSING) if fraction else pct_value(value, missing=MISSING)


def fmt_em(s: RunSummary) -> str:
    """Exact match with its Wilson interval, e.g. `12.0 % [5.6, 23.8]`."""
    if s.em is None:
        return MISSING
    if s.em_low is None or s.em_high is None:
        return fmt_pct(s.em, fraction=True)
    return f"{s.em * 100:.1f} % [{s.em_low * 100:.1f}, {s.em_high * 100:.1f}]"


def fmt_money(value: float | None) -> str:
    return usd(value, missing=MISSING)


def fmt_time(iso: str | None) -> str:
    """ISO timestamp shown in local-free `YYYY-MM-DD HH:MM` (UTC as stored); raw text if odd."""
    if not iso:
        return MISSING
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def fmt_duration(seconds: float | None) -> str:
    return duration(seconds, missing=MISSING)


def _int(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def short_model(model: str | None) -> str:
    """A Hub id as is (`org/name`); a local folder by its last component, to keep rows narrow."""
    if not model:
        return MISSING
    if model.startswith(("/", ".", "~")):
        return model.rstrip("/").rsplit("/", 1)[-1]
    return model


def short_data(data: str | None) -> str:
    """`/long/path/gsm8k (main)` as `gsm8k (main)`; a Hub data set name as is."""
    if not data:
        return MISSING
    path, sep, rest = data.partition(" (")
    return short_model(path) + (sep + rest if sep else "")


@dataclass(frozen=True)
class Column:
    """One column of the runs table: how it reads, how wide it is, how it sorts.

    `priority`: lower numbers stay when the terminal is too narrow for every column, so the
    figures that matter (EM with its interval) never scroll off at 80 columns.
    """

    key: str
    label: str
    width: int
    priority: int
    numeric: bool
    text: Callable[[RunSummary], str]
    sort_value: Callable[[RunSummary], SortValue | None]


def _text(value: str | None) -> str | None:
    return value.casefold() if value else None


def started(s: RunSummary) -> str:
    """When the run started: training's start when recorded, else when the run was created."""
    return s.started_at or s.created_at


def source(s: RunSummary) -> str:
    """What the row is: an imported run by the tool it came from, else train or eval."""
    return s.source or s.kind or MISSING


def _shown(text: Callable[[RunSummary], str]) -> Callable[[RunSummary], str | None]:
    """Sort by the text the cell shows (casefolded), so the order matches what one reads."""

    def value(s: RunSummary) -> str | None:
        shown = text(s)
        return None if shown == MISSING else shown.casefold()

    return value


ID_WIDTH = 18  # the id column's width before the runs are known (RunsScreen sizes it)


def _model(s: RunSummary) -> str:
    return short_model(s.model)


def _method(s: RunSummary) -> str:
    return s.method or MISSING


def _data(s: RunSummary) -> str:
    return short_data(s.data)


# Display order. Priority (4th): which columns stay as the terminal narrows; the id, status,
# exact match and start time stay at 100 columns, so runs can always be told apart.
COLUMNS: tuple[Column, ...] = (
    Column("id", "id", ID_WIDTH, 0, False, lambda s: s.id, lambda s: s.id),
    Column(
        "started",
        "started",
        16,
        3,
        False,
        lambda s: fmt_time(started(s)),
        lambda s: started(s) or None,
    ),
    Column("source", "source", 12, 5, False, source, _shown(source)),
    Column("model", "model", 16, 11, False, _model, _shown(_model)),
    Column("method", "method", 6, 10, False, _method, _shown(_method)),
    Column("data", "data", 14, 12, False, _data, _shown(_data)),
    Column("status", "status", 11, 1, False, lambda s: s.status, lambda s: _text(s.status)),
    Column("steps", "steps", 6, 7, True, lambda s: _int(s.steps), lambda s: s.steps),
    Column(
        "runtime",
        "runtime",
        11,
        6,
        True,
        lambda s: fmt_duration(s.runtime_s),
        lambda s: s.runtime_s,
    ),
    Column(
        "final_loss", "loss", 6, 4, True, lambda s: fmt_float(s.final_loss), lambda s: s.final_loss
    ),
    Column(
        "loss_drop",
        "drop",
        7,
        9,
        True,
        lambda s: fmt_pct(s.loss_drop_pct, fraction=False),
        lambda s: s.loss_drop_pct,
    ),
    Column(
        "token_acc",
        "tok acc",
        7,
        8,
        True,
        lambda s: fmt_pct(s.token_acc_final, fraction=True),
        lambda s: s.token_acc_final,
    ),
    Column("em", "EM ± 95% CI", 20, 2, True, fmt_em, lambda s: s.em),
    Column("cost", "cost", 8, 13, True, lambda s: fmt_money(s.cost_usd), lambda s: s.cost_usd),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
NUMERIC_COLUMNS = frozenset(c.key for c in COLUMNS if c.numeric)


def row_cells(s: RunSummary) -> tuple[str, ...]:
    """One row of the runs table, in `COLUMNS` order."""
    return tuple(c.text(s) for c in COLUMNS)


def table_room(width: int) -> int:
    """Cells left for the columns of a `width`-wide terminal (mark column and scrollbar off)."""
    return width - SCROLLBAR_WIDTH - (MARK_WIDTH + 2 * CELL_PADDING)


def id_cap(width: int) -> int:
    """The widest the id column may grow: two fifths of the table, so that status, EM and
    the start time still fit beside it at 100 columns."""
    return table_room(width) * 2 // 5 - 2 * CELL_PADDING


def visible_columns(width: int, id_width: int = ID_WIDTH) -> tuple[Column, ...]:
    """The columns that fit `width` terminal cells, most important first, in display order;
    the id column `id_width` wide."""
    room = table_room(width)
    keep: set[str] = set()
    columns = tuple(replace(c, width=id_width) if c.key == "id" else c for c in COLUMNS)
    for column in sorted(columns, key=lambda c: c.priority):
        need = column.width + 2 * CELL_PADDING
        if need <= room or not keep:  # the id column stays, however narrow the terminal
            keep.add(column.key)
            room -= need
    return tuple(c for c in columns if c.key in keep)


def newest_first(rows: Iterable[RunSummary]) -> list[RunSummary]:
    """The default order, the same as `gsmreport runs`: newest first, ids breaking ties."""
    return sorted(rows, key=lambda s: (s.created_at, s.id), reverse=True)


def sort_rows(rows: Sequence[RunSummary], key: str | None, *, reverse: bool) -> list[RunSummary]:
    """Rows by one column; numbers numerically; missing values last in either direction."""
    ordered = newest_first(rows)
    if key is None:
        return ordered[::-1] if reverse else ordered
    value = COLUMN_BY_KEY[key].sort_value
    # Mixed kinds cannot happen within one column, so plain comparison is safe.
    present = [(v, s) for s in ordered if (v := value(s)) is not None]
    missing = [s for s in ordered if value(s) is None]
    present.sort(key=lambda pair: pair[0], reverse=reverse)  # stable: ties stay newest first
    return [s for _, s in present] + missing


def matches(s: RunSummary, query: str) -> bool:
    """Every word of `query` occurs (case-insensitive) in the run's id, model, method, data or
    status; an empty query matches everything."""
    haystack = " ".join(x for x in (s.id, s.model, s.method, s.data, s.status) if x).casefold()
    return all(word in haystack for word in query.casefold().split())


def placeholder(run_id: str) -> RunSummary:
    """A row for a run whose summary is still being read: id now, figures in a moment."""
    return RunSummary(
        id=run_id, kind="", status=LOADING, model=None, method=None, data=None, created_at=""
    )
