"""Altair charts of the training curves, saved offline through vl-convert (SVG and PNG).

vl-convert bundles Vega and its fonts, so nothing is fetched. Non-finite values cannot be
serialised into a Vega-Lite spec (JSON has no NaN); they are left out of the picture and
counted in the report's text instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

from gsmreport.analysis.training import EMA_ALPHA, TOKEN_ACCURACY_LABEL, ema, series

WIDTH, HEIGHT = 560, 260
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
    data = alt.Data(values=rows)
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
    return chart.to_dict()


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


def render_chart(name: str, title: str, spec: dict[str, Any]) -> Chart:
    return Chart(
        name=name,
        title=title,
        svg=vlc.vegalite_to_svg(spec),
        png=vlc.vegalite_to_png(spec, scale=2),
    )


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
