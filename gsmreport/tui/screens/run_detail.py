"""One run in full: headline cards, curves, evaluations with failure categories, config, report.

What run.yaml and results.json give is shown at once; the curves and failure categories (a
parquet read and a pass over every sample) arrive from a worker, so opening a run never
freezes the UI.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from gsmreport.core.fmt import DASH, usd
from gsmreport.core.redact import redacted
from gsmreport.gsm8k.answers import FILTERS
from gsmreport.tui.cells import MISSING, fmt_duration, fmt_em, fmt_float, fmt_pct, fmt_time
from gsmreport.tui.detail import RunExtras, extras, top_failures
from gsmreport.tui.loading import RunDetail, report_paths
from gsmreport.tui.messages import OpenReport, OpenSamples
from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.curve import CurveChart

EXTRAS_GROUP = "run-extras"
CHART_IDS = {"Loss": "curve-loss", "Token accuracy": "curve-acc", "Learning rate": "curve-lr"}


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


def config_text(config: dict[str, Any]) -> str:
    if not config:
        return "(none recorded)"
    return yaml.safe_dump(redacted(config), sort_keys=False, allow_unicode=True).strip()


def cost_card(d: RunDetail) -> tuple[str, str]:
    """(card title, value): the device-hours go in the title to keep the card narrow."""
    s = d.summary
    if s.device_hours is None:
        return "cost: no hardware recorded", MISSING
    hours = f"cost, {s.device_hours:.3g} device-h"
    return (
        (hours, usd(s.cost_usd, missing=DASH))
        if s.cost_usd is not None
        else (
            hours,
            "no price known",
        )
    )


def _card(label: str, value: str) -> Panel:
    return Panel(Text(value, style="bold"), title=label, title_align="left", expand=False)


def headline(d: RunDetail) -> Columns:
    """The six figures a person looks for first, one small card each."""
    s = d.summary
    em = fmt_em(s) + (f"  (n = {s.n_eval})" if s.n_eval else "")
    return Columns(
        [
            _card("final train loss", fmt_float(s.final_loss)),
            _card("loss drop", fmt_pct(s.loss_drop_pct, fraction=False)),
            _card("token accuracy (final)", fmt_pct(s.token_acc_final, fraction=True)),
            _card("exact match, 95% CI", em),
            _card(*cost_card(d)),
            _card("runtime", fmt_duration(d.runtime_s)),
        ]
    )


def _count_cell(correct: int, n: int) -> str:
    return f"{correct}/{n} ({correct / n * 100:.1f} %)" if n else f"{correct}/{n}"


def evaluations(extras: RunExtras | None) -> RenderableType:
    """Scores per filter (rescored from samples.jsonl, as in the report) and the commonest
    failure categories; the evaluation the headline uses is marked."""
    if extras is None:
        return Text("Reading…", style="dim")
    if not extras.evals:
        return Text("No evaluations yet.", style="dim")
    table = Table("eval", *FILTERS, "commonest failures", box=None, header_style="bold")
    for ev in extras.evals:
        scores = {s.filter: s for s in ev.scores}
        cells = [
            _count_cell(scores[f].correct, scores[f].n) if f in scores else MISSING for f in FILTERS
        ]
        label = f"{ev.eval_id} (latest)" if ev.latest else ev.eval_id
        table.add_row(label, *cells, top_failures(ev.failures) or MISSING)
    return table


def failure_tables(extras: RunExtras) -> RenderableType:
    """Every category of every evaluation that has samples (zeros too: a clean bill counts)."""
    parts: list[RenderableType] = []
    for ev in extras.evals:
        if not ev.failures:
            continue
        wrong = sum(f.count for f in ev.failures)
        table = Table(
            "category",
            "count",
            "share of wrong",
            box=None,
            header_style="bold",
            title_justify="left",
        )
        table.title = f"{ev.eval_id}: {wrong} wrong of {ev.n_samples}"
        for f in ev.failures:
            table.add_row(f.category, str(f.count), f"{f.share * 100:.0f} %" if wrong else MISSING)
        parts.append(table)
    if not parts:
        return Text("No samples.jsonl to categorise.", style="dim")
    return Group(*parts)


class RunScreen(HostedScreen):
    CSS_PATH = "run_detail.tcss"
    # Two charts side by side once there is room for both at a readable width. (Textual
    # declares this `ClassVar[...] | None`, which mypy reads as an instance variable, hence
    # no ClassVar here.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("s", "samples", "Samples"),
        Binding("r", "report", "Report"),
        Binding("q", "app.quit", "Quit"),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {EXTRAS_GROUP: "Cannot read the run"}

    def __init__(self, detail: RunDetail) -> None:
        super().__init__()
        self.detail = detail
        self.run_id = detail.record.id
        self.extras: RunExtras | None = None
        self.config_text = config_text(detail.record.config)

    def compose(self) -> ComposeResult:
        detail = self.detail
        yield Header()
        with VerticalScroll(id="run-detail"):
            yield Static(Text(f"Run {self.run_id}"), id="run-title")
            yield Static(headline(detail), id="run-headline")
            yield Static("Reading the curves…", id="run-curves-note", classes="note")
            with Grid(id="run-curves"):
                for title, chart_id in CHART_IDS.items():
                    yield CurveChart(title, id=chart_id)
            yield Static("Overview", classes="heading")
            yield Static(overview(detail), id="run-overview", classes="section")
            yield Static("Evaluations", classes="heading")
            yield Static(evaluations(None), id="run-evals", classes="section")
            yield Static("Failure categories", classes="heading")
            yield Static(Text("Reading…", style="dim"), id="run-failures", classes="section")
            yield Static("Report", classes="heading")
            yield Static(id="run-report", classes="section")
            yield Static("Config", classes="heading")
            yield Static(Text(self.config_text), id="run-config")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"run {self.run_id}"
        self.show_reports()
        self.load_extras()

    @work(thread=True, exclusive=True, exit_on_error=False, group=EXTRAS_GROUP)
    def load_extras(self) -> RunExtras:
        from gsmreport import pipeline

        return extras(pipeline.analyse(self.dirs, self.run_id))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != EXTRAS_GROUP:
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, RunExtras):
            self.show_extras(event.worker.result)

    def show_extras(self, extras: RunExtras) -> None:
        self.extras = extras
        for chart in extras.charts:
            self.query_one(f"#{CHART_IDS[chart.title]}", CurveChart).set_series(
                chart.series, y_label=chart.y_label
            )
        note = self.query_one("#run-curves-note", Static)
        note.update(Text(extras.metrics_note))
        note.display = bool(extras.metrics_note)
        self.query_one("#run-evals", Static).update(evaluations(extras))
        self.query_one("#run-failures", Static).update(failure_tables(extras))

    def show_reports(self) -> None:
        paths = report_paths(self.dirs, self.run_id)
        text = "\n".join(str(p) for p in paths) or "No report yet: press r to render one."
        self.query_one("#run-report", Static).update(Text(text))

    def on_screen_resume(self) -> None:
        """Back from the report screen: show what it wrote."""
        self.show_reports()

    def action_samples(self) -> None:
        from gsmreport import pipeline

        ids = pipeline.sample_eval_ids(self.dirs, self.run_id)  # the latest last
        if not ids:
            self.notify("This run has no evaluation samples to browse.", severity="warning")
            return
        self.post_message(OpenSamples(self.run_id, ids[-1]))

    def action_report(self) -> None:
        self.post_message(OpenReport((self.run_id,)))
