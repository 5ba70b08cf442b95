"""Training-curve figures from the metrics table; each figure keeps the step it came from.

Non-finite values (NaN, ±inf) are left out of first/final/min but counted, so a report can
say how many there were instead of silently losing them.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gsmreport.analysis.series_stats import (
    Point,
    SeriesIndex,
    SeriesStats,
    final_point,
    series_index,
)
from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS, SMOOTHING_METHOD, smooth

TOKEN_ACCURACY_LABEL = "mean token accuracy (TRL, over loss-masked tokens)"


@dataclass(frozen=True)
class CurveSummary:
    split: str
    metric: str
    n_points: int
    non_finite: int
    first: Point
    final: Point
    min: Point
    drop_pct: float | None
    # The smoothed curve (analysis.smoothing): None when the curve is too short to smooth.
    ema_first: Point | None
    ema_final: Point | None
    ema_min: Point | None
    ema_drop_pct: float | None
    smooth_half_life: float | None = None  # in optimizer steps


@dataclass(frozen=True)
class Gap:
    """final eval loss − final train loss (positive: eval is worse)."""

    train: Point
    eval: Point
    value: float


@dataclass(frozen=True)
class TokenAccuracy:
    split: str
    label: str
    first: Point
    final: Point
    delta_points: float


@dataclass(frozen=True)
class ThroughputFigures:
    samples_per_second: Point | None
    tokens_per_second: Point | None
    tokens_per_second_source: str | None  # "logged" | "num_tokens / runtime_s"
    runtime_s: Point | None
    num_tokens: Point | None  # the last cumulative count TRL logged
    steps_per_second: Point | None = None
    train_loss_avg: Point | None = None  # the Trainer's run-average training loss
    num_tokens_rows: int = 0  # how many times TRL logged its cumulative num_tokens
    tokens_per_step: float | None = None  # Δnum_tokens / Δstep between its first and last rows


@dataclass(frozen=True)
class TrainingSummary:
    smoothing: str  # how the smoothed rows were computed (analysis.smoothing), in words
    train_loss: CurveSummary | None
    eval_loss: CurveSummary | None
    gap: Gap | None
    token_accuracy: tuple[TokenAccuracy, ...]
    throughput: ThroughputFigures
    non_finite: dict[str, int]


def series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    """(step, value) of one metric, sorted by step, non-finite values included."""
    return (
        frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
        .select("step", "value")
        .sort("step")
    )


def finite_series(frame: pl.DataFrame, split: str, metric: str, *extra: str) -> pl.DataFrame:
    """(step, `extra` columns, value) of one metric's finite values, sorted by step: the
    points every chart draws and every smoothed or fitted figure is computed from."""
    return (
        frame.filter(
            (pl.col("split") == split) & (pl.col("metric") == metric) & pl.col("value").is_finite()
        )
        .select("step", *extra, "value")
        .sort("step")
    )


def drop_pct(first: float, final: float) -> float | None:
    """How much a curve fell from its first to its final value, in % of the first."""
    return (first - final) / first * 100 if first else None


def _extremes(steps: list[int], values: list[float]) -> tuple[Point, Point, Point]:
    low = min(range(len(values)), key=values.__getitem__)  # first occurrence of the minimum
    return Point(values[0], steps[0]), Point(values[-1], steps[-1]), Point(values[low], steps[low])


def _stats_of(
    frame: pl.DataFrame, split: str, metric: str, stats: SeriesIndex | None
) -> SeriesStats | None:
    """One series' end points: from `stats` when the caller holds them (every series of the
    run in one pass, analysis.series_stats), else from that series' rows alone."""
    if stats is None:
        one = frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
        stats = series_index(one)
    return stats.get((split, metric))


def summarize_curve(
    frame: pl.DataFrame, split: str, metric: str, stats: SeriesIndex | None = None
) -> CurveSummary | None:
    """First, final and minimum (analysis.series_stats, the one place they are decided) and
    the smoothed curve's, which only this reads the series' values for."""
    stat = _stats_of(frame, split, metric, stats)
    if stat is None or stat.first is None or stat.final is None or stat.min is None:
        return None
    smoothed = None
    if stat.finite >= MIN_SMOOTH_POINTS:
        finite = finite_series(frame, split, metric)
        steps = finite.get_column("step").to_list()
        smoothed = smooth(steps, finite.get_column("value").to_list())
    e_first = e_final = e_low = None
    if smoothed is not None:
        e_first, e_final, e_low = _extremes(steps, list(smoothed.values))
    return CurveSummary(
        split=split,
        metric=metric,
        n_points=stat.finite,
        non_finite=stat.non_finite,
        first=stat.first,
        final=stat.final,
        min=stat.min,
        drop_pct=drop_pct(stat.first.value, stat.final.value),
        ema_first=e_first,
        ema_final=e_final,
        ema_min=e_low,
        ema_drop_pct=drop_pct(e_first.value, e_final.value) if e_first and e_final else None,
        smooth_half_life=smoothed.half_life_steps if smoothed else None,
    )


def token_accuracy(
    frame: pl.DataFrame, split: str, stats: SeriesIndex | None = None
) -> TokenAccuracy | None:
    stat = _stats_of(frame, split, "mean_token_accuracy", stats)
    if stat is None or stat.first is None or stat.final is None:
        return None
    return TokenAccuracy(
        split=split,
        label=TOKEN_ACCURACY_LABEL,
        first=stat.first,
        final=stat.final,
        delta_points=(stat.final.value - stat.first.value) * 100,
    )


def non_finite_counts(stats: SeriesIndex) -> dict[str, int]:
    """`split/metric` -> how many logged values were NaN or infinite."""
    return {f"{s}/{m}": stats[s, m].non_finite for s, m in sorted(stats) if stats[s, m].non_finite}


def summarize_training(frame: pl.DataFrame, stats: SeriesIndex | None = None) -> TrainingSummary:
    index = series_index(frame) if stats is None else stats
    train = summarize_curve(frame, "train", "loss", index)
    evaluation = summarize_curve(frame, "eval", "loss", index)
    gap = (
        Gap(train.final, evaluation.final, evaluation.final.value - train.final.value)
        if train and evaluation
        else None
    )
    accuracies = tuple(a for a in (token_accuracy(frame, s, index) for s in ("train", "eval")) if a)
    return TrainingSummary(
        smoothing=SMOOTHING_METHOD,
        train_loss=train,
        eval_loss=evaluation,
        gap=gap,
        token_accuracy=accuracies,
        throughput=throughput(frame, index),
        non_finite=non_finite_counts(index),
    )


def throughput(frame: pl.DataFrame, stats: SeriesIndex | None = None) -> ThroughputFigures:
    """Training throughput from the trainer's final summary rows, each with its step.

    Tokens/s is taken as logged when the trainer logged it; otherwise it is derived from TRL's
    cumulative num_tokens over the runtime (which includes evaluation and saving time, so it
    is a lower bound on the training speed) and labelled as derived.
    """
    index = series_index(frame) if stats is None else stats
    runtime = final_point(index, "train", "runtime_s")
    tokens = final_point(index, "train", "num_tokens")
    logged = final_point(index, "train", "tokens_per_second")
    tps = logged
    tps_source = "logged" if logged is not None else None
    if logged is None and runtime is not None and tokens is not None and runtime.value > 0:
        tps = Point(tokens.value / runtime.value, runtime.step)
        tps_source = "num_tokens / runtime_s"
    # Only a log with num_tokens pays for the query of its rows.
    counted = _token_rows(frame) if tokens is not None else None
    per_step = None
    if counted is not None and counted.height >= 2:
        (s0, n0, w0), (s1, n1, w1) = counted.row(0), counted.row(-1)
        per_step = (n1 - n0) / (s1 - s0) if s1 > s0 else None
        # No runtime (a run stopped before its summary): the tokens counted between the first
        # and last num_tokens rows over the wall-clock time between them, where logged.
        if tps is None and w0 is not None and w1 is not None and w1 > w0:
            tps = Point((n1 - n0) / (w1 - w0), int(s1))
            tps_source = "Δnum_tokens / Δwall_time"
    return ThroughputFigures(
        samples_per_second=final_point(index, "train", "samples_per_second"),
        tokens_per_second=tps,
        tokens_per_second_source=tps_source,
        runtime_s=runtime,
        num_tokens=tokens,
        steps_per_second=final_point(index, "train", "steps_per_second"),
        train_loss_avg=final_point(index, "train", "train_loss_avg"),
        num_tokens_rows=counted.height if counted is not None else 0,
        tokens_per_step=per_step,
    )


def _token_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """(step, num_tokens, wall_time) of every finite num_tokens row, by step."""
    return (
        frame.filter(
            (pl.col("split") == "train")
            & (pl.col("metric") == "num_tokens")
            & pl.col("value").is_finite()
        )
        .sort("step")
        .select("step", "value", "wall_time")
    )
