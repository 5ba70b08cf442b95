"""The first screen: one row per run with its headline figures, live as runs change on disk.

Rows start from each run's cached summary; runs without a valid cache show their id at once
and their figures as a background worker reads them. The same worker then polls the runs'
file mtimes every `poll_seconds` and re-reads only the runs that changed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import get_current_worker

from gsmreport.tui.cells import (
    COLUMN_BY_KEY,
    COLUMNS,
    Column,
    id_cap,
    matches,
    placeholder,
    sort_rows,
    visible_columns,
)
from gsmreport.tui.id_fit import fit_ids, id_width
from gsmreport.tui.loading import (
    RunWatcher,
    cached_row,
    first_rows,
    listed_runs,
    load_summary,
)
from gsmreport.tui.messages import OpenCompare, OpenEvaluate, OpenReport, OpenRun, RunsRead
from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.runs_table import RunsTable

if TYPE_CHECKING:
    from gsmreport.pipeline import RunSummary

EMPTY_TEXT = (
    "No runs yet in {runs}.\n\n"
    "Run `gsmreport demo` for a quick CPU run, or `gsmreport train CONFIG` to fine-tune a "
    "model (or press t); new runs appear here on their own."
)
READ_GROUP = "runs-read"
WIDE = 100  # terminal columns from which the footer has room for padding and ^p
SYNC_READS = 20  # up to this many uncached runs are read before the first paint
FIRST_ROWS = 100  # rows added before the next paint; the rest right after it
REFILL_ABOVE = 50  # rows going past which the table is refilled at once
BATCH_SECONDS = 0.25  # how often rows read in the background are handed to the table
FIRST_READ_SECONDS = 0.25  # cached rows read before the first paint; the rest right after
BIG_FOLDER = 2000  # runs from which the first paint shows ids only, figures right after


class RunsScreen(HostedScreen):
    CSS_PATH = "runs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_run", "Open", tooltip="Open the selected run"),
        Binding("space", "toggle_mark", "Mark", tooltip="Mark or unmark the selected run"),
        Binding("c", "compare", "Compare", tooltip="Compare the marked runs"),
        Binding("slash", "filter", "Filter", tooltip="Filter the runs by typing (escape clears)"),
        Binding("s", "sort_next", "Sort", tooltip="Sort by the next column"),
        Binding("S", "sort_reverse", "Reverse", show=False, tooltip="Reverse the sort order"),
        Binding(
            "d",
            "sort_newest",
            "Newest first",
            show=False,  # the info line names it whenever another order is in force
            tooltip="Back to the default order: newest first",
        ),
        Binding("t", "app.train", "Train", tooltip="Train a model from a preset"),
        Binding("e", "evaluate", "Eval", tooltip="Evaluate the selected run (or a base model)"),
        Binding("r", "report", "Report", tooltip="Report for the marked runs (else the selected)"),
        Binding(
            "R",
            "resume",
            "Resume",
            show=False,
            tooltip="Resume the selected interrupted or failed training from its last checkpoint",
        ),
        Binding(
            "i",
            "app.import_logs",
            "Import",
            show=False,
            tooltip="Import other tools' training logs",
        ),
        Binding("g", "refresh", "Refresh", show=False, tooltip="Re-read the runs folder now"),
        Binding("f5", "refresh", "Refresh", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    poll_seconds: ClassVar[float] = 2.0

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, RunSummary] = {}
        self.marked: list[str] = []  # in the order marked: the comparison's column order
        self.sort_key: str | None = None  # None: newest first
        self.sort_reverse = False
        self.query_text = ""
        self.shown: list[str] = []  # row order on screen
        self.watcher: RunWatcher | None = None
        # Folders that look like runs but are not readable as one (a copied run, an invalid
        # id, a broken run.yaml): left out of the table, named on the info line.
        self.skipped: set[str] = set()
        self._labelled: frozenset[str] = frozenset()  # the ids the id labels were cut for

    @property
    def table(self) -> RunsTable:
        return self.query_one("#runs-table", RunsTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(EMPTY_TEXT.format(runs=self.dirs.runs), id="runs-empty", markup=False)
        yield RunsTable(id="runs-table")
        yield Input(
            placeholder="filter: words in id, model, method, data, status", id="runs-filter"
        )
        yield Static("", id="runs-info", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#runs-filter", Input).display = False
        self.fit_footer()
        self.watcher = RunWatcher(self.dirs.runs)
        names = listed_runs(self.dirs.runs)
        if len(names) > BIG_FOLDER:
            # Stat-ing ten thousand runs' files alone takes a second: paint their ids now,
            # the watcher's first look and every figure follow from the reading worker.
            self.summaries = {rid: placeholder(rid) for rid in names}
            self.relayout()
            self.call_after_refresh(self._read_pending, names, True)
            self.set_interval(self.poll_seconds, self._tick)
            return
        ready, pending = first_rows(self.watcher, budget_s=FIRST_READ_SECONDS)
        # A small folder opens complete; in a big one every uncached run shows its id at once
        # and its figures follow from a worker (reading even a few first would delay the paint).
        now, later = (pending, []) if len(pending) <= SYNC_READS else ([], pending)
        loaded = {rid: load_summary(self.watcher.runs, rid) for rid in now}
        self.summaries = {s.id: s for s in ready}
        self.summaries |= {rid: s for rid, s in loaded.items() if s is not None}
        self.summaries |= {rid: placeholder(rid) for rid in later}
        self.skipped = {rid for rid, s in loaded.items() if s is None}
        self.relayout()
        if later:  # after the first paint: the reading thread would slow it down
            self.call_after_refresh(self._read_pending, later)
        self.set_interval(self.poll_seconds, self._tick)

    # --- reading runs ---------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group=READ_GROUP, description="read run summaries")
    def _read_pending(self, pending: list[str], look_first: bool = False) -> None:
        """Read the summaries the first paint lacked, handing them over a batch at a time;
        `look_first`: the watcher has not looked yet (a big folder): look, then take each
        run's valid cache before analysing it."""
        worker = get_current_worker()
        runs = self.dirs.runs
        watcher = self.watcher
        if look_first and watcher is not None:
            watcher.poll()
        batch: list[RunSummary] = []
        unreadable: list[str] = []
        sent = time.monotonic()
        for run_id in pending:
            if worker.is_cancelled:
                return
            cached = cached_row(watcher, run_id) if look_first and watcher else None
            summary = cached or load_summary(runs, run_id)
            if summary is None:
                unreadable.append(run_id)
            else:
                batch.append(summary)
            if time.monotonic() - sent > BATCH_SECONDS:
                self.post_message(RunsRead(tuple(batch), tuple(unreadable)))
                batch, unreadable, sent = [], [], time.monotonic()
        if batch or unreadable:
            self.post_message(RunsRead(tuple(batch), tuple(unreadable)))

    def _tick(self) -> None:
        """Every `poll_seconds`: look for changes unless the last look is still going.

        A short worker per tick, not one endless loop, so that waiting for workers to finish
        (as tests and shutdown do) never waits on the watcher.
        """
        if not any(w.group == READ_GROUP and not w.is_finished for w in self.workers):
            self._poll()

    @work(thread=True, exit_on_error=False, group=READ_GROUP, description="poll runs")
    def _poll(self) -> None:
        read = self.read_changes()
        if read is not None:
            self.post_message(read)

    def read_changes(self) -> RunsRead | None:
        """The summaries of runs changed on disk since the last poll; None when nothing did."""
        if self.watcher is None:
            return None
        changes = self.watcher.poll()
        if not changes:
            return None
        loaded = [load_summary(self.watcher.runs, rid) for rid in changes.changed]
        gone = [rid for rid, s in zip(changes.changed, loaded, strict=True) if s is None]
        return RunsRead(tuple(s for s in loaded if s is not None), (*changes.removed, *gone))

    def on_runs_read(self, message: RunsRead) -> None:
        runs = self.dirs.runs
        for rid in message.removed:
            self.summaries.pop(rid, None)
            if rid in self.marked:
                self.marked.remove(rid)
            # Removed from the table either because the folder went or because it is unreadable.
            if (runs / rid / "run.yaml").is_file():
                self.skipped.add(rid)
            else:
                self.skipped.discard(rid)
        table = self.table
        for summary in message.summaries:
            self.skipped.discard(summary.id)
            self.summaries[summary.id] = summary
            if summary.id in table.ids:
                table.update(summary)
        self.show_rows()

    def action_refresh(self) -> None:
        read = self.read_changes()
        if read is not None:
            self.on_runs_read(read)

    # --- the table ------------------------------------------------------------------------

    def _order(self) -> list[str]:
        rows = sort_rows(list(self.summaries.values()), self.sort_key, reverse=self.sort_reverse)
        if not self.query_text.split():  # no filter: skip building a thousand haystacks
            return [s.id for s in rows]
        return [s.id for s in rows if matches(s, self.query_text)]

    def _header_label(self, column: Column) -> Text:
        label = column.label
        sorted_here = column.key == self.sort_key
        arrow = " ▼" if self.sort_reverse else " ▲"
        if sorted_here and len(label) + len(arrow) <= column.width:
            label += arrow
        style = "bold underline" if sorted_here else ""
        return Text(label, style=style, justify="right" if column.numeric else "left")

    def labels(self) -> dict[str, Text]:
        return {c.key: self._header_label(c) for c in COLUMNS}

    def columns_for_width(self) -> tuple[Column, ...]:
        """The columns that fit the terminal, the id column as wide as the longest id allows."""
        width = self.app.size.width
        return visible_columns(width, id_width(self.summaries, id_cap(width)))

    def id_labels(self, columns: tuple[Column, ...]) -> dict[str, str]:
        """Every run's id cut to the id column, no two alike (gsmreport.tui.id_fit)."""
        self._labelled = frozenset(self.summaries)
        width = next((c.width for c in columns if c.key == "id"), 0)
        return fit_ids(self.summaries, width)

    def relayout(self) -> None:
        """Columns for the terminal's width; every row added again."""
        columns = self.columns_for_width()
        self.table.set_layout(columns, self.labels(), self.id_labels(columns))
        self.show_rows()

    def fit_ids_to_runs(self) -> bool:
        """After runs came or went: a new id column width means a new layout (True); else
        only the id cells whose cut changed are redrawn."""
        if self._labelled == frozenset(self.summaries):
            return False
        columns = self.columns_for_width()
        if columns != self.table.shown_columns:
            self.relayout()
            return True
        self.table.relabel(self.id_labels(columns), self.summaries)
        return False

    def show_rows(self) -> None:
        """Bring the table to the current summaries, sort and filter with the least work:
        rows that come or go are added or removed, the rest only move. Past a screenful, new
        rows are added after the next paint, so a thousand runs paint as fast as a few."""
        if self.fit_ids_to_runs():
            return  # relayout showed the rows
        table = self.table
        selected = table.selected()
        order = self._order()
        wanted = set(order)
        present = table.ids
        gone = [rid for rid in table.order if rid not in wanted]
        new = [rid for rid in order if rid not in present]
        if len(gone) > REFILL_ABOVE:  # removing rows one by one costs O(rows) each
            table.clear_rows()
            gone, new = [], order
        for rid in gone:
            table.drop_row(rid)
        new, later = new[:FIRST_ROWS], new[FIRST_ROWS:]
        marked = set(self.marked)
        for rid in new:
            table.add(self.summaries[rid], rid in marked)
        expected = [rid for rid in order if rid in table.ids]
        if expected != table.order:
            table.reorder(expected)
        self.shown = order
        table.select(selected)
        self.update_chrome()
        if later:
            self.call_after_refresh(self.show_rows)

    def update_chrome(self) -> None:
        """The empty-folder hint, and the info line: counts, sort, filter."""
        table = self.table
        # No layout pass here: with a thousand rows one was half of a sort key's 130 ms
        # (benchmarks/tui.py). The hint's text is set once in compose; setting `display` to
        # what it already is does nothing (Textual compares the rule); the info line has a
        # fixed size, so it is updated with layout=False.
        empty = self.query_one("#runs-empty", Static)
        empty.display = not self.summaries
        table.display = bool(self.summaries)
        parts = [f"{len(self.summaries)} runs"]
        if len(self.shown) != len(self.summaries):
            parts.append(f"{len(self.shown)} shown")
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        if self.sort_key is None:
            parts.append("oldest first (d: newest)" if self.sort_reverse else "newest first")
        else:
            label = COLUMN_BY_KEY[self.sort_key].label
            arrow = "▼" if self.sort_reverse else "▲"
            parts.append(f"sorted by {label} {arrow} (d: newest first)")
        if self.query_text:
            parts.append(f"filter: {self.query_text}")
        if self.skipped:
            names = ", ".join(sorted(self.skipped)[:3]) + (", …" if len(self.skipped) > 3 else "")
            parts.append(
                f"{len(self.skipped)} folder(s) skipped: {names} (`gsmreport runs` says why)"
            )
        info = self.query_one("#runs-info", Static)
        text = " · ".join(parts)
        if str(info.content) != text:
            info.update(text, layout=False)  # one line, full width (runs.tcss): size never changes

    def on_resize(self, event: Resize) -> None:
        if self.columns_for_width() != self.table.shown_columns:
            self.relayout()
        self.fit_footer()

    def fit_footer(self) -> None:
        """At 80 columns every key of this screen fits only without padding and ^p."""
        footer = self.query_one(Footer)
        footer.compact = self.app.size.width < WIDE
        footer.show_command_palette = self.app.size.width >= WIDE

    def selected_run_id(self) -> str | None:
        return self.table.selected()

    def selected_summary(self) -> RunSummary | None:
        run_id = self.selected_run_id()
        return self.summaries.get(run_id) if run_id else None

    # --- sort, filter, mark -----------------------------------------------------------------

    def sort_by(self, key: str | None, *, reverse: bool = False) -> None:
        self.sort_key, self.sort_reverse = key, reverse
        self.table.set_labels(self.labels())
        self.show_rows()

    def action_sort_next(self) -> None:
        keys = [c.key for c in self.table.shown_columns]
        at = keys.index(self.sort_key) + 1 if self.sort_key in keys else 0
        self.sort_by(keys[at % len(keys)])

    def action_sort_by_column(self, key: str) -> None:
        same = key == self.sort_key
        self.sort_by(key, reverse=not self.sort_reverse if same else False)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort_key, reverse=not self.sort_reverse)

    def action_sort_newest(self) -> None:
        """The order the screen opens in: newest first (by creation time, as `gsmreport runs`)."""
        self.sort_by(None)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it; a second click reverses."""
        event.stop()
        key = event.column_key.value
        if key is not None and key in COLUMN_BY_KEY:
            self.action_sort_by_column(key)

    def action_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "runs-filter":
            self.query_text = event.value.strip()
            self.show_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "runs-filter":
            self.table.focus()  # keep the filter, go back to the rows

    def action_clear_filter(self) -> None:
        box = self.query_one("#runs-filter", Input)
        if not box.display and not self.query_text:
            return
        box.value = ""
        box.display = False
        self.query_text = ""
        self.show_rows()
        self.table.focus()

    def action_toggle_mark(self) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked.append(run_id)
        self.table.set_mark(run_id, run_id in self.marked)
        self.update_chrome()
        self.table.action_cursor_down()  # as in a file manager: the next press marks the next

    # --- opening other screens ---------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a row opens it."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenRun(event.row_key.value))

    def action_open_run(self) -> None:
        run_id = self.selected_run_id()
        if run_id is not None:
            self.post_message(OpenRun(run_id))

    def action_compare(self) -> None:
        if len(self.marked) < 2:
            self.notify("Mark at least two runs (space) to compare them.", severity="warning")
            return
        self.post_message(OpenCompare(tuple(self.marked)))

    def action_evaluate(self) -> None:
        """The selected run when it is a finished training run; otherwise a base model."""
        s = self.selected_summary()
        usable = s is not None and s.kind == "train" and s.status == "completed"
        self.post_message(OpenEvaluate(s.id if usable and s else None))

    def action_resume(self) -> None:
        """Continue the selected training run, as `gsmreport train --resume RUN_ID` does."""
        s = self.selected_summary()
        if s is None or s.kind != "train" or s.status not in ("interrupted", "failed"):
            self.notify(
                "Select an interrupted or failed training run to resume it.", severity="warning"
            )
            return
        from gsmreport.tui.screens.live import launch_resume

        launch_resume(self, s.id)

    def action_report(self) -> None:
        run_ids = list(self.marked) or [rid for rid in [self.selected_run_id()] if rid]
        if not run_ids:
            self.notify("No run selected.", severity="warning")
            return
        self.post_message(OpenReport(tuple(run_ids)))
