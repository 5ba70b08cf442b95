"""SampleBrowser: one evaluated problem at a time — question, gold, prediction, verdict.

n / p step through the rows shown, f cycles the category filter (all → wrong → correct → each
failure category present), e moves to the run's next evaluation. The rows are read and judged
in a worker: `diagnose` over a full GSM8K test set takes a moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from gsmreport import pipeline
from gsmreport.tui.cells import MISSING
from gsmreport.tui.screens.base import HostedScreen

if TYPE_CHECKING:
    from gsmreport.pipeline import SampleRow, SampleSet

ALL = "all"  # the first filter: every row (analysis.sample_rows names the rest)

ROWS_GROUP = "sample-rows"


def verdict(row: SampleRow) -> Text:
    text = Text()
    if row.correct:
        text.append("✓ correct", style="bold green")
    else:
        text.append(f"✗ {row.category}", style="bold red")
        if row.evidence:
            text.append(f" — {row.evidence}")
    return text


def answers(row: SampleRow) -> Text:
    """The gold answer, then each filter's answer with its verdict (strict-match,
    flexible-extract, numeric-match: analysis/sample_scores.py), one line each."""
    text = Text()
    text.append("gold              ", style="bold")
    text.append(row.gold if row.gold is not None else MISSING)
    found = row.answers or ()
    if not found:  # a row built without them: the strict-match prediction alone
        text.append("\nprediction        ", style="bold")
        text.append(row.prediction if row.prediction is not None else f"{MISSING} (none found)")
        return text
    for answer in found:
        text.append(f"\n{answer.name:<18}", style="bold")
        shown = answer.prediction if answer.prediction is not None else f"{MISSING} (none found)"
        text.append(f"{shown:<14} ")
        if answer.correct:
            text.append("✓ correct", style="green")
        else:
            text.append("✗ wrong", style="red")
    return text


class SampleBrowser(HostedScreen):
    CSS_PATH = "samples.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "step(1)", "Next"),
        Binding("p", "step(-1)", "Previous"),
        Binding("f", "cycle_filter", "Filter"),
        Binding("e", "next_eval", "Next eval"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]
    FAILURE_TITLES: ClassVar[dict[str, str]] = {ROWS_GROUP: "Cannot read the samples"}

    def __init__(self, run_id: str, eval_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.eval_id = eval_id
        self.samples: SampleSet | None = None
        self.sample_rows: list[SampleRow] = []
        self.category = ALL
        self.shown_rows: list[SampleRow] = []
        self.index = 0

    @property
    def current(self) -> SampleRow | None:
        return self.shown_rows[self.index] if self.shown_rows else None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(f"{self.run_id} / {self.eval_id}: reading…"), id="sample-status")
        with VerticalScroll(id="sample-body"):
            yield Static(id="sample-verdict")
            yield Static(id="sample-answers")
            yield Static("Question", classes="heading")
            yield Static(id="sample-question", classes="section", markup=False)
            yield Static("Gold solution", classes="heading")
            yield Static(id="sample-solution", classes="section", markup=False)
            yield Static("Model output", classes="heading")
            yield Static(id="sample-response", classes="section", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"samples · {self.run_id} · {self.eval_id}"
        self.read_rows()

    @work(thread=True, exclusive=True, exit_on_error=False, group=ROWS_GROUP)
    def read_rows(self) -> SampleSet:
        return pipeline.samples(self.dirs, self.run_id, self.eval_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != ROWS_GROUP:
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.samples = event.worker.result
            self.sample_rows = list(self.samples.rows)
            self.apply_filter(ALL)

    def apply_filter(self, category: str) -> None:
        self.category = category
        self.shown_rows = self.samples.matching(category) if self.samples else []
        self.index = 0
        self.show()

    def show(self) -> None:
        row = self.current
        at = self.index + 1 if row else 0
        shown = f"{at} of {len(self.shown_rows)}"
        model = self.samples.model if self.samples and self.samples.model else MISSING
        status = (
            f"{self.run_id} / {self.eval_id} · {shown} · filter: {self.category}"
            + (f" · doc {row.doc_id}" if row else "")
            + f" · model {model}"
        )
        self.query_one("#sample-status", Static).update(Text(status))
        empty = Text("No rows match this filter: press f for the next one.", style="dim")
        self.query_one("#sample-verdict", Static).update(verdict(row) if row else empty)
        self.query_one("#sample-answers", Static).update(answers(row) if row else "")
        self.query_one("#sample-question", Static).update(Text(row.question if row else ""))
        solution = (row.solution or "(not in the samples file)") if row else ""
        self.query_one("#sample-solution", Static).update(Text(solution))
        self.query_one("#sample-response", Static).update(Text(row.response if row else ""))
        self.query_one("#sample-body", VerticalScroll).scroll_home(animate=False)

    def action_step(self, delta: int) -> None:
        if self.shown_rows:
            self.index = (self.index + delta) % len(self.shown_rows)  # wraps at both ends
            self.show()

    def action_cycle_filter(self) -> None:
        cycle = self.samples.filters() if self.samples else [ALL]
        at = cycle.index(self.category) if self.category in cycle else -1
        self.apply_filter(cycle[(at + 1) % len(cycle)])

    def action_next_eval(self) -> None:
        ids = pipeline.sample_eval_ids(self.dirs, self.run_id)
        if len(ids) < 2:
            self.notify("This run has one evaluation.", severity="information")
            return
        at = ids.index(self.eval_id) if self.eval_id in ids else -1
        self.eval_id = ids[(at + 1) % len(ids)]
        self.samples, self.sample_rows, self.shown_rows = None, [], []
        self.read_rows()
