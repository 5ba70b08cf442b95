"""Is the loss still falling, and has the eval loss turned up? Both from the metrics table.

Each answer is a fitted number with its uncertainty, not an eyeballed curve:
- `still_improving`: OLS slope of the loss over the last part of training, 95 % t interval;
- `overfitting`: eval-loss minimum before the end, final eval loss above it by more than the
  eval curve's own noise, and the train loss still falling over the same span.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import polars as pl

from gsmreport.analysis.series_stats import Point
from gsmreport.analysis.smoothing import smooth
from gsmreport.analysis.stats import linear_fit
from gsmreport.analysis.training import finite_series

MIN_TREND_POINTS = 5
MIN_EVAL_POINTS = 3
PER_STEPS = 100  # slopes are reported per 100 optimizer steps, a scale people can read

TREND_METHOD = (
    "OLS slope of the raw (unsmoothed) logged values against step over the window, with a "
    "95 % Student-t interval (df = n − 2). Raw points, not a smoothed curve: smoothing makes "
    "neighbouring points correlated, and an OLS interval on correlated points is far too "
    "narrow. The smoothed values (analysis.smoothing) are given for context only."
)
# Why second differences: successive differences of a curve that bends (the U of an eval
# loss) are dominated by its trend, so their spread overstates the noise and hides real
# overfitting. For independent noise of sd σ on a locally straight curve,
# e[i+1] − 2·e[i] + e[i−1] has sd σ·√6, and the median absolute value of a normal variable
# is 0.6745 of its sd; the median makes one odd evaluation harmless.
NOISE_METHOD = (
    "σ = median |second difference of successive eval losses| / (0.6745·√6): the sd of "
    "one eval reading if its noise is independent; the final loss must exceed the minimum "
    "by more than 2·√2·σ (two standard deviations of the difference of two readings)"
)
_MAD_TO_SD = 0.6744897501960817


@dataclass(frozen=True)
class Trend:
    split: str
    metric: str
    tail: float  # fraction of the step range the window covers
    window_start: int  # first step in the window
    window_end: int  # last step in the window
    n_points: int  # finite raw points fitted
    slope_per_100: float
    low_per_100: float
    high_per_100: float
    verdict: str  # "improving" | "worsening" | "flat / inconclusive"
    # The smoothed curve (analysis.smoothing) at the window's ends, for context only; None
    # when the curve is too short to smooth. Half-life in optimizer steps.
    smooth_half_life: float | None
    ema_start: Point | None
    ema_end: Point | None
    method: str

    @property
    def sentence(self) -> str:
        figures = (
            f"slope {self.slope_per_100:+.3g} per {PER_STEPS} steps over steps "
            f"{self.window_start}–{self.window_end} (95 % CI {self.low_per_100:+.3g} to "
            f"{self.high_per_100:+.3g}, {self.n_points} points)"
        )
        what = f"{self.split} {self.metric}"
        if self.verdict == "improving":
            return f"{what} still falling: {figures}; more epochs would likely help"
        if self.verdict == "worsening":
            return f"{what} rising at the end: {figures}"
        return f"{what} flat or inconclusive at the end: {figures}"


@dataclass(frozen=True)
class Overfit:
    min_step: int
    min_value: float
    final_step: int
    final_value: float
    excess: float  # final − min
    noise: float | None  # σ of one eval reading (NOISE_METHOD); None with too few points
    threshold: float | None  # 2·√2·σ
    n_eval_points: int
    eval_rose: bool  # minimum before the end and excess > threshold
    train_falling: bool | None  # train slope < 0 over [min_step, final_step]; None: unknown
    train_slope_per_100: float | None
    detected: bool  # eval_rose and train_falling
    noise_method: str

    @property
    def sentence(self) -> str:
        if self.detected:
            return (
                f"overfitting from step {self.min_step}: eval loss rose from its minimum "
                f"{self.min_value:.4g} to {self.final_value:.4g} at step {self.final_step} "
                f"(+{self.excess:.3g}, above the noise threshold {self.threshold:.3g}) while "
                f"train loss kept falling"
            )
        if self.eval_rose:
            return (
                f"eval loss rose after step {self.min_step} (+{self.excess:.3g}) but the train "
                f"loss was not falling over that span, so this is not classic overfitting"
            )
        return "no sign of overfitting: the final eval loss is within noise of its minimum"


def _finite(frame: pl.DataFrame, split: str, metric: str) -> tuple[list[int], list[float]]:
    data = finite_series(frame, split, metric)
    return data.get_column("step").to_list(), data.get_column("value").to_list()


def still_improving(
    frame: pl.DataFrame, metric: str = "loss", split: str = "train", tail: float = 0.2
) -> Trend | None:
    """Slope of the last `tail` of the step range; None with fewer than 5 finite points there."""
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be in (0, 1], got {tail}")
    steps, values = _finite(frame, split, metric)
    if len(steps) < MIN_TREND_POINTS:
        return None
    start = steps[-1] - tail * (steps[-1] - steps[0])
    window = [i for i, s in enumerate(steps) if s >= start]
    if len(window) < MIN_TREND_POINTS:
        return None
    try:
        fit = linear_fit([float(steps[i]) for i in window], [values[i] for i in window])
    except ValueError:  # values too large to fit (a corrupt 1e308 loss): no trend to state
        return None
    low, high = fit.slope_interval(0.95)
    verdict = "improving" if high < 0 else "worsening" if low > 0 else "flat / inconclusive"
    smoothed = smooth(steps, values)
    first, last = window[0], window[-1]
    return Trend(
        split=split,
        metric=metric,
        tail=tail,
        window_start=steps[first],
        window_end=steps[last],
        n_points=len(window),
        slope_per_100=fit.slope * PER_STEPS,
        low_per_100=low * PER_STEPS,
        high_per_100=high * PER_STEPS,
        verdict=verdict,
        smooth_half_life=smoothed.half_life_steps if smoothed else None,
        ema_start=Point(smoothed.values[first], steps[first]) if smoothed else None,
        ema_end=Point(smoothed.values[last], steps[last]) if smoothed else None,
        method=TREND_METHOD,
    )


def eval_noise(values: list[float]) -> float | None:
    """σ of one reading from second differences (NOISE_METHOD); None with < 3 values."""
    if len(values) < 3:
        return None
    second = [abs(values[i + 1] - 2 * values[i] + values[i - 1]) for i in range(1, len(values) - 1)]
    return statistics.median(second) / (_MAD_TO_SD * math.sqrt(6))


def _train_slope(frame: pl.DataFrame, first: int, last: int) -> float | None:
    steps, values = _finite(frame, "train", "loss")
    span = [(s, v) for s, v in zip(steps, values, strict=True) if first <= s <= last]
    if len(span) < 3:
        return None
    try:
        return linear_fit([float(s) for s, _ in span], [v for _, v in span]).slope
    except ValueError:  # values too large to fit: no slope to state
        return None


def overfitting(frame: pl.DataFrame, metric: str = "loss") -> Overfit | None:
    """Eval-loss turn-up against its noise, with the train loss over the same span.

    None when fewer than 3 finite eval points exist (no noise estimate is possible).
    """
    steps, values = _finite(frame, "eval", metric)
    if len(steps) < MIN_EVAL_POINTS:
        return None
    low = min(range(len(values)), key=values.__getitem__)  # first occurrence of the minimum
    excess = values[-1] - values[low]
    noise = eval_noise(values)
    threshold = None if noise is None else 2 * math.sqrt(2) * noise
    eval_rose = low < len(values) - 1 and threshold is not None and excess > threshold
    train_slope = _train_slope(frame, steps[low], steps[-1]) if low < len(values) - 1 else None
    train_falling = None if train_slope is None else train_slope < 0
    return Overfit(
        min_step=steps[low],
        min_value=values[low],
        final_step=steps[-1],
        final_value=values[-1],
        excess=excess,
        noise=noise,
        threshold=threshold,
        n_eval_points=len(values),
        eval_rose=eval_rose,
        train_falling=train_falling,
        train_slope_per_100=None if train_slope is None else train_slope * PER_STEPS,
        detected=eval_rose and train_falling is True,
        noise_method=NOISE_METHOD,
    )


TREND_TAIL = 0.2  # DESIGN.md: the slope over the last 20 % of the steps


@dataclass(frozen=True)
class LearningCurve:
    tail: float
    min_points: int
    trend: Trend | None  # train loss over the last `tail` of the steps
    overfit: Overfit | None
    # Why no verdict may be drawn from these figures (analysis.health: a run that did not
    # train, or stopped before its plan); None when the verdicts stand.
    withheld: str | None = None

    @property
    def more_epochs(self) -> bool:
        """Only when the slope's whole interval is below zero and the eval loss has not
        turned up: a falling train loss alone would also describe an overfitting run. Never
        for a run whose health check withheld the verdicts."""
        if self.withheld is not None:
            return False
        improving = self.trend is not None and self.trend.verdict == "improving"
        return improving and not (self.overfit is not None and self.overfit.detected)


def learning_curve(
    frame: pl.DataFrame, tail: float = TREND_TAIL, *, withheld: str | None = None
) -> LearningCurve:
    return LearningCurve(
        tail=tail,
        min_points=MIN_TREND_POINTS,
        trend=still_improving(frame, "loss", "train", tail),
        overfit=overfitting(frame),
        withheld=withheld,
    )
