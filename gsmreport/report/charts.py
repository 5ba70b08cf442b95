"""A run report's four charts, rendered offline through vl-convert (SVG and PNG).

loss (train raw + EMA, eval), learning rate, token accuracy, and exact match by gold step
count. vl-convert bundles Vega and its fonts, so nothing is fetched. Each chart is laid out
once: the PNG (beside the Markdown) is rasterised from the SVG (inline in the HTML/PDF), so
the two are the same picture. One vl-convert call per chart: a call costs ~20 ms on top of
its data, and one combined vconcat pass measured no faster than four separate calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import vl_convert as vlc

from gsmreport.analysis.breakdown import Bucket
from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS, smooth
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL, finite_series
from gsmreport.core.decimate import MAX_POINTS
from gsmreport.report.chart_specs import (
    learning_rate_spec,
    loss_spec,
    step_accuracy_spec,
    token_accuracy_spec,
)

# The report's font (report.css): Vega measures labels with it, so they fit when the PDF
# renders the inline SVG in the same font. Where it is missing, both fall back alike.
FONT = "DejaVu Sans"
# Figure order in the report; figures are numbered in this order, skipping absent ones.
CHART_ORDER = ("loss", "learning_rate", "token_accuracy", "accuracy_by_steps")
STEP_CHART_TITLE = "Exact match by number of steps in the gold solution"


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    svg: str
    png: bytes
    caption: str = ""  # what is drawn, and which series were not measured


def render_chart(name: str, title: str, spec: dict[str, Any], caption: str = "") -> Chart:
    spec = {**spec, "config": {**spec.get("config", {}), "font": FONT}}
    svg = vlc.vegalite_to_svg(spec)
    return Chart(name, title, svg, vlc.svg_to_png(svg, scale=2), caption)


def _thinned(frame: pl.DataFrame, metrics: Sequence[tuple[str, str]]) -> str:
    """The caption's note on decimation, when any drawn series had more points than drawn."""
    longest = max((finite_series(frame, split, m).height for split, m in metrics), default=0)
    if longest <= MAX_POINTS:
        return ""
    return (
        f" Curves of more than {MAX_POINTS} points are drawn from the lowest and highest value"
        f" of each of {MAX_POINTS // 2 - 1} step buckets (longest: {longest:,} points); the"
        " figures in the text use every logged point."
    )


def _missing(frame: pl.DataFrame, split: str, metric: str, what: str) -> str:
    return "" if finite_series(frame, split, metric).height else f" {what}: not measured."


def _smoothing_note(frame: pl.DataFrame) -> str:
    train = finite_series(frame, "train", "loss")
    smoothed = smooth(train.get_column("step").to_list(), train.get_column("value").to_list())
    if smoothed is None:
        return f" No smoothed line: fewer than {MIN_SMOOTH_POINTS} training-loss points."
    return (
        f" The lighter line is a time-aware smoothing of it (half-life"
        f" {smoothed.half_life_steps:,.0f} steps, no start-up bias)."
    )


def training_charts(frame: pl.DataFrame) -> dict[str, Chart]:
    """`loss`, `learning_rate` and `token_accuracy`, each only when its data exists."""
    charts: dict[str, Chart] = {}
    loss = loss_spec(frame)
    if loss is not None:
        caption = (
            "Training loss as logged at each step (solid) and the eval loss (dashed, with"
            " points)."
            + (_smoothing_note(frame) if finite_series(frame, "train", "loss").height else "")
            + _missing(frame, "train", "loss", "Training loss")
            + _missing(frame, "eval", "loss", "Eval loss")
            + _thinned(frame, [("train", "loss"), ("eval", "loss")])
        )
        charts["loss"] = render_chart("loss", "Learning curve", loss, caption)
    rate = learning_rate_spec(frame)
    if rate is not None:
        caption = (
            "Learning rate as the trainer logged it at each step: warm-up and decay explain"
            " bends in the loss curve." + _thinned(frame, [("train", "learning_rate")])
        )
        charts["learning_rate"] = render_chart("learning_rate", "Learning rate", rate, caption)
    accuracy = token_accuracy_spec(frame)
    if accuracy is not None:
        caption = (
            "TRL's mean token accuracy over the loss-masked tokens, train (line) and eval"
            " (dashed, with points); not task accuracy."
            + _missing(frame, "train", "mean_token_accuracy", "Train")
            + _missing(frame, "eval", "mean_token_accuracy", "Eval")
            + _thinned(frame, [("train", "mean_token_accuracy")])
        )
        charts["token_accuracy"] = render_chart(
            "token_accuracy", TOKEN_ACCURACY_LABEL, accuracy, caption
        )
    return charts


def eval_charts(buckets: Mapping[str, Sequence[Bucket]]) -> dict[str, Chart]:
    """`accuracy_by_steps` when any evaluation has per-problem rows."""
    spec = step_accuracy_spec(buckets)
    if spec is None:
        return {}
    caption = (
        "Exact match (strict-match) per number of calculator steps in the gold solution;"
        " whiskers: 95 % Wilson interval; numbers: problems per bar."
    )
    chart = render_chart("accuracy_by_steps", STEP_CHART_TITLE, spec, caption)
    return {"accuracy_by_steps": chart}
