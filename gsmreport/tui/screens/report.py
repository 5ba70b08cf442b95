"""ReportScreen: render one run's report (or a comparison of several) and read it in place.

The renderer is the CLI's: `pipeline.render` for one run, `pipeline.render_comparison` for
several, run in a worker because charts and WeasyPrint take seconds. The Markdown preview
cannot show the charts (a terminal has no images), so each image becomes its alt text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Footer, Header, Markdown, Static
from textual.worker import Worker, WorkerState

from gsmreport.core.errors import GsmReportError
from gsmreport.core.settings import Dirs
from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.check import Check

RENDER_GROUP = "report-screen-render"
OPEN_KEYS = "o opens the PDF (else HTML, else Markdown), h the HTML, f the folder"
RENDERING = "*Rendering: the preview appears as soon as report.md is written…*"
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


def report_folder(dirs: Dirs, run_ids: list[str]) -> tuple[Path, str]:
    """Where the report of these runs is written, and its file stem (report or compare)."""
    if len(run_ids) == 1:
        return dirs.reports / run_ids[0], "report"
    from gsmreport.pipeline import comparison_folder

    return dirs.reports / comparison_folder(run_ids), "compare"


def existing_report(dirs: Dirs, run_ids: list[str]) -> Path | None:
    """The Markdown already written for these runs, previewed before any new render."""
    folder, stem = report_folder(dirs, run_ids)
    path = folder / f"{stem}.md"
    return path if path.is_file() else None


def document(dirs: Dirs, run_ids: list[str], kind: str) -> Path:
    """What `o` (the PDF, else the HTML, else the Markdown), `h` (the HTML) and `f` (the
    folder) open."""
    folder, stem = report_folder(dirs, run_ids)
    if kind == "folder":
        return folder
    if kind == "html":
        return folder / f"{stem}.html"
    # The richest document written: a render without PDF writes no HTML either.
    candidates = [folder / f"{stem}.{ext}" for ext in ("pdf", "html", "md")]
    return next((p for p in candidates if p.is_file()), candidates[0])


class ReportScreen(HostedScreen):
    CSS_PATH = "report.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "render", "Render"),
        Binding("o", "open('document')", "Open", tooltip="Open the PDF (else HTML, else Markdown)"),
        Binding("h", "open('html')", "HTML", tooltip="Open the HTML report"),
        Binding("f", "open('folder')", "Folder", tooltip="Open the report's folder"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {RENDER_GROUP: "Report failed"}

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__()
        self.run_ids = list(dict.fromkeys(run_ids))
        self.rendered: Rendered | None = None
        self._render_started = 0.0  # wall clock of the render in progress (0: none)
        self._previewed = 0  # mtime (ns) of the report.md the preview shows
        self._watch: Timer | None = None

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
            yield Check("PDF", value=True, id="report-pdf")
            yield Check("Model card", value=False, id="report-card", disabled=not self.single)
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
        pdf = self.query_one("#report-pdf", Check).value
        card = self.single and self.query_one("#report-card", Check).value
        self.show_paths("Rendering… (charts and PDF take a few seconds)")
        self.query_one("#report-render", Button).disabled = True
        if existing_report(self.dirs, self.run_ids) is None:
            self.query_one(Markdown).update(RENDERING)
        # The preview follows report.md the moment it is written, before HTML and PDF are.
        self._render_started = time.time()
        if self._watch is None:
            self._watch = self.set_interval(0.2, self.preview_if_written)
        else:
            self._watch.resume()
        self.render_worker(pdf, card)

    def preview_if_written(self) -> None:
        """Show report.md once this render has written it (a newer file than the preview's)."""
        path = existing_report(self.dirs, self.run_ids)
        if path is None or not self._render_started:
            return
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return
        if mtime > self._previewed and mtime / 1e9 >= self._render_started - 1:
            self._previewed = mtime
            self.query_one(Markdown).update(preview_text(path.read_text(encoding="utf-8")))

    def action_open(self, kind: str) -> None:
        """Open the rendered PDF/HTML or the folder with the system opener (tui/opener.py);
        where there is none, the path to copy."""
        from gsmreport.tui.opener import open_path

        target = document(self.dirs, self.run_ids, "pdf" if kind == "document" else kind)
        line = open_path(target)
        self.show_paths(line)
        self.notify(
            line, title="Open", severity="information" if line.startswith("opened") else "warning"
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group=RENDER_GROUP)
    def render_worker(self, pdf: bool, card: bool) -> Rendered:
        return render_reports(self.dirs, self.run_ids, pdf=pdf, card=card)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != RENDER_GROUP:
            return
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#report-render", Button).disabled = False
        self._render_started = 0.0
        if self._watch is not None:
            self._watch.pause()
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, Rendered):
            self.rendered = event.worker.result
            written = "\n".join(str(p) for p in self.rendered.paths)
            self.show_paths(f"Written:\n{written}\n{OPEN_KEYS}")
            md = self.rendered.paths[0]
            mtime = md.stat().st_mtime_ns if md.is_file() else 0
            if mtime != self._previewed:  # not already shown by preview_if_written
                self._previewed = mtime
                self.query_one(Markdown).update(preview_text(self.rendered.markdown))
        else:  # the dialog with the reason comes from HostedScreen
            self.show_paths("Nothing written: see the error.")
