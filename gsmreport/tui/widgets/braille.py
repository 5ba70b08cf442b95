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
from gsmreport.tui.widgets.ticks import fmt_tick, fmt_ticks, nice_ticks

Point = tuple[float, float]
Series = Mapping[str, Sequence[Point]]

# Colours of the xterm 256-colour cube itself (levels 0x5f/0x87/0xaf/0xd7/0xff), so a
# 256-colour terminal (tmux's default) shows exactly these and no two of them merge; the
# truecolor values they replaced were rounded to neighbours (tests/test_tui_curve.py).
PALETTE = ("#5fafff", "#ffaf00", "#5fd75f", "#d75fd7", "#ffff5f", "#ff5f5f", "#5fd7d7")
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


def log_points(points: Sequence[Point]) -> list[Point]:
    """(x, log10 y): a value at or below zero has no logarithm and becomes a gap (NaN)."""
    return [(x, math.log10(y) if y > 0 and math.isfinite(y) else math.nan) for x, y in points]


def window(series: Series, skip: float) -> dict[str, list[Point]]:
    """The points from `skip` (a fraction, 0 … <1) of the whole x range onwards: a zoom that
    drops the first spike (warm-up) so the rest of the curve gets the height."""
    xs = [p[0] for pts in series.values() for p in pts if math.isfinite(p[0])]
    if skip <= 0 or not xs:
        return {name: list(pts) for name, pts in series.items()}
    start = min(xs) + (max(xs) - min(xs)) * min(skip, 0.99)
    return {name: [p for p in pts if p[0] >= start] for name, pts in series.items()}


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


def _log_ticks(lo: float, hi: float, target: int) -> list[float]:
    """Ticks of a log axis (values are log10): whole powers of ten when the range holds two."""
    whole = [float(k) for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(whole) >= 2:
        step = max(1, math.ceil(len(whole) / max(1, target)))
        return whole[::step]
    return nice_ticks(lo, hi, target)


def _y_labels(frame: Frame, rows: int, *, log_y: bool = False) -> dict[int, str]:
    """Tick label per character row; a tick goes to the row its dot falls in."""
    labels: dict[int, str] = {}
    h_dots = rows * 4 - 1
    target = max(2, rows // 2 + 1)
    ticks = (
        _log_ticks(frame.y0, frame.y1, target) if log_y else nice_ticks(frame.y0, frame.y1, target)
    )
    texts = fmt_ticks([10**value if log_y else value for value in ticks])
    for value, text in zip(ticks, texts, strict=True):
        row = round((frame.y1 - value) / (frame.y1 - frame.y0) * h_dots) // 4
        labels.setdefault(row, text)
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


def _last_finite(points: Sequence[Point]) -> float | None:
    return next((y for x, y in reversed(points) if math.isfinite(x) and math.isfinite(y)), None)


def legend(
    series: Series,
    y_label: str,
    width: int,
    *,
    lasts: Mapping[str, float | None] | None = None,
    gap_word: str = "not finite",
) -> Text:
    """`y_label  ⣿ name [last value] (k not finite)  …`: the gaps counted in `series` (what
    is drawn), the value from `lasts` when given."""
    text = Text()
    if y_label:
        text.append(y_label, style="bold")
        text.append("  ")
    for index, (name, points) in enumerate(series.items()):
        text.append("⣿ ", style=colour(index))
        text.append(name)
        last = lasts.get(name) if lasts else None
        if last is not None:
            text.append(f" {fmt_tick(last)}", style="bold")
        skipped = sum(1 for p in finite_points(points) if p is None)
        if skipped:
            text.append(f" ({skipped} {gap_word})", style="italic")
        text.append("  ")
    text.rstrip()
    text.truncate(width, overflow="ellipsis")
    return text


def _centred(message: str, width: int, height: int) -> list[Text]:
    lines = [Text() for _ in range(max(1, height))]
    lines[(len(lines) - 1) // 2] = Text(message.center(width)[:width], style="dim italic")
    return lines


def plot(
    series: Series,
    width: int,
    height: int,
    *,
    y_label: str = "",
    log_y: bool = False,
    skip: float = 0.0,
    values: bool = False,
) -> list[Text]:
    """Exactly `height` lines no wider than `width`: legend, plot with y ticks, x axis, x ticks.

    `log_y`: a logarithmic y axis (values at or below zero become gaps, counted in the
    legend); `skip`: leave out the first fraction of the x range (zoom past a first spike);
    `values`: the legend shows each series' last value (of the whole series, not the zoom).
    """
    width, height = max(1, width), max(1, height)
    shown = window(series, skip)
    lasts = {name: _last_finite(pts) for name, pts in series.items()} if values else None
    if log_y:
        shown = {name: log_points(pts) for name, pts in shown.items()}
    series = shown
    frame = data_frame(series)
    if frame is None:
        return _centred(NO_DATA, width, height)
    if not all(math.isfinite(span) for span in (frame.x1 - frame.x0, frame.y1 - frame.y0)):
        return _centred("values too large to draw", width, height)  # near ±1.8e308
    rows = height - 3  # legend line, axis line, tick labels line
    y_labels = _y_labels(frame, max(rows, MIN_PLOT_ROWS), log_y=log_y)
    indent = max(len(label) for label in y_labels.values()) + 1  # labels, then the axis
    cols = width - indent
    if rows < MIN_PLOT_ROWS or cols < MIN_PLOT_COLS:
        return _centred("too small", width, height)
    grid = DotGrid(cols, rows)
    _draw(grid, frame, series)
    gaps = "≤ 0 or not finite" if log_y else "not finite"
    lines = [legend(series, y_label, width, lasts=lasts, gap_word=gaps)]
    for row in range(rows):
        label = y_labels.get(row)
        # The axis is dim, the curve is not: Textual draws `dim` by blending the colour
        # toward the background, so a dim line would no longer match its legend swatch.
        line = Text()
        line.append(f"{label or '':>{indent - 1}}" + ("┤" if label else "│"), style=AXIS_STYLE)
        line.append_text(grid.row_text(row))
        lines.append(line)
    lines.extend(_x_axis(frame, cols, indent))
    return lines
