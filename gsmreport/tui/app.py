"""The Textual app: screens on top, the same core functions as the CLI underneath.

The app holds what outlives a screen (the folders, the background jobs) and opens every
screen; each screen's own keys live on the screen. Screens other than the
runs list are imported when first opened, so the first paint stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from textual.app import App
from textual.binding import Binding, BindingType

from gsmreport.core.errors import GsmReportError
from gsmreport.core.settings import Dirs
from gsmreport.tui.commands import GsmReportCommands
from gsmreport.tui.loading import load_detail
from gsmreport.tui.messages import (
    OpenCompare,
    OpenEvaluate,
    OpenReport,
    OpenRun,
    OpenSamples,
    ShowError,
)
from gsmreport.tui.screens.error import ErrorDialog
from gsmreport.tui.screens.runs import RunsScreen

if TYPE_CHECKING:
    from gsmreport.tui.jobs import Job

QUIT_CHOICES = [("leave", "Leave running"), ("stop", "Stop them"), ("cancel", "Cancel")]


class JobsLike(Protocol):
    """What the app needs of the job manager (gsmreport.tui.jobs.JobManager)."""

    def running(self) -> list[Job]: ...

    def cancel_all(self) -> None: ...

    def detach_all(self) -> None: ...


class GsmReportApp(App[None]):
    TITLE = "gsmreport"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {GsmReportCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", tooltip="Every key binding, screen by screen"),
        Binding("j", "show_job", "Job", show=False, tooltip="Watch the latest running job"),
        Binding("q", "quit", "Quit", tooltip="Quit (asks first while jobs are running)"),
    ]

    def __init__(self, dirs: Dirs, *, jobs: JobsLike | None = None) -> None:
        super().__init__()
        self.dirs = dirs
        if jobs is None:
            from gsmreport.tui.jobs import JobManager

            jobs = JobManager(dirs)
        self.jobs: JobsLike = jobs
        self.sub_title = str(dirs.runs)

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())

    # --- opening screens: what the screens ask for, by message -------------------------------

    def on_open_run(self, message: OpenRun) -> None:
        from gsmreport.tui.screens.run_detail import RunScreen

        try:
            detail = load_detail(self.dirs, message.run_id)
        except GsmReportError as exc:
            self.show_error("Cannot open run", str(exc))
            return
        self.push_screen(RunScreen(detail))

    def on_open_compare(self, message: OpenCompare) -> None:
        from gsmreport.tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(list(message.run_ids)))

    def on_open_evaluate(self, message: OpenEvaluate) -> None:
        from gsmreport.tui.screens.evaluate import EvaluateScreen

        self.push_screen(EvaluateScreen(run_id=message.run_id))

    def on_open_report(self, message: OpenReport) -> None:
        from gsmreport.tui.screens.report import ReportScreen

        screen = ReportScreen(list(message.run_ids))
        self.push_screen(screen)
        if message.render:
            screen.call_after_refresh(screen.action_render)

    def on_open_samples(self, message: OpenSamples) -> None:
        from gsmreport.tui.screens.samples import SampleBrowser

        self.push_screen(SampleBrowser(message.run_id, message.eval_id))

    def on_show_error(self, message: ShowError) -> None:
        """Every failure a screen reports, its workers' included (tui/screens/base.py)."""
        self.show_error(message.title, message.message)

    def action_train(self) -> None:
        from gsmreport.tui.screens.train import TrainScreen

        self.push_screen(TrainScreen())

    def action_import_logs(self) -> None:
        from gsmreport.tui.screens.import_ import ImportScreen

        self.push_screen(ImportScreen())

    def action_help(self) -> None:
        from gsmreport.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_show_job(self) -> None:
        from gsmreport.tui.screens.live import LiveScreen

        running = self.jobs.running()
        if not running:
            self.notify("No job is running: press t to start a training.", title="Jobs")
            return
        self.push_screen(LiveScreen(running[-1]))

    # --- quitting -----------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit at once, or ask first when jobs are running: leave them, stop them, or stay."""
        from gsmreport.tui.screens.confirm import ConfirmDialog

        if isinstance(self.screen, ConfirmDialog):
            return  # already asking
        running = self.jobs.running()
        if not running:
            self.exit()
            return

        names = ", ".join(f"{job.kind} {job.run_id}" for job in running)
        message = (
            f"Still running: {names}. Leave running (they keep writing their run folders), "
            "stop them (they end interrupted, metrics kept), or cancel?"
        )
        self.push_screen(ConfirmDialog("Quit gsmreport?", message, QUIT_CHOICES), self._quit_as)

    def _quit_as(self, choice: str | None) -> None:
        if choice == "leave":
            self.jobs.detach_all()
            self.exit()
        elif choice == "stop":
            self.notify("Stopping the running jobs: they end interrupted, their metrics kept…")
            self.run_worker(self._stop_all_then_exit, thread=True, group="quit")

    def _stop_all_then_exit(self) -> None:
        # cancel_all waits (up to 15 s) for each job to record `interrupted`; in a thread, so
        # that the screen keeps drawing and says what it is waiting for.
        self.jobs.cancel_all()
        self.call_from_thread(self.exit)

    def show_error(self, title: str, message: str) -> None:
        self.push_screen(ErrorDialog(title, message))


def make_app(dirs: Dirs, *, jobs: JobsLike | None = None) -> GsmReportApp:
    """The one way the CLI and the tests build the app (tests may hand in their own jobs)."""
    return GsmReportApp(dirs, jobs=jobs)


def run_tui(dirs: Dirs) -> None:
    """Open the TUI on `dirs` and return when the user quits."""
    make_app(dirs).run()
