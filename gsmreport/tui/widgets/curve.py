"""CurveChart: one or more metric curves against the step, drawn in braille dots.

The drawing lives in `braille.plot` (pure); this widget only keeps the series and asks for a
new picture at its current size, so it redraws itself whenever it is resized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from gsmreport.tui.widgets.braille import Point, decimate, plot


class CurveChart(Widget):
    """Several series overlaid in distinct colours, a legend, ticks on both axes."""

    DEFAULT_CSS = """
    CurveChart {
        height: 12;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-title-style: bold;
        padding: 0 1 0 0;
    }
    """

    def __init__(
        self, title: str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title or None
        self._series: dict[str, list[Point]] = {}
        self._y_label = ""
        self.log_y = False
        self.skip = 0.0  # fraction of the x range left out at the start (zoom)
        self.values = False  # the legend shows each series' last value

    @property
    def series(self) -> dict[str, list[Point]]:
        """A copy of what is drawn (long series thinned; see `decimate`)."""
        return {name: list(points) for name, points in self._series.items()}

    def set_series(
        self, series: Mapping[str, Sequence[tuple[float, float]]], *, y_label: str = ""
    ) -> None:
        """Replace what is drawn: x = step, y = value; an empty mapping shows "no data".

        Long series are thinned here, once, rather than on every redraw (see `decimate`).
        """
        self._series = {
            name: decimate([(float(x), float(y)) for x, y in points])
            for name, points in series.items()
        }
        self._y_label = y_label
        self.refresh()

    def set_view(self, *, log_y: bool, skip: float) -> None:
        """Log-Y on or off, and how much of the start of the x range to leave out."""
        if (log_y, skip) != (self.log_y, self.skip):
            self.log_y, self.skip = log_y, skip
            self.refresh()

    def render(self) -> RenderableType:
        size = self.content_size
        lines = plot(
            self._series,
            size.width,
            size.height,
            y_label=self._y_label,
            log_y=self.log_y,
            skip=self.skip,
            values=self.values,
        )
        return Text("\n").join(lines)
