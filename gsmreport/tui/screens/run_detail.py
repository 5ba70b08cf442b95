"""One run in full: what was trained, how it went, its evaluations, config and report."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import yaml
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from gsmreport.answers import FILTERS
from gsmreport.tui.cells import MISSING, fmt_duration, fmt_em, fmt_float, fmt_pct, fmt_time
from gsmreport.tui.loading import RunDetail, report_paths
from gsmreport.tui.messages import ReportRendered

if TYPE_CHECKING:
    from gsmreport.tui.app import GsmReportApp


def _pairs(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def overview(d: RunDetail) -> Table:
    r = d.record
    return _pairs(
        [
            ("kind", r.kind),
            ("status", r.status),
            ("model", r.model or MISSING),
            ("method", r.method or MISSING),
            ("data", r.data or MISSING),
            ("created", fmt_time(r.created_at)),
            ("started", fmt_time(r.started_at)),
            ("finished", fmt_time(r.finished_at)),
            ("runtime", fmt_duration(d.runtime_s)),
            *([("error", r.error)] if r.error else []),
        ]
    )


def headline(d: RunDetail) -> Table:
    s = d.summary
    em = fmt_em(s) + (f"  (n = {s.n_eval})" if s.n_eval else "")
    return _pairs(
        [
            ("final train loss", fmt_float(s.final_loss)),
            ("loss drop", fmt_pct(s.loss_drop_pct, fraction=False)),
            ("token accuracy (final)", fmt_pct(s.token_acc_final, fraction=True)),
            ("exact match, 95% CI", em),
        ]
    )


def evaluations(d: RunDetail) -> Table | Text:
    if not d.evals:
        return Text("No evaluations yet.", style="dim")
    table = Table("eval", *FILTERS, box=None, header_style="bold")
    for ev in d.evals:
        cells = [
            f"{k}/{n} ({k / n * 100:.1f} %)" if n else f"{k}/{n}"
            for k, n in (ev.counts.get(f, (0, 0)) for f in FILTERS)
        ]
        table.add_row(ev.eval_id, *cells)
    return table


class RunScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("r", "render_report", "Render report"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, detail: RunDetail) -> None:
        super().__init__()
        self.detail = detail
        self.run_id = detail.record.id

    @property
    def gsm_app(self) -> GsmReportApp:
        from gsmreport.tui.app import GsmReportApp

        assert isinstance(self.app, GsmReportApp)
        return self.app

    def compose(self) -> ComposeResult:
        detail = self.detail
        config = yaml.safe_dump(detail.record.config, sort_keys=False).strip()
        yield Header()
        with VerticalScroll(id="run-detail"):
            yield Static(Text(f"Run {self.run_id}"), id="run-title")
            yield Static(overview(detail), id="run-overview", classes="section")
            yield Static("Headline", classes="heading")
            yield Static(headline(detail), id="run-headline", classes="section")
            yield Static("Evaluations", classes="heading")
            yield Static(evaluations(detail), id="run-evals", classes="section")
            yield Static("Report", classes="heading")
            yield Static(id="run-report", classes="section")
            yield Static("Config", classes="heading")
            yield Static(Text(config if config != "{}" else "(none recorded)"), id="run-config")
        yield Footer()

    def on_mount(self) -> None:
        self.show_reports()

    def show_reports(self) -> None:
        paths = report_paths(self.gsm_app.dirs, self.run_id)
        text = "\n".join(str(p) for p in paths) or "No report yet: press r to render one."
        self.query_one("#run-report", Static).update(Text(text))

    def action_render_report(self) -> None:
        self.gsm_app.render_report(self.run_id)

    def on_report_rendered(self, message: ReportRendered) -> None:
        if message.run_id == self.run_id:
            self.show_reports()
