"""The Textual app: screens on top, the same core functions as the CLI underneath."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from gsmreport.errors import GsmReportError
from gsmreport.settings import Dirs
from gsmreport.tui.loading import load_detail
from gsmreport.tui.messages import ReportRendered
from gsmreport.tui.rendering import RenderFn, ReportPathsLike, describe, render_with_pipeline
from gsmreport.tui.screens.error import ErrorDialog
from gsmreport.tui.screens.run_detail import RunScreen
from gsmreport.tui.screens.runs import RunsScreen

RENDER_GROUP = "render"


class GsmReportApp(App[None]):
    TITLE = "gsmreport"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, dirs: Dirs, render_fn: RenderFn | None = None) -> None:
        super().__init__()
        self.dirs = dirs
        self.render_fn: RenderFn = render_fn or render_with_pipeline
        self.sub_title = str(dirs.runs)

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())

    def open_run(self, run_id: str) -> None:
        try:
            detail = load_detail(self.dirs, run_id)
        except GsmReportError as exc:
            self.show_error("Cannot open run", str(exc))
            return
        self.push_screen(RunScreen(detail))

    def render_report(self, run_id: str) -> None:
        self.notify(f"Rendering the report for {run_id}…", title="Report")
        self._render_worker(run_id)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group=RENDER_GROUP,
        description="render report",
    )
    def _render_worker(self, run_id: str) -> tuple[str, ReportPathsLike]:
        return run_id, self.render_fn(self.dirs, run_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where render results and errors reach the user."""
        worker = event.worker
        if worker.group != RENDER_GROUP:
            return
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            run_id, paths = worker.result
            self.notify(describe(paths), title=f"Report for {run_id} written", timeout=10)
            self.screen.post_message(ReportRendered(run_id, paths))
        elif event.state == WorkerState.ERROR:
            error = worker.error
            message = (
                str(error)
                if isinstance(error, GsmReportError)
                else f"unexpected {type(error).__name__}: {error}"
            )
            self.show_error("Report failed", message)

    def show_error(self, title: str, message: str) -> None:
        self.push_screen(ErrorDialog(title, message))


def make_app(dirs: Dirs, render_fn: RenderFn | None = None) -> GsmReportApp:
    """The one way the CLI and the tests build the app."""
    return GsmReportApp(dirs, render_fn=render_fn)


def run_tui(dirs: Dirs) -> None:
    """Open the TUI on `dirs` and return when the user quits."""
    make_app(dirs).run()
