"""Altair charts of the training curves and of accuracy by step count, saved offline through
vl-convert (SVG and PNG).

vl-convert bundles Vega and its fonts, so nothing is fetched. Non-finite values cannot be
serialised into a Vega-Lite spec (JSON has no NaN); they are left out of the picture and
counted in the report's text instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

from gsmreport.analysis.breakdown import MAX_STEP_BUCKET, UNKNOWN_STEPS, Bucket
from gsmreport.analysis.training import EMA_ALPHA, TOKEN_ACCURACY_LABEL, ema, series

WIDTH, HEIGHT = 560, 260
STEP_ORDER = (*(str(i) for i in range(MAX_STEP_BUCKET)), f"{MAX_STEP_BUCKET}+", UNKNOWN_STEPS)
STEP_CHART_TITLE = "Exact match by number of steps in the gold solution"
_COLORS = {
    "train loss": "#a6c8e6",
    "ema": "#1f4e99",
    "eval loss": "#e45756",
    "train": "#1f4e99",
    "eval": "#e45756",
}


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    svg: str
    png: bytes


def _finite(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return series(frame, split, metric).filter(pl.col("value").is_finite())


def _points(
    data: pl.DataFrame, label: str, values: list[float] | None = None
) -> list[dict[str, Any]]:
    ys = values if values is not None else data.get_column("value").to_list()
    return [
        {"step": int(step), "value": float(y), "series": label}
        for step, y in zip(data.get_column("step").to_list(), ys, strict=True)
    ]


def _layered(rows: list[dict[str, Any]], dotted: set[str], y_title: str) -> dict[str, Any]:
    """Lines for the train curves, line + points for eval (few, sparse points)."""
    data = alt.Data(values=rows[:1])  # the real rows go in after validation: with_rows()
    names = sorted({r["series"] for r in rows})
    # Raw train curve pale, smoothed curve strong, eval distinct: the eye should follow the EMA.
    palette = [_COLORS.get(n.split(",")[0] if "EMA" not in n else "ema", "#4c78a8") for n in names]
    scale = alt.Scale(domain=names, range=palette)
    color = alt.Color("series:N", title=None, scale=scale, legend=alt.Legend(orient="top"))
    x = alt.X("step:Q", title="optimizer step")
    y = alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False))
    base = alt.Chart(data).encode(x=x, y=y, color=color)
    lines = base.mark_line(strokeWidth=1.5).transform_filter(
        alt.FieldOneOfPredicate(field="series", oneOf=sorted({r["series"] for r in rows} - dotted))
    )
    points = base.mark_line(point=True, strokeDash=[4, 3]).transform_filter(
        alt.FieldOneOfPredicate(field="series", oneOf=sorted(dotted))
    )
    layers = [lines] + ([points] if dotted & {r["series"] for r in rows} else [])
    chart = alt.layer(*layers).properties(width=WIDTH, height=HEIGHT)
    return with_rows(chart.to_dict(), rows)


def with_rows(spec: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the data rows into a spec built and validated on a one-row stand-in.

    Altair checks every inline row against its JSON schema, which for a 2,000-step curve took
    longer than drawing it with vl-convert; the rows are plain numbers and strings we made.
    """
    data = spec.get("data")
    if not isinstance(data, dict) or "values" not in data:
        raise ValueError("with_rows: chart spec has no top-level inline data")
    return {**spec, "data": {"values": rows}}


def loss_spec(frame: pl.DataFrame, alpha: float = EMA_ALPHA) -> dict[str, Any] | None:
    train, evaluation = _finite(frame, "train", "loss"), _finite(frame, "eval", "loss")
    if train.height == 0 and evaluation.height == 0:
        return None
    rows = _points(train, "train loss")
    if train.height:
        smoothed = ema(train.get_column("value").to_list(), alpha)
        rows += _points(train, f"train loss, EMA α={alpha:g}", smoothed)
    rows += _points(evaluation, "eval loss")
    return _layered(rows, {"eval loss"}, "loss")


def token_accuracy_spec(frame: pl.DataFrame) -> dict[str, Any] | None:
    train = _finite(frame, "train", "mean_token_accuracy")
    evaluation = _finite(frame, "eval", "mean_token_accuracy")
    if train.height == 0 and evaluation.height == 0:
        return None
    rows = _points(train, "train") + _points(evaluation, "eval")
    return _layered(rows, {"eval"}, TOKEN_ACCURACY_LABEL)


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
    return chart.to_dict()


def render_chart(name: str, title: str, spec: dict[str, Any]) -> Chart:
    # One Vega-Lite compilation per chart: the PNG is rasterised from the SVG, which also
    # makes the two files the same picture by construction.
    svg = vlc.vegalite_to_svg(spec)
    return Chart(name=name, title=title, svg=svg, png=vlc.svg_to_png(svg, scale=2))


def training_charts(frame: pl.DataFrame, alpha: float = EMA_ALPHA) -> dict[str, Chart]:
    """`loss` and `token_accuracy` charts, each only when its data exists."""
    charts: dict[str, Chart] = {}
    loss = loss_spec(frame, alpha)
    if loss is not None:
        charts["loss"] = render_chart("loss", "Learning curve", loss)
    accuracy = token_accuracy_spec(frame)
    if accuracy is not None:
        charts["token_accuracy"] = render_chart("token_accuracy", TOKEN_ACCURACY_LABEL, accuracy)
    return charts


def eval_charts(buckets: Mapping[str, Sequence[Bucket]]) -> dict[str, Chart]:
    """`accuracy_by_steps` when any evaluation has per-problem rows."""
    spec = step_accuracy_spec(buckets)
    if spec is None:
        return {}
    return {"accuracy_by_steps": render_chart("accuracy_by_steps", STEP_CHART_TITLE, spec)}
