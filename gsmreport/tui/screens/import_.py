"""ImportScreen: turn other tools' logs into runs, one result row per source found.

The import is `pipeline.import_logs`, the CLI's, run in a worker; each source's outcome is
added to the table the moment it is known, so a folder of many logs shows progress. One bad
file is a "failed" row with its reason and never stops the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.check import Check
from gsmreport.tui.widgets.path_suggester import PathSuggester

if TYPE_CHECKING:
    from gsmreport.pipeline import Outcome

IMPORT_GROUP = "import-logs"
# The verdict first and the (often very long) file name clipped, so that at 80 columns the
# reader still sees what happened to each source; the full name is in the detail.
NAME_WIDTH = 28
COLUMNS = (("result", "result", 8), ("path", "source", NAME_WIDTH), ("kind", "kind", None))
DETAIL = ("detail", "run / reason")


def clip(name: str, width: int) -> str:
    """Keep both ends of a long file name: runs differ at the start, formats at the end."""
    if len(name) <= width:
        return name
    half = (width - 1) // 2
    return f"{name[:half]}…{name[-(width - 1 - half) :]}"


def outcome_cells(outcome: Outcome) -> tuple[Text, str, str, str]:
    """A result row: what happened, to which source, read as what, and the detail or reason."""
    name = clip(outcome.path.name, NAME_WIDTH)
    kind = outcome.kind or "?"
    if outcome.error is not None:
        return (Text("failed", "bold red"), name, kind, outcome.error)
    verb = "updated" if outcome.updated else "imported"
    detail = f"→ {outcome.run_id}: {outcome.rows} metric rows, {outcome.evals} evals"
    if outcome.warnings:
        detail += f"; {len(outcome.warnings)} warning(s): {outcome.warnings[0]}"
    return (Text(verb, "green"), name, kind, detail)


class ImportScreen(HostedScreen):
    CSS_PATH = "import_.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+r", "toggle_recursive", "Recursive"),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {IMPORT_GROUP: "Import failed"}

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[Outcome] = []
        self.first_of_last = 0  # index in `outcomes` where the latest import's results begin

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "A log file or folder: trainer_state.json, W&B, TensorBoard, LLaMA-Factory, "
            "lm-eval, CSV. → completes the path, enter imports.",
            id="import-help",
        )
        with Horizontal(id="import-form"):
            yield Input(placeholder="path to import", suggester=PathSuggester(), id="import-path")
            yield Check("recursive", id="import-recursive")
            yield Button("Import", variant="primary", id="import-go")
        yield Static(Text("Nothing imported yet.", style="dim"), id="import-status")
        table: DataTable[str | Text] = DataTable(id="import-results", cursor_type="row")
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        table.add_column(DETAIL[1], key=DETAIL[0])
        yield table
        yield Static(id="import-detail")  # the highlighted row's full text: it rarely fits
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "import logs"
        self.query_one("#import-path", Input).focus()

    def action_toggle_recursive(self) -> None:
        self.query_one("#import-recursive", Check).toggle()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start_import()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-go":
            event.stop()
            self.start_import()

    def start_import(self) -> None:
        raw = self.query_one("#import-path", Input).value.strip()
        if not raw:
            self.notify("Type the path of a log file or folder first.", severity="warning")
            return
        path = Path(raw).expanduser()
        recursive = self.query_one("#import-recursive", Check).value
        self.first_of_last = len(self.outcomes)
        self.set_status(f"Importing {path}…")
        self.query_one("#import-go", Button).disabled = True
        self.import_worker(path, recursive)

    def set_status(self, text: str) -> None:
        self.query_one("#import-status", Static).update(Text(text))

    @work(thread=True, exclusive=True, exit_on_error=False, group=IMPORT_GROUP)
    def import_worker(self, path: Path, recursive: bool) -> list[Outcome]:
        from gsmreport.pipeline import import_logs

        def arrived(outcome: Outcome) -> None:
            self.app.call_from_thread(self.add_outcome, outcome)

        return import_logs(self.dirs, [path], recursive=recursive, on_outcome=arrived)

    def add_outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        table = self.query_one("#import-results", DataTable)
        table.add_row(*outcome_cells(outcome))
        if not outcome.ok:  # a failure's reason rarely fits its cell: show it in full at once
            self.show_detail(outcome)

    def show_detail(self, outcome: Outcome) -> None:
        text = f"{outcome.path}\n{outcome_cells(outcome)[3]}"
        self.query_one("#import-detail", Static).update(Text(text))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.outcomes):
            self.show_detail(self.outcomes[event.cursor_row])

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != IMPORT_GROUP:
            return
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#import-go", Button).disabled = False
        if event.state == WorkerState.SUCCESS:
            latest = self.outcomes[self.first_of_last :]  # this import, not the session
            ok = sum(1 for o in latest if o.ok)
            failed = len(latest) - ok
            self.set_status(f"{ok} imported, {failed} failed (g on the runs screen refreshes).")
        else:  # the dialog with the reason comes from HostedScreen
            self.set_status("Import stopped: see the error.")
