"""MetricGrid: every series of a run as a grid of charts, paged, filtered, log-Y and zoom.

The panels and their order come from the run's analysis (tui/detail.PanelView, built from
analysis/series.py); this widget only decides which of them are on screen. Its view state
(page, filter, log-Y, zoom) survives new data, so a live run keeps the page being read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from gsmreport.tui.detail import PanelView
from gsmreport.tui.widgets.curve import CurveChart

PAGE_SIZE = 6
# Zoom steps: the fraction of the x range left out at the start (the first spike of a run).
ZOOMS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9)


def compile_filter(text: str) -> re.Pattern[str]:
    """The filter as a case-insensitive regex; text that is not a valid regex is matched
    literally, so typing `grad(` mid-way never fails."""
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(text), re.IGNORECASE)


class MetricGrid(Vertical):
    DEFAULT_CSS = """
    MetricGrid {
        height: auto;
    }
    MetricGrid #grid-status {
        height: 1;
        color: $text-muted;
    }
    MetricGrid Grid {
        grid-size: 2;
        grid-gutter: 0 1;
        grid-rows: 12;
        height: auto;
    }
    MetricGrid CurveChart {
        height: 12;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.panels: tuple[PanelView, ...] = ()
        self.pattern = ""
        self.page = 0
        self.log_y = False
        self.zoom = 0  # index into ZOOMS

    def compose(self) -> ComposeResult:
        yield Static(id="grid-status")
        with Grid(id="grid-charts"):
            for index in range(PAGE_SIZE):
                chart = CurveChart(id=f"panel-{index}")
                chart.values = True
                yield chart

    # --- state ---------------------------------------------------------------------------

    @property
    def shown(self) -> list[PanelView]:
        """The panels the filter keeps, in the analysis' order."""
        if not self.pattern:
            return list(self.panels)
        pattern = compile_filter(self.pattern)
        return [p for p in self.panels if p.matches(pattern)]

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.shown) // PAGE_SIZE))

    @property
    def on_page(self) -> list[PanelView]:
        start = self.page * PAGE_SIZE
        return self.shown[start : start + PAGE_SIZE]

    def set_panels(self, panels: Sequence[PanelView]) -> None:
        self.panels = tuple(panels)
        self.display = bool(self.panels)
        self.redraw()

    def set_filter(self, pattern: str) -> None:
        self.pattern = pattern
        self.page = 0
        self.redraw()

    def turn_page(self, delta: int) -> None:
        self.page = (self.page + delta) % self.pages
        self.redraw()

    def toggle_log(self) -> None:
        self.log_y = not self.log_y
        self.redraw()

    def change_zoom(self, delta: int) -> None:
        """+1 leaves more of the start out, -1 less; 0 steps back to the whole range."""
        self.zoom = 0 if delta == 0 else max(0, min(len(ZOOMS) - 1, self.zoom + delta))
        self.redraw()

    # --- drawing -------------------------------------------------------------------------

    def redraw(self) -> None:
        self.page = min(self.page, self.pages - 1)
        visible = self.on_page
        for index, chart in enumerate(self.query(CurveChart)):
            panel = visible[index] if index < len(visible) else None
            chart.display = panel is not None
            if panel is None:
                continue
            chart.border_title = panel.title
            chart.border_subtitle = f"x: {panel.x_label}"
            chart.set_view(log_y=self.log_y, skip=ZOOMS[self.zoom])
            chart.set_series(panel.series)
        self.query_one("#grid-status", Static).update(self.status())

    def status(self) -> Text:
        shown = self.shown
        parts = [f"charts {len(shown)} of {len(self.panels)}", f"page {self.page + 1}/{self.pages}"]
        if self.pattern:
            parts.append(f"filter /{self.pattern}/")
        if self.log_y:
            parts.append("log-y")
        if self.zoom:
            parts.append(f"zoom: first {ZOOMS[self.zoom]:.0%} of x left out")
        if self.pattern and not shown:
            parts.append("nothing matches: esc clears the filter")
        text = Text(" · ".join(parts))
        text.append("   [ ] page  / filter  l log-y  + - 0 zoom", style="dim")
        return text
