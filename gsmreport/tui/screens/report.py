"""ReportScreen: render one run's report (or a comparison of several) and read it in place.

The renderer is the CLI's: `pipeline.render` for one run, `pipeline.render_comparison` for
several, run in a worker because charts and WeasyPrint take seconds. The Markdown preview
cannot show the charts (a terminal has no images), so each image becomes its alt text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Markdown, Static
from textual.worker import Worker, WorkerState

from gsmreport.core.errors import GsmReportError
from gsmreport.core.settings import Dirs
from gsmreport.tui.screens.base import HostedScreen

RENDER_GROUP = "report-screen-render"
IMAGE_RE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Rendered:
    paths: tuple[Path, ...]
    markdown: str


def preview_text(markdown: str) -> str:
    """Images as their alt text, in italics, so the reader still knows what each chart shows."""
    return IMAGE_RE.sub(lambda m: f"*[chart: {m.group(1) or 'no description'}]*", markdown)


def render_reports(dirs: Dirs, run_ids: list[str], *, pdf: bool, card: bool) -> Rendered:
    """One run: its report (and model card); several: one comparison report."""
    try:
        from gsmreport import pipeline

        if len(run_ids) == 1:
            one = pipeline.render(dirs, run_ids[0], pdf=pdf, card=card)
            written = (one.md, one.html, one.pdf, one.card)
        else:
            many = pipeline.render_comparison(dirs, run_ids, pdf=pdf)
            written = (many.md, many.html, many.pdf, None)
    except ImportError as exc:  # the report stack (or one of its libraries) is missing
        raise GsmReportError(f"report rendering is not available: {exc}") from exc
    paths = tuple(p for p in written if p is not None)
    return Rendered(paths, paths[0].read_text(encoding="utf-8"))


def existing_report(dirs: Dirs, run_ids: list[str]) -> Path | None:
    """The Markdown already written for these runs, previewed before any new render."""
    if len(run_ids) == 1:
        path = dirs.reports / run_ids[0] / "report.md"
    else:
        from gsmreport.pipeline import comparison_folder

        path = dirs.reports / comparison_folder(run_ids) / "compare.md"
    return path if path.is_file() else None


class ReportScreen(HostedScreen):
    CSS_PATH = "report.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "render", "Render"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {RENDER_GROUP: "Report failed"}

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = list(dict.fromkeys(run_ids))
        self.rendered: Rendered | None = None

    @property
    def single(self) -> bool:
        return len(self.run_ids) == 1

    def compose(self) -> ComposeResult:
        what = (
            f"Report for {self.run_ids[0]}"
            if self.single
            else f"Comparison of {len(self.run_ids)} runs: {', '.join(self.run_ids)}"
        )
        yield Header()
        yield Static(Text(what), id="report-title")
        with Horizontal(id="report-options"):
            yield Checkbox("PDF", value=True, id="report-pdf")
            yield Checkbox("Model card", value=False, id="report-card", disabled=not self.single)
            yield Button("Render (r)", variant="primary", id="report-render")
        yield Static(Text("Markdown is always written.", style="dim"), id="report-paths")
        with VerticalScroll(id="report-preview-box"):
            yield Markdown(id="report-preview", open_links=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"report · {', '.join(self.run_ids)}"
        existing = existing_report(self.dirs, self.run_ids)
        if existing is not None:
            self.show_paths(f"Last written: {existing}\nPress r to render again.")
            self.query_one(Markdown).update(preview_text(existing.read_text(encoding="utf-8")))
        else:
            self.query_one(Markdown).update("*No report yet: press r to render one.*")
        self.query_one("#report-render", Button).focus()

    def show_paths(self, text: str) -> None:
        self.query_one("#report-paths", Static).update(Text(text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "report-render":
            event.stop()
            self.action_render()

    def action_render(self) -> None:
        pdf = self.query_one("#report-pdf", Checkbox).value
        card = self.single and self.query_one("#report-card", Checkbox).value
        self.show_paths("Rendering… (charts and PDF take a few seconds)")
        self.query_one("#report-render", Button).disabled = True
        self.render_worker(pdf, card)

    @work(thread=True, exclusive=True, exit_on_error=False, group=RENDER_GROUP)
    def render_worker(self, pdf: bool, card: bool) -> Rendered:
        return render_reports(self.dirs, self.run_ids, pdf=pdf, card=card)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != RENDER_GROUP:
            return
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#report-render", Button).disabled = False
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, Rendered):
            self.rendered = event.worker.result
            self.show_paths("Written:\n" + "\n".join(str(p) for p in self.rendered.paths))
            self.query_one(Markdown).update(preview_text(self.rendered.markdown))
        else:  # the dialog with the reason comes from HostedScreen
            self.show_paths("Nothing written: see the error.")
