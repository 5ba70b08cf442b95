"""The first screen: one row per run with its headline figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from gsmreport.tui.cells import COLUMNS, NUMERIC_COLUMNS, row_cells
from gsmreport.tui.loading import load_summaries

if TYPE_CHECKING:
    from gsmreport.analysis.summary import RunSummary
    from gsmreport.tui.app import GsmReportApp

EMPTY_TEXT = (
    "No runs yet in {runs}.\n\n"
    "Run `gsmreport demo` for a quick CPU run, or `gsmreport train CONFIG` to fine-tune a "
    "model; then press g to refresh."
)


def styled_cells(summary: RunSummary) -> list[str | Text]:
    """Figures right-aligned so decimals line up; text left-aligned."""
    return [
        Text(cell, justify="right") if key in NUMERIC_COLUMNS else cell
        for (key, _), cell in zip(COLUMNS, row_cells(summary), strict=True)
    ]


class RunsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_run", "Open", priority=True),
        Binding("r", "render_report", "Render report"),
        Binding("g", "refresh", "Refresh"),
        Binding("f5", "refresh", "Refresh", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    @property
    def gsm_app(self) -> GsmReportApp:
        from gsmreport.tui.app import GsmReportApp

        assert isinstance(self.app, GsmReportApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="runs-empty", markup=False)
        table: DataTable[str | Text] = DataTable(
            id="runs-table", cursor_type="row", zebra_stripes=True
        )
        for key, label in COLUMNS:
            table.add_column(
                Text(label, justify="right") if key in NUMERIC_COLUMNS else label, key=key
            )
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.load_runs()

    def load_runs(self) -> None:
        """(Re)read every run; keep the cursor on the same run where it still exists."""
        table = self.query_one(DataTable)
        selected = self.selected_run_id()
        table.clear()
        for summary in load_summaries(self.gsm_app.dirs):
            table.add_row(*styled_cells(summary), key=summary.id)
        empty = self.query_one("#runs-empty", Static)
        empty.update(EMPTY_TEXT.format(runs=self.gsm_app.dirs.runs))
        empty.display = table.row_count == 0
        table.display = table.row_count > 0
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        table.focus()

    def selected_run_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return row_key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A mouse click on a row opens it too."""
        event.stop()
        if event.row_key.value is not None:
            self.gsm_app.open_run(event.row_key.value)

    def action_open_run(self) -> None:
        run_id = self.selected_run_id()
        if run_id is not None:
            self.gsm_app.open_run(run_id)

    def action_render_report(self) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            self.notify("No run selected.", severity="warning")
            return
        self.gsm_app.render_report(run_id)

    def action_refresh(self) -> None:
        self.load_runs()
