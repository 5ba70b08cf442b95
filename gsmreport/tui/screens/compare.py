"""The marked runs side by side: smoothed loss curves overlaid, results and configuration.

The tables are the comparison report's own (report/compare_tables.py) over the same loaded
runs (analysis/compare_runs.load_run), so the screen and the report never disagree. Loading
happens in a worker: a run's metrics may need re-ingesting first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from gsmreport.tui.compare_names import short_names
from gsmreport.tui.messages import OpenReport
from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.braille import colour
from gsmreport.tui.widgets.curve import CurveChart

if TYPE_CHECKING:
    from gsmreport.pipeline import Comparison, TableRow

LOAD_GROUP = "compare-load"


def rows_table(run_ids: Sequence[str], rows: Sequence[TableRow]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("", style="bold", overflow="fold", ratio=2)
    for run_id in run_ids:
        table.add_column(run_id, overflow="fold", ratio=1)
    for row in rows:
        table.add_row(Text(row.label), *(Text(c) for c in row.cells))
    return table


def key_text(run_ids: Sequence[str], names: Sequence[str], drawn: Sequence[str]) -> Text:
    """Which run each letter stands for, in the curve's colour; empty when ids are shown."""
    text = Text()
    if list(names) == list(run_ids):
        return text
    for run_id, name in zip(run_ids, names, strict=True):
        if text:
            text.append("\n")
        if run_id in drawn:
            text.append("⣿ ", style=colour(drawn.index(run_id)))
        else:
            text.append("  ")
        text.append(f"{name}  ", style="bold")
        text.append(run_id + ("" if run_id in drawn else "  (no loss curve)"))
    return text


class CompareScreen(HostedScreen):
    CSS_PATH = "compare.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("r", "report", "Report", tooltip="The comparison report: render and preview it"),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {LOAD_GROUP: "Cannot compare"}

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = list(dict.fromkeys(run_ids))
        self.comparison: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="compare"):
            yield Static(Text(f"Compare {' · '.join(self.run_ids)}"), id="compare-title")
            yield CurveChart("train loss (smoothed)", id="compare-curve")
            yield Static(id="compare-key", classes="section")  # letter → run id, when used
            yield Static("Results", classes="heading")
            yield Static(Text("Loading…", style="dim"), id="compare-results", classes="section")
            yield Static("Configuration", classes="heading")
            yield Static(id="compare-config", classes="section")
            yield Static(id="compare-notes", classes="section")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"compare · {', '.join(self.run_ids)}"
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group=LOAD_GROUP)
    def _load(self) -> Comparison:
        from gsmreport import pipeline

        return pipeline.compare_view(self.dirs, self.run_ids)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != LOAD_GROUP:
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:  # the dialog comes from HostedScreen
            self.query_one("#compare-results", Static).update(Text("Could not load the runs."))

    def show(self, comparison: Comparison) -> None:
        self.comparison = comparison
        chart = self.query_one("#compare-curve", CurveChart)
        chart.border_title = comparison.smoothing
        names = short_names(self.run_ids, self.app.size.width)
        by_id = dict(zip(self.run_ids, names, strict=True))
        drawn = [rid for rid in self.run_ids if comparison.curves.get(rid)]
        chart.set_series({by_id[rid]: comparison.curves[rid] for rid in drawn}, y_label="loss")
        self.query_one("#compare-key", Static).update(key_text(self.run_ids, names, drawn))
        results = self.query_one("#compare-results", Static)
        results.update(rows_table(names, comparison.results))
        config = rows_table(names, comparison.config)
        self.query_one("#compare-config", Static).update(config)
        notes = "\n".join(comparison.notes)
        self.query_one("#compare-notes", Static).update(
            Text(f"Settings read from:\n{notes}" if notes else "", style="dim")
        )

    def action_report(self) -> None:
        """The report screen on these runs (preview, PDF option), rendering from the start."""
        self.post_message(OpenReport(tuple(self.run_ids), render=True))
