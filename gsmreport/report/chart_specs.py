"""Vega-Lite specs (built with Altair) of a run report's charts; rendering is in charts.py.

Each builder returns None when its data is missing, so the report says "not measured"
instead of drawing an empty frame. Non-finite values cannot be serialised into a spec (JSON
has no NaN): they are left out of the picture and counted in the report's text instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

from gsmreport.analysis.breakdown import MAX_STEP_BUCKET, UNKNOWN_STEPS, Bucket
from gsmreport.analysis.smoothing import smooth
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL, finite_series
from gsmreport.core.decimate import MAX_POINTS, minmax_decimate

WIDTH, HEIGHT = 560, 260
STEP_ORDER = (*(str(i) for i in range(MAX_STEP_BUCKET)), f"{MAX_STEP_BUCKET}+", UNKNOWN_STEPS)
X_TICKS = 8  # "1,800" and "2,000" collided at the default density in the PDF
_COLORS = {
    # The raw curve is the main line; the smoothed one is a guide drawn behind it.
    "train loss": "#1f4e99",
    "smoothed": "#f2a541",
    "eval loss": "#e45756",
    "train": "#1f4e99",
    "eval": "#e45756",
    "learning rate": "#54a24b",
}

Rows = list[dict[str, Any]]


def points(
    data: pl.DataFrame, label: str, values: list[float] | None = None, limit: int = MAX_POINTS
) -> Rows:
    """One row per drawn point; long curves are min/max-decimated (decimate.py)."""
    steps = data.get_column("step").to_list()
    ys = values if values is not None else data.get_column("value").to_list()
    return [
        {"step": int(steps[i]), "value": float(ys[i]), "series": label}
        for i in minmax_decimate(steps, ys, limit)
    ]


def with_rows(spec: dict[str, Any], rows: Rows) -> dict[str, Any]:
    """Put the data rows into a spec built and validated on a one-row stand-in.

    Altair checks every inline row against its JSON schema, which for a 2,000-step curve took
    longer than drawing it with vl-convert; the rows are plain numbers and strings we made.
    """
    data = spec.get("data")
    if not isinstance(data, dict) or "values" not in data:
        raise ValueError("with_rows: chart spec has no top-level inline data")
    return {**spec, "data": {"values": rows}}


def step_axis() -> alt.X:
    return alt.X(
        "step:Q",
        title="optimizer step",
        axis=alt.Axis(tickCount=X_TICKS, labelOverlap="greedy", labelFlush=True),
    )


def layered(
    rows: Rows,
    dotted: set[str],
    y_title: str,
    y_format: str | None = None,
    height: int = HEIGHT,
) -> dict[str, Any]:
    """Lines for the train curves, line + points for eval (few, sparse points)."""
    names = tuple(sorted({r["series"] for r in rows}))
    shown = frozenset(dotted & set(names))
    return with_rows(_layered_skeleton(names, shown, y_title, y_format, height), rows)


@functools.lru_cache(maxsize=64)
def _layered_skeleton(
    names: tuple[str, ...],
    dotted: frozenset[str],
    y_title: str,
    y_format: str | None,
    height: int,
) -> dict[str, Any]:
    """The spec without its data, built once per process for each shape of chart.

    Building and schema-checking the Altair objects cost more than drawing a chart (about
    0.15 s of a chart's 0.5 s); every run of a batch has the same shapes. Callers must not
    mutate the result: with_rows and render_chart copy the top level before changing it.
    """
    # Raw train curve strong, smoothed curve a lighter guide, eval distinct: the logged values
    # are the evidence, a smoothed line only helps the eye through noise.
    palette = [
        _COLORS.get(n.split(",")[0] if "smoothed" not in n else "smoothed", "#4c78a8")
        for n in names
    ]
    scale = alt.Scale(domain=list(names), range=palette)
    legend = alt.Legend(orient="top") if len(names) > 1 else None
    color = alt.Color("series:N", title=None, scale=scale, legend=legend)
    # Fewer y ticks on a short chart: ten "1.8e-4"-style labels 15 px apart read as a smear.
    axis = alt.Axis(format=y_format, tickCount=max(3, height // 40)) if y_format else alt.Axis()
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False), axis=axis)
    stand_in = [{"step": 0, "value": 0.0, "series": names[0]}]  # see with_rows
    base = alt.Chart(alt.Data(values=stand_in)).encode(x=step_axis(), y=y, color=color)
    solid = sorted(set(names) - dotted)
    layers = []
    if solid:
        layers.append(
            base.mark_line(strokeWidth=1.5).transform_filter(
                alt.FieldOneOfPredicate(field="series", oneOf=solid)
            )
        )
    if dotted:
        layers.append(
            base.mark_line(point=True, strokeDash=[4, 3]).transform_filter(
                alt.FieldOneOfPredicate(field="series", oneOf=sorted(dotted))
            )
        )
    spec: dict[str, Any] = alt.layer(*layers).properties(width=WIDTH, height=height).to_dict()
    return spec


def loss_spec(frame: pl.DataFrame) -> dict[str, Any] | None:
    train, evaluation = finite_series(frame, "train", "loss"), finite_series(frame, "eval", "loss")
    if train.height == 0 and evaluation.height == 0:
        return None
    rows = points(train, "train loss")
    # The same rule as the tables (analysis.smoothing): no smoothed line below its minimum
    # number of points. It runs over every logged point; only the drawing is thinned.
    smoothed = smooth(train.get_column("step").to_list(), train.get_column("value").to_list())
    if smoothed is not None:
        rows += points(train, "train loss, smoothed", list(smoothed.values))
    rows += points(evaluation, "eval loss")
    return layered(rows, {"eval loss"}, "loss")


def learning_rate_spec(frame: pl.DataFrame) -> dict[str, Any] | None:
    """The schedule as the trainer logged it: it explains bends in the loss (warm-up, decay)."""
    data = finite_series(frame, "train", "learning_rate")
    if data.height == 0:
        return None
    # Short: the schedule's shape is the message, and the page keeps room for the loss.
    return layered(points(data, "learning rate"), set(), "learning rate", ".1e", HEIGHT // 2)


def token_accuracy_spec(frame: pl.DataFrame) -> dict[str, Any] | None:
    train = finite_series(frame, "train", "mean_token_accuracy")
    evaluation = finite_series(frame, "eval", "mean_token_accuracy")
    if train.height == 0 and evaluation.height == 0:
        return None
    rows = points(train, "train") + points(evaluation, "eval")
    return layered(rows, {"eval"}, TOKEN_ACCURACY_LABEL)


def step_accuracy_spec(buckets: Mapping[str, Sequence[Bucket]]) -> dict[str, Any] | None:
    """Exact match per gold step count, one bar group per evaluation, Wilson 95 % whiskers."""
    rows = [
        {
            "steps": b.label,
            "eval": eval_id,
            "accuracy": b.accuracy * 100,
            "low": b.low * 100,
            "high": b.high * 100,
            "n": b.n,
        }
        for eval_id, found in buckets.items()
        for b in found
    ]
    if not rows:
        return None
    present = {b.label for found in buckets.values() for b in found}
    order = [label for label in STEP_ORDER if label in present]
    x = alt.X(
        "steps:N", title="steps in the gold solution", sort=order, axis=alt.Axis(labelAngle=0)
    )
    title = "exact match, %"  # the caption explains the whiskers; a long title is clipped
    several = len(buckets) > 1
    color = alt.Color("eval:N", title=None, legend=alt.Legend(orient="top") if several else None)
    base = alt.Chart(alt.Data(values=rows)).encode(x=x)
    if several:  # evaluations side by side within a step count; one needs no offset or legend
        base = base.encode(xOffset=alt.XOffset("eval:N"))
    bars = base.mark_bar(opacity=0.75).encode(
        y=alt.Y("accuracy:Q", title=title, scale=alt.Scale(domain=[0, 100])),
        color=color,
        tooltip=["eval:N", "steps:N", "n:Q"],
    )
    whiskers = base.mark_rule(color="#222").encode(
        y=alt.Y("low:Q", title=title), y2=alt.Y2("high:Q")
    )
    # The problem count above each whisker: a tall bar over three problems means little.
    counts = base.mark_text(dy=-6, fontSize=9, color="#555").encode(
        y=alt.Y("high:Q", title=title), text=alt.Text("n:Q", format="d")
    )
    # About 60 px per bar: one bucket should not stretch into a full-width slab.
    width = min(WIDTH, max(180, 60 * len(rows)))
    chart = alt.layer(bars, whiskers, counts).properties(width=width, height=HEIGHT - 60)
    spec: dict[str, Any] = chart.to_dict()
    return spec
