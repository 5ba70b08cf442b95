"""One run in full: headline cards, every logged series, evaluations with failure
categories, the console, config, report.

What run.yaml gives is shown at once; the series and failure categories (a parquet read and a
pass over every sample) arrive from a worker, so opening a run never freezes the UI. The
screen stays live: it polls the run folder's file times and reads the run again (cards, grid,
evaluations, console) when one moved, and on coming back from another screen.
"""

from __future__ import annotations

import time
from pathlib import Path
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
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static
from textual.worker import Worker, WorkerState

from gsmreport.core.errors import GsmReportError
from gsmreport.core.fmt import DASH, usd
from gsmreport.core.redact import redacted
from gsmreport.gsm8k.answers import FILTERS
from gsmreport.tui.cells import MISSING, fmt_duration, fmt_em, fmt_float, fmt_pct, fmt_time
from gsmreport.tui.console_log import console_path, tail
from gsmreport.tui.detail import RunExtras, extras, kind_line, task_cards, top_failures
from gsmreport.tui.loading import RunDetail, load_detail, report_paths
from gsmreport.tui.messages import OpenReport, OpenSamples
from gsmreport.tui.screens.base import HostedScreen
from gsmreport.tui.widgets.metric_grid import MetricGrid

EXTRAS_GROUP = "run-extras"
CONSOLE_LINES = 30


def _pairs(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, Text(value))
    return table


def reason(d: RunDetail) -> str | None:
    """Why a run stopped short: the recorded error, else the import's first warning (W&B's
    "log ends mid-record" is a warning of the importer, not an error of the run)."""
    r = d.record
    if r.status not in ("interrupted", "failed"):
        return None
    return r.error or (r.warnings[0] if r.warnings else "no reason recorded")


def overview(d: RunDetail) -> Table:
    r = d.record
    why = reason(d)
    source = [("source", f"{r.source.kind}: {r.source.path}")] if r.source else []
    return _pairs(
        [
            ("kind", f"{r.kind}; detected: {d.kind}" if d.kind else r.kind),
            ("status", f"{r.status}: {why}" if why else r.status),
            *source,
            ("model", r.model or MISSING),
            ("method", r.method or MISSING),
            ("data", r.data or MISSING),
            ("created", fmt_time(r.created_at)),
            ("started", fmt_time(r.started_at)),
            ("finished", fmt_time(r.finished_at)),
            ("runtime", fmt_duration(d.runtime_s)),
            *([("error", r.error)] if r.error and r.error != why else []),
            *(("warning", w) for w in r.warnings if w != why),
        ]
    )


def finals_table(extras: RunExtras | None) -> RenderableType:
    """Series logged once (the trainer's closing summary, a final test score)."""
    if extras is None:
        return Text("Reading…", style="dim")
    if not extras.finals:
        return Text("None.", style="dim")
    return _pairs([(name, f"{value:.6g}") for name, value in extras.finals])


def console_text(run_dir: Path) -> Text:
    path = console_path(run_dir)
    if path is None:
        return Text("No console log (logs/stdout.log or logs/console.log).", style="dim")
    lines = tail(path, CONSOLE_LINES)
    text = Text(f"{path} (last {len(lines)} lines)\n", style="dim")
    text.append("\n".join(lines) or "(empty)")
    return text


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
    scores = [
        _card("token accuracy (final)", fmt_pct(s.token_acc_final, fraction=True)),
        _card("exact match, 95% CI", em),
    ]
    if s.em is None and s.token_acc_final is None and d.task_cards:
        # A classifier, a reward model, DPO…: its own task metrics instead of two empty cards.
        scores = [_card(title, value) for title, value in d.task_cards]
    return Columns(
        [
            _card("final train loss", fmt_float(s.final_loss)),
            _card("loss drop", fmt_pct(s.loss_drop_pct, fraction=False)),
            *scores,
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


def _eval_stamps(stamps: dict[str, int]) -> dict[str, int]:
    return {name: mtime for name, mtime in stamps.items() if name.startswith("evals/")}


class RunScreen(HostedScreen):
    """A run's view. `POLL_S`: how often the run folder's file times are compared."""

    POLL_S = 2.0
    CSS_PATH = "run_detail.tcss"
    # Two charts side by side once there is room for both at a readable width. (Textual
    # declares this `ClassVar[...] | None`, which mypy reads as an instance variable, hence
    # no ClassVar here.)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Clear the chart filter, else go back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("s", "samples", "Samples"),
        Binding("r", "report", "Report"),
        Binding("right_square_bracket", "page(1)", "Next charts", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Prev charts", key_display="[", show=False),
        Binding("slash", "filter", "Filter", tooltip="Show only charts matching a regex"),
        Binding("l", "log_y", "Log-Y", tooltip="Logarithmic y axis on every chart"),
        Binding(
            "plus,equals_sign",
            "zoom(1)",
            "Zoom",
            key_display="+",
            tooltip="Leave out more of the start",
        ),
        Binding("minus", "zoom(-1)", "Unzoom", show=False, tooltip="Leave out less of the start"),
        Binding("0", "zoom(0)", "Whole range", show=False, tooltip="Show the whole x range"),
        Binding("f5", "reload", "Reload", show=False, tooltip="Read the run again now"),
        Binding("q", "app.quit", "Quit"),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {EXTRAS_GROUP: "Cannot read the run"}

    def __init__(self, detail: RunDetail) -> None:
        super().__init__()
        self.detail = detail
        self.run_id = detail.record.id
        self.extras: RunExtras | None = None
        self.config_text = config_text(detail.record.config)
        self._stamps: dict[str, int] | None = None  # file times the shown figures were read at
        self._poll: Timer | None = None
        self._rest_until = 0.0  # monotonic time before which a poll reads nothing
        self._halted = False  # the last read failed: no polling until one succeeds

    def compose(self) -> ComposeResult:
        detail = self.detail
        yield Header()
        with VerticalScroll(id="run-detail"):
            yield Static(Text(f"Run {self.run_id}"), id="run-title")
            yield Static(headline(detail), id="run-headline")
            yield Static("Reading the curves…", id="run-curves-note", classes="note")
            yield Input(placeholder="regex over chart and series names", id="run-filter")
            yield MetricGrid(id="run-grid")
            yield Static("Overview", classes="heading")
            yield Static(overview(detail), id="run-overview", classes="section")
            yield Static("Evaluations", id="run-evals-heading", classes="heading")
            yield Static(evaluations(None), id="run-evals", classes="section")
            yield Static("Failure categories", classes="heading")
            yield Static(Text("Reading…", style="dim"), id="run-failures", classes="section")
            yield Static("Logged once", classes="heading")
            yield Static(finals_table(None), id="run-finals", classes="section")
            yield Static("Console", classes="heading")
            yield Static(id="run-console", classes="section")
            yield Static("Report", classes="heading")
            yield Static(id="run-report", classes="section")
            yield Static("Config", classes="heading")
            yield Static(Text(self.config_text), id="run-config")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"run {self.run_id}"
        self.query_one("#run-filter", Input).display = False
        self.query_one("#run-grid", MetricGrid).display = False
        self.show_reports()
        self.load_extras()
        self._poll = self.set_interval(self.POLL_S, self.poll_run)

    @property
    def run_dir(self) -> Path:
        return self.dirs.runs / self.run_id

    def stamps(self) -> dict[str, int]:
        """File times of everything this view shows: the headline's inputs and the console."""
        from gsmreport import pipeline

        found = pipeline.headline_inputs(self.run_dir)
        console = console_path(self.run_dir)
        if console is not None:
            found[str(console)] = console.stat().st_mtime_ns
        return found

    def poll_run(self) -> None:
        """Read the run again when a file it shows moved (a few stats; nothing read if not).

        Not while a read is under way: on a run whose read takes longer than the poll
        interval, each poll would otherwise cancel the read before it could finish."""
        if any(
            w.node is self and w.group == EXTRAS_GROUP and not w.is_finished for w in self.workers
        ):
            return
        if self._halted or time.monotonic() < self._rest_until:
            return
        try:
            changed = self.stamps() != self._stamps
        except OSError:  # a file went between the listing and the stat: look next time
            return
        if changed:
            self.load_extras()

    @work(thread=True, exclusive=True, exit_on_error=False, group=EXTRAS_GROUP)
    def load_extras(self) -> tuple[RunDetail, RunExtras, Text, dict[str, int]]:
        """The run read again from disk: headline (cards, overview), series, evaluations.

        A read that fails halts the polling (set here, in the worker, so that no poll can
        start another read before the failure reaches the screen): the base class shows the
        error once, where polling on would show it every 2 s. Coming back to the screen or
        f5 tries again, and a read that succeeds lifts the halt."""
        try:
            return self._read_run()
        except Exception:
            self._halted = True
            raise

    def _read_run(self) -> tuple[RunDetail, RunExtras, Text, dict[str, int]]:
        from gsmreport import pipeline

        started = time.monotonic()
        stamps = self.stamps()  # before reading: a write during the read shows next poll
        analysis = pipeline.analyse(self.dirs, self.run_id)
        try:
            # The cards from the very analysis the charts come from: the log is parsed once.
            detail = RunDetail(
                record=analysis.record,
                summary=analysis.headline(),
                kind=kind_line(analysis),
                task_cards=task_cards(analysis),
            )
        except (GsmReportError, KeyError, TypeError, ValueError, OSError):
            detail = load_detail(self.dirs, self.run_id)  # a broken results file: run.yaml's
        before, shown = self._stamps or {}, self.extras
        same_evals = shown is not None and _eval_stamps(before) == _eval_stamps(stamps)
        found = extras(analysis, shown.evals if shown and same_evals else None)
        # A long run's log takes a while to read: rest three times that long before the next
        # read, so that following it never keeps a core busy (at most a quarter of one).
        self._rest_until = time.monotonic() + 3 * (time.monotonic() - started)
        return detail, found, console_text(self.run_dir), stamps

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != EXTRAS_GROUP:
            return
        result = event.worker.result
        if event.state == WorkerState.SUCCESS and isinstance(result, tuple):
            self._halted = False
            detail, found, console, self._stamps = result
            self.show_detail(detail)
            self.show_extras(found)
            self.query_one("#run-console", Static).update(console)

    def show_detail(self, detail: RunDetail) -> None:
        self.detail = detail
        self.query_one("#run-headline", Static).update(headline(detail))
        self.query_one("#run-overview", Static).update(overview(detail))

    def show_extras(self, extras: RunExtras) -> None:
        first = self.extras is None
        self.extras = extras
        self.query_one("#run-grid", MetricGrid).set_panels(extras.panels)
        note = self.query_one("#run-curves-note", Static)
        note.update(Text(extras.metrics_note))
        note.display = bool(extras.metrics_note)
        self.query_one("#run-evals", Static).update(evaluations(extras))
        self.query_one("#run-failures", Static).update(failure_tables(extras))
        self.query_one("#run-finals", Static).update(finals_table(extras))
        if first and not extras.panels and extras.evals:
            # An evaluation-only run (lm-eval): open on what it has, its evaluations.
            evals = self.query_one("#run-evals-heading", Static)
            self.call_after_refresh(
                self.query_one(VerticalScroll).scroll_to_widget, evals, top=True, animate=False
            )

    # --- the chart grid ----------------------------------------------------------------------

    @property
    def grid(self) -> MetricGrid:
        return self.query_one("#run-grid", MetricGrid)

    def action_page(self, delta: int) -> None:
        self.grid.turn_page(delta)

    def action_log_y(self) -> None:
        self.grid.toggle_log()

    def action_zoom(self, delta: int) -> None:
        self.grid.change_zoom(delta)

    def action_filter(self) -> None:
        box = self.query_one("#run-filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "run-filter":
            self.grid.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "run-filter":
            self.query_one(VerticalScroll).focus()  # keep the filter, give the keys back

    def action_back(self) -> None:
        """esc: clear the chart filter first; with none, back to the previous screen."""
        box = self.query_one("#run-filter", Input)
        if box.display or self.grid.pattern:
            box.value = ""
            box.display = False
            self.grid.set_filter("")
            self.query_one(VerticalScroll).focus()
            return
        self.app.pop_screen()

    def action_reload(self) -> None:
        self.load_extras()

    def show_reports(self) -> None:
        paths = report_paths(self.dirs, self.run_id)
        text = "\n".join(str(p) for p in paths) or "No report yet: press r to render one."
        self.query_one("#run-report", Static).update(Text(text))

    def on_screen_resume(self) -> None:
        """Back from another screen (report, live job): show what it wrote, read the run
        again so that no figure is older than the files."""
        self.show_reports()
        if self.extras is not None:
            self.load_extras()

    def action_samples(self) -> None:
        from gsmreport import pipeline

        ids = pipeline.sample_eval_ids(self.dirs, self.run_id)  # the latest last
        if not ids:
            self.notify("This run has no evaluation samples to browse.", severity="warning")
            return
        self.post_message(OpenSamples(self.run_id, ids[-1]))

    def action_report(self) -> None:
        self.post_message(OpenReport((self.run_id,)))
