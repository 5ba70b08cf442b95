"""The runs table widget: one row per run keyed by its id, fixed-width columns, a mark column.

Its columns and cell texts come from gsmreport.tui.cells; RunsScreen (screens/runs.py) decides
which rows it shows, in which order, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

from gsmreport.tui.cells import LOADING, MARK_WIDTH, Column

if TYPE_CHECKING:
    from gsmreport.pipeline import RunSummary

MARK = "●"
MARK_STYLE = "bold cyan"
STATUS_STYLE = {
    "running": "bold yellow",
    "completed": "green",
    "failed": "bold red",
    "interrupted": "magenta",
    "pending": "dim",
    LOADING: "dim",
}

Cell = Text


def cell(column: Column, summary: RunSummary, id_label: str | None = None) -> Cell:
    """One cell; the id column shows `id_label` (the id cut to fit, gsmreport.tui.id_fit)."""
    style = STATUS_STYLE.get(summary.status, "") if column.key == "status" else ""
    text = id_label if column.key == "id" and id_label is not None else column.text(summary)
    return Text(
        text,
        style=style,
        justify="right" if column.numeric else "left",
        no_wrap=True,
        overflow="ellipsis",
        end="",
    )


class RunsTable(DataTable[Cell]):
    """The runs as rows keyed by run id: a mark column, then `Column`s of fixed width.

    DataTable measures every new or changed cell to size auto-width columns: about a
    millisecond per row, a second for a thousand runs, on every refill. All columns here have
    fixed widths and every row is one line, so the two measuring hooks below only keep the
    scrollable size right; and a new order moves rows in place (`DataTable.sort`) rather than
    adding them again.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.shown_columns: tuple[Column, ...] = ()
        self.id_labels: dict[str, str] = {}  # run id -> what its id cell shows
        # The row keys as plain strings, in screen order: set and list operations on them run
        # at C speed, where DataTable's RowKeys compare in Python (a sort of 10,000 rows).
        self.ids: set[str] = set()
        self.order: list[str] = []

    def set_layout(
        self, columns: tuple[Column, ...], labels: dict[str, Text], id_labels: dict[str, str]
    ) -> None:
        self.id_labels = id_labels
        self.clear(columns=True)
        self.ids, self.order = set(), []
        self.add_column(Text(MARK), width=MARK_WIDTH, key="mark")
        for column in columns:
            self.add_column(labels[column.key], width=column.width, key=column.key)
        self.shown_columns = columns

    def set_labels(self, labels: dict[str, Text]) -> None:
        for column in self.shown_columns:
            self.columns[ColumnKey(column.key)].label = labels[column.key]
        self._update_count += 1  # the header is cached per update count
        self.refresh()

    def add(self, summary: RunSummary, marked: bool) -> None:
        label = self.id_labels.get(summary.id)
        self.add_row(
            mark_cell(marked),
            *(cell(c, summary, label) for c in self.shown_columns),
            key=summary.id,
        )
        self.ids.add(summary.id)
        self.order.append(summary.id)

    def drop_row(self, run_id: str) -> None:
        self.remove_row(run_id)
        self.ids.discard(run_id)
        self.order.remove(run_id)

    def clear_rows(self) -> None:
        self.clear()
        self.ids, self.order = set(), []

    def update(self, summary: RunSummary) -> None:
        label = self.id_labels.get(summary.id)
        for column in self.shown_columns:
            self.update_cell(summary.id, column.key, cell(column, summary, label))

    def relabel(self, id_labels: dict[str, str], summaries: dict[str, RunSummary]) -> None:
        """New id labels (a run came or went and cuts changed): only changed cells redrawn."""
        old, self.id_labels = self.id_labels, id_labels
        column = next((c for c in self.shown_columns if c.key == "id"), None)
        if column is None:
            return
        for run_id, label in id_labels.items():
            if old.get(run_id) != label and run_id in self.rows and run_id in summaries:
                self.update_cell(run_id, "id", cell(column, summaries[run_id], label))

    def set_mark(self, run_id: str, marked: bool) -> None:
        self.update_cell(run_id, "mark", mark_cell(marked))

    def reorder(self, order: list[str]) -> None:
        """Rows in `order` (every row's id, once): positions set directly, as DataTable.sort
        sets them, but by row key, since an id cell may show the id cut short."""
        self._row_locations = TwoWayDict({RowKey(rid): i for i, rid in enumerate(order)})
        self.order = list(order)
        self._update_count += 1
        self.refresh()

    def selected(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def select(self, run_id: str | None) -> None:
        if run_id is not None and run_id in self.rows:
            self.move_cursor(row=self.get_row_index(run_id), animate=False)

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        self._require_update_dimensions = True  # fixed widths: nothing to measure

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header)


def mark_cell(marked: bool) -> Cell:
    return Text(MARK if marked else "", style=MARK_STYLE, end="")
