"""Line charts drawn in braille dots: series + size in, lines of Rich text out.

Pure (no Textual import) so the picture can be tested without a terminal. Each character cell
holds a 2×4 grid of dots, which gives four times the vertical resolution of block characters —
the same trick W&B's terminal viewer uses. Values that are NaN or ±inf are left out of the
picture (a gap in the line) and counted in the legend, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from gsmreport.core.decimate import minmax_decimate
from gsmreport.tui.widgets.ticks import fmt_tick, nice_ticks

Point = tuple[float, float]
Series = Mapping[str, Sequence[Point]]

PALETTE = ("#4ea1ff", "#ff9f43", "#2ecc71", "#e056fd", "#f5d742", "#ff6b6b", "#48dbfb")
AXIS_STYLE = "dim"
NO_DATA = "no data"
BRAILLE_BASE = 0x2800
# Bit of each dot in a braille cell, indexed [column][row] (Unicode's historical order).
DOT_BITS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
MIN_PLOT_ROWS = 2
MIN_PLOT_COLS = 4


@dataclass(frozen=True)
class Frame:
    """The data range shown; never zero-width, so a single point still has a place."""

    x0: float
    x1: float
    y0: float
    y1: float


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def finite_points(points: Sequence[Point]) -> list[Point | None]:
    """The points in order, None where a value is not finite (the line breaks there)."""
    return [(x, y) if math.isfinite(x) and math.isfinite(y) else None for x, y in points]


def decimate(points: Sequence[Point], buckets: int = 2000) -> list[Point]:
    """At most about 2 × `buckets` finite points, by the one thinning rule of every chart
    (core/decimate.py): the lowest and highest of each run of consecutive points, in step
    order, every non-finite point kept. Enough for any terminal width (a chart is a few
    hundred dots wide) and it keeps every spike, the gaps and the legend's count."""
    if len(points) <= 2 * buckets:
        return list(points)
    ys = [y if math.isfinite(x) else math.nan for x, y in points]
    keep = minmax_decimate(range(len(points)), ys, 2 * buckets)
    return [points[i] for i in keep]


def _widen(lo: float, hi: float, least: float) -> tuple[float, float]:
    if hi > lo:
        return lo, hi
    pad = max(abs(lo) * 0.05, least)
    if not hi + pad > lo - pad:  # 5 % of a subnormal value underflows to no span at all
        pad = 0.5
    return lo - pad, hi + pad


def data_frame(series: Series) -> Frame | None:
    xs = [p[0] for pts in series.values() for p in finite_points(pts) if p]
    ys = [p[1] for pts in series.values() for p in finite_points(pts) if p]
    if not xs:
        return None
    x0, x1 = _widen(min(xs), max(xs), 1.0)  # steps are whole numbers
    y0, y1 = _widen(min(ys), max(ys), 0.0 if min(ys) else 0.5)
    return Frame(x0, x1, y0, y1)


class DotGrid:
    """Dots set per character cell, and which series last drew in each cell (its colour)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.bits = [[0] * cols for _ in range(rows)]
        self.owner = [[-1] * cols for _ in range(rows)]

    def set(self, dx: int, dy: int, series: int) -> None:
        cx, cy = dx // 2, dy // 4
        if 0 <= cx < self.cols and 0 <= cy < self.rows:
            self.bits[cy][cx] |= DOT_BITS[dx % 2][dy % 4]
            self.owner[cy][cx] = series

    def line(self, a: tuple[int, int], b: tuple[int, int], series: int) -> None:
        """Bresenham between two dots, both ends included."""
        (x, y), (x1, y1) = a, b
        dx, dy = abs(x1 - x), -abs(y1 - y)
        sx, sy = (1 if x < x1 else -1), (1 if y < y1 else -1)
        err = dx + dy
        while True:
            self.set(x, y, series)
            if (x, y) == (x1, y1):
                return
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x += sx
            if e2 <= dx:
                err += dx
                y += sy

    def row_text(self, row: int) -> Text:
        text = Text()
        for bits, owner in zip(self.bits[row], self.owner[row], strict=True):
            if bits:
                text.append(chr(BRAILLE_BASE + bits), style=colour(owner))
            else:
                text.append(" ")
        return text


def _draw(grid: DotGrid, frame: Frame, series: Series) -> None:
    w_dots, h_dots = grid.cols * 2 - 1, grid.rows * 4 - 1

    def to_dot(p: Point) -> tuple[int, int]:
        dx = round((p[0] - frame.x0) / (frame.x1 - frame.x0) * w_dots)
        dy = round((frame.y1 - p[1]) / (frame.y1 - frame.y0) * h_dots)  # row 0 is the top
        return dx, dy

    for index, points in enumerate(series.values()):
        previous: tuple[int, int] | None = None
        for point in finite_points(points):
            if point is None:
                previous = None
                continue
            dot = to_dot(point)
            if previous is None:
                grid.set(*dot, index)
            elif dot != previous:
                grid.line(previous, dot, index)
            previous = dot


def _y_labels(frame: Frame, rows: int) -> dict[int, str]:
    """Tick label per character row; a tick goes to the row its dot falls in."""
    labels: dict[int, str] = {}
    h_dots = rows * 4 - 1
    for value in nice_ticks(frame.y0, frame.y1, max(2, rows // 2 + 1)):
        row = round((frame.y1 - value) / (frame.y1 - frame.y0) * h_dots) // 4
        labels.setdefault(row, fmt_tick(value))
    return labels


def _x_axis(frame: Frame, cols: int, indent: int) -> tuple[Text, Text]:
    """The axis line with ┬ at each tick and the labels under it (overlapping ones dropped)."""
    axis = ["─"] * cols
    labels = [" "] * (cols + indent)
    w_dots = cols * 2 - 1
    free_from = 0
    for value in nice_ticks(frame.x0, frame.x1, max(2, cols // 10)):
        col = round((value - frame.x0) / (frame.x1 - frame.x0) * w_dots) // 2
        if not 0 <= col < cols:
            continue
        axis[col] = "┬"
        label = fmt_tick(value)
        if len(label) > len(labels):  # a label wider than the whole plot is left out
            continue
        start = max(0, min(indent + col - len(label) // 2, len(labels) - len(label)))
        if start < free_from:
            continue
        labels[start : start + len(label)] = list(label)
        free_from = start + len(label) + 1
    return (
        Text(" " * (indent - 1) + "└" + "".join(axis), style=AXIS_STYLE),
        Text("".join(labels), style=AXIS_STYLE),
    )


def legend(series: Series, y_label: str, width: int) -> Text:
    text = Text()
    if y_label:
        text.append(y_label, style="bold")
        text.append("  ")
    for index, (name, points) in enumerate(series.items()):
        text.append("⣿ ", style=colour(index))
        text.append(name)
        skipped = sum(1 for p in finite_points(points) if p is None)
        if skipped:
            text.append(f" ({skipped} not finite)", style="italic")
        text.append("  ")
    text.rstrip()
    text.truncate(width, overflow="ellipsis")
    return text


def _centred(message: str, width: int, height: int) -> list[Text]:
    lines = [Text() for _ in range(max(1, height))]
    lines[(len(lines) - 1) // 2] = Text(message.center(width)[:width], style="dim italic")
    return lines


def plot(series: Series, width: int, height: int, *, y_label: str = "") -> list[Text]:
    """Exactly `height` lines no wider than `width`: legend, plot with y ticks, x axis, x ticks."""
    width, height = max(1, width), max(1, height)
    frame = data_frame(series)
    if frame is None:
        return _centred(NO_DATA, width, height)
    if not all(math.isfinite(span) for span in (frame.x1 - frame.x0, frame.y1 - frame.y0)):
        return _centred("values too large to draw", width, height)  # near ±1.8e308
    rows = height - 3  # legend line, axis line, tick labels line
    y_labels = _y_labels(frame, max(rows, MIN_PLOT_ROWS))
    indent = max(len(label) for label in y_labels.values()) + 1  # labels, then the axis
    cols = width - indent
    if rows < MIN_PLOT_ROWS or cols < MIN_PLOT_COLS:
        return _centred("too small", width, height)
    grid = DotGrid(cols, rows)
    _draw(grid, frame, series)
    lines = [legend(series, y_label, width)]
    for row in range(rows):
        label = y_labels.get(row)
        line = Text(f"{label or '':>{indent - 1}}" + ("┤" if label else "│"), style=AXIS_STYLE)
        line.append_text(grid.row_text(row))
        lines.append(line)
    lines.extend(_x_axis(frame, cols, indent))
    return lines
