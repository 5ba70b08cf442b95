"""Charts of a comparison report: loss curves overlaid, and bars per run (loss, speed, accuracy).

Each chart is one Vega render (Vega-Lite → SVG); the PNG is rasterised from that SVG rather
than laid out a second time, so a comparison of many runs costs one layout per chart.
Every run keeps the same colour in every chart (its position among the compared runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt

from gsmreport.analysis.smoothing import smooth
from gsmreport.core.decimate import minmax_decimate
from gsmreport.report.chart_specs import HEIGHT, WIDTH, X_TICKS, with_rows
from gsmreport.report.charts import Chart, render_chart

BAR_ROW = 26  # pixels per run in the horizontal bar charts
MAX_POINTS = 600  # per smoothed curve: more adds bytes to the SVG, not detail to the eye
PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)


@dataclass(frozen=True)
class LossCurve:
    run_id: str
    x: list[float]  # optimizer step or epoch of each finite loss value
    loss: list[float]


@dataclass(frozen=True)
class Bar:
    run_id: str
    value: float
    low: float | None = None  # whisker (e.g. a Wilson interval), same unit as value
    high: float | None = None
    label: str = ""  # printed beside the bar


def _colour(run_ids: Sequence[str], shown: set[str]) -> alt.Scale:
    """Each run's colour by its position among all compared runs, so it is the same in every
    chart; only the runs a chart shows are in its domain (a legend entry with no line misleads)."""
    pairs = [(r, PALETTE[i % len(PALETTE)]) for i, r in enumerate(run_ids) if r in shown]
    return alt.Scale(domain=[r for r, _ in pairs], range=[c for _, c in pairs])


def _thin(xs: list[float], ys: list[float], limit: int = MAX_POINTS) -> list[tuple[float, float]]:
    """At most `limit` points by the one thinning rule (core/decimate.py)."""
    return [(xs[i], ys[i]) for i in minmax_decimate(xs, ys, limit)]


def _smoothed(curve: LossCurve) -> list[float]:
    """The one smoothing rule of the run reports (analysis.smoothing); raw below its minimum."""
    smoothed = smooth(curve.x, curve.loss)
    return list(smoothed.values) if smoothed is not None else curve.loss


def loss_overlay_spec(
    curves: Sequence[LossCurve], run_ids: Sequence[str], x_title: str
) -> dict[str, Any] | None:
    """Smoothed training loss of every run on one axis (raw curves would be a thicket)."""
    rows = [
        {"x": x, "loss": y, "run": curve.run_id}
        for curve in curves
        if curve.loss
        for x, y in _thin(curve.x, _smoothed(curve))
    ]
    return overlay_spec(rows, run_ids, x_title, "training loss, smoothed")


def overlay_spec(
    rows: list[dict[str, Any]],
    run_ids: Sequence[str],
    x_title: str,
    y_title: str,
    *,
    points: bool = False,
) -> dict[str, Any] | None:
    """One line per run on one axis, from rows {x, loss, run}; None when there are none.
    `points`: mark each reading (sparse curves such as eval loss)."""
    if not rows:
        return None
    shown = {row["run"] for row in rows}
    columns = 2 if max(len(r) for r in shown) <= 30 else 1
    chart = (
        alt.Chart(alt.Data(values=rows[:1]))  # the rows go in after validation: with_rows()
        .mark_line(strokeWidth=1.8, point=True if points else alt.Undefined)
        .encode(
            x=alt.X("x:Q", title=x_title, axis=alt.Axis(tickCount=X_TICKS, labelOverlap=True)),
            y=alt.Y("loss:Q", title=y_title, scale=alt.Scale(zero=False)),
            # Below the plot: run ids are long, and a one-row legend truncates them.
            color=alt.Color(
                "run:N",
                title=None,
                scale=_colour(run_ids, shown),
                legend=alt.Legend(orient="bottom", columns=columns, labelLimit=WIDTH),
            ),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return with_rows(chart.to_dict(), rows)


def bar_spec(bars: Sequence[Bar], run_ids: Sequence[str], x_title: str) -> dict[str, Any] | None:
    """Horizontal bars (run ids are long: they read better as row labels than under columns),
    with a whisker where a bar has an interval and its label printed beside it."""
    if not bars:
        return None
    rows = [
        {"run": b.run_id, "value": b.value, "low": b.low, "high": b.high, "label": b.label}
        for b in bars
    ]
    order = [r for r in run_ids if any(b.run_id == r for b in bars)]
    y = alt.Y("run:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    base = alt.Chart(alt.Data(values=rows)).encode(y=y)
    colour = alt.Color("run:N", scale=_colour(run_ids, set(order)), legend=None)
    bars_layer = base.mark_bar(height=BAR_ROW * 0.6).encode(
        x=alt.X("value:Q", title=x_title), color=colour
    )
    layers: list[alt.Chart] = [bars_layer]
    if any(b.low is not None and b.high is not None for b in bars):
        layers.append(
            base.transform_filter("isValid(datum.low) && isValid(datum.high)")
            .mark_rule(color="#333", strokeWidth=1.5)
            .encode(x="low:Q", x2="high:Q")
        )
    # The label sits right of the bar's end (or the whisker's, when there is one).
    end = "isValid(datum.high) ? datum.high : datum.value"
    layers.append(
        base.transform_calculate(end=end)
        .mark_text(align="left", dx=4, fontSize=10, color="#333")
        .encode(x="end:Q", text="label:N")
    )
    # Right padding: a bar's label may end past the last tick; left, slack for run names.
    chart = alt.layer(*layers).properties(
        width=WIDTH - 200,
        height=BAR_ROW * len(order),
        padding={"left": 10, "top": 5, "bottom": 5, "right": 60},
    )
    return chart.to_dict()


def comparison_charts(
    run_ids: Sequence[str],
    curves: Sequence[LossCurve],
    x_title: str,
    final_loss: Sequence[Bar],
    throughput: Sequence[Bar],
    accuracy: Sequence[Bar],
) -> dict[str, Chart]:
    """Only the charts whose data exists: `loss`, `final_loss`, `throughput`, `accuracy`."""
    titles = {
        "loss": "Training loss of each run, smoothed over steps (raw below 10 points)",
        "final_loss": "Final training loss (last logged value)",
        "throughput": "Training throughput, samples/s (trainer summary)",
        "accuracy": "Exact match (strict-match) with its 95 % Wilson interval",
    }
    built = {
        "loss": loss_overlay_spec(curves, run_ids, x_title),
        "final_loss": bar_spec(final_loss, run_ids, "final training loss"),
        "throughput": bar_spec(throughput, run_ids, "samples per second"),
        "accuracy": bar_spec(accuracy, run_ids, "exact match, strict-match (%)"),
    }
    return {
        name: render_chart(name, titles[name], spec)
        for name, spec in built.items()
        if spec is not None
    }
