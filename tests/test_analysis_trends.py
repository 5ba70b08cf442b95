"""Still improving? Overfitting? Fitted slopes with intervals, against hand-made curves."""

from __future__ import annotations

import math

import polars as pl
import pytest

from gsmreport.analysis.smoothing import smooth
from gsmreport.analysis.stats import linear_fit, regularized_beta, t_cdf, t_quantile
from gsmreport.analysis.trends import eval_noise, overfitting, still_improving
from gsmreport.ingest import rows_from_log
from gsmreport.ingest.schema import frame_from_rows


def curves(
    train: list[tuple[int, float]], evals: list[tuple[int, float]] | None = None
) -> pl.DataFrame:
    rows = []
    for step, loss in train:
        rows += rows_from_log({"loss": loss, "step": step}, run_id="r", source="s")
    for step, loss in evals or []:
        rows += rows_from_log({"eval_loss": loss, "step": step}, run_id="r", source="s")
    return frame_from_rows(rows)


# --- Student t and OLS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706204736), (2, 4.302652730), (10, 2.228138852), (30, 2.042272456), (100, 1.983971519)],
)
def test_t_quantile_matches_tables(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-8)


def test_t_distribution_edges() -> None:
    assert t_cdf(0.0, 7) == 0.5
    assert t_cdf(12.706204736, 1) == pytest.approx(0.975, abs=1e-10)
    assert t_quantile(0.995, 3) == pytest.approx(5.840909309, abs=1e-8)
    # Very large df: the normal quantile.
    assert t_quantile(0.975, 1e7) == pytest.approx(1.959963985, abs=1e-6)
    # df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
    assert t_cdf(3.0, 1) == pytest.approx(0.5 + math.atan(3.0) / math.pi, abs=1e-12)
    assert regularized_beta(0.3, 1.0, 1.0) == pytest.approx(0.3)  # uniform
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)


def test_linear_fit_by_hand() -> None:
    # x̄ = 1.5, ȳ = 2.75, Sxy = 5.5, Sxx = 5: slope 1.1, intercept 2.75 − 1.65 = 1.1
    fit = linear_fit([0, 1, 2, 3], [1, 3, 2, 5])
    assert fit.slope == pytest.approx(1.1)
    assert fit.intercept == pytest.approx(1.1)
    residuals = [1 - 1.1, 3 - 2.2, 2 - 3.3, 5 - 4.4]
    se = math.sqrt(sum(r * r for r in residuals) / 2 / 5.0)
    assert fit.se_slope == pytest.approx(se)
    low, high = fit.slope_interval()
    assert (low, high) == pytest.approx((1.1 - 4.302652730 * se, 1.1 + 4.302652730 * se))


# --- still improving -------------------------------------------------------------------------


def test_falling_line_is_improving_with_its_exact_slope() -> None:
    train = [(s, 3.0 - 0.01 * s) for s in range(1, 101)]
    trend = still_improving(curves(train))
    assert trend is not None
    assert trend.verdict == "improving"
    # last 20 % of steps 1..100: steps >= 100 - 0.2 * 99 = 80.2
    assert (trend.window_start, trend.window_end, trend.n_points) == (81, 100, 20)
    assert trend.slope_per_100 == pytest.approx(-1.0)
    assert "more epochs would likely help" in trend.sentence


def test_noisy_falling_curve_is_still_improving() -> None:
    wobble = [0.03, -0.02, 0.01, -0.03, 0.02]
    train = [(10 * i, 2.0 - 0.001 * 10 * i + wobble[i % 5]) for i in range(1, 101)]
    trend = still_improving(curves(train))
    assert trend is not None and trend.verdict == "improving"
    assert trend.high_per_100 < 0 and trend.low_per_100 < trend.slope_per_100


def test_noise_around_a_level_is_flat_or_inconclusive() -> None:
    wobble = [0.05, -0.04, 0.02, -0.06, 0.03, 0.01, -0.02, 0.04, -0.03, 0.0]
    train = [(10 * i, 1.0 + wobble[i % 10]) for i in range(1, 101)]
    trend = still_improving(curves(train))
    assert trend is not None
    assert trend.verdict == "flat / inconclusive"
    assert trend.low_per_100 < 0 < trend.high_per_100
    assert "more epochs" not in trend.sentence


def test_rising_tail_is_worsening() -> None:
    train = [(s, 2.0 - 0.01 * s) for s in range(1, 81)] + [
        (s, 1.2 + 0.02 * (s - 80) + (0.01 if s % 2 else -0.01)) for s in range(81, 101)
    ]
    trend = still_improving(curves(train))
    assert trend is not None and trend.verdict == "worsening"


def test_slope_is_fitted_on_raw_points_and_ema_is_context() -> None:
    values = [2.0, 1.5, 1.8, 1.1, 1.4, 0.9, 1.2, 0.7, 1.0, 0.5]
    train = list(zip(range(1, 11), values, strict=True))
    trend = still_improving(curves(train), tail=0.5)
    assert trend is not None
    window = [(s, v) for s, v in train if s >= 10 - 0.5 * 9]
    raw = linear_fit([float(s) for s, _ in window], [v for _, v in window])
    assert trend.slope_per_100 == pytest.approx(raw.slope * 100)
    smoothed = smooth(list(range(1, 11)), values)
    assert smoothed is not None and trend.ema_end is not None and trend.ema_start is not None
    assert trend.ema_end.value == pytest.approx(smoothed.values[-1]) and trend.ema_end.step == 10
    assert trend.ema_start.step == window[0][0]
    assert trend.smooth_half_life == smoothed.half_life_steps
    assert "raw" in trend.method and "smoothed" in trend.method


def test_too_few_points_or_non_finite() -> None:
    assert still_improving(curves([(s, 1.0 / s) for s in range(1, 5)])) is None
    # 20 points, but the last 20 % holds only 4 of them.
    assert still_improving(curves([(s, 1.0 / s) for s in range(1, 21)])) is None
    nan_tail = [(s, 1.0 / s) for s in range(1, 95)] + [(s, math.nan) for s in range(95, 101)]
    trend = still_improving(curves(nan_tail))
    assert trend is not None and trend.window_end == 94
    with pytest.raises(ValueError):
        still_improving(curves([(1, 1.0)]), tail=0.0)


# --- overfitting ------------------------------------------------------------------------------

FALLING_TRAIN = [(s, 2.5 - 0.0015 * s) for s in range(50, 1001, 50)]
U_EVAL = list(
    zip(
        range(100, 1001, 100),
        [2.0, 1.7, 1.5, 1.35, 1.25, 1.2, 1.22, 1.28, 1.36, 1.45],
        strict=True,
    )
)


def test_noise_from_second_differences_by_hand() -> None:
    # second differences: -0.4, 0.4, -0.4 → median |·| 0.4
    assert eval_noise([1.0, 1.2, 1.0, 1.2, 1.0]) == pytest.approx(
        0.4 / (0.6744897501960817 * math.sqrt(6))
    )
    # a straight line has no noise at all
    assert eval_noise([3.0, 2.0, 1.0, 0.0]) == pytest.approx(0.0)
    assert eval_noise([1.0, 2.0]) is None


def test_u_shaped_eval_curve_is_overfitting_at_the_minimum() -> None:
    result = overfitting(curves(FALLING_TRAIN, U_EVAL))
    assert result is not None
    assert result.detected and result.eval_rose and result.train_falling is True
    assert (result.min_step, result.min_value) == (600, 1.2)
    assert (result.final_step, result.final_value) == (1000, 1.45)
    assert result.excess == pytest.approx(0.25)
    assert result.noise is not None and result.threshold is not None
    assert result.threshold == pytest.approx(2 * math.sqrt(2) * result.noise)
    assert result.excess > result.threshold
    assert result.train_slope_per_100 == pytest.approx(-0.15)
    assert "step 600" in result.sentence


def test_noisy_flat_eval_curve_is_not_overfitting() -> None:
    flat = [1.02, 0.97, 1.01, 0.98, 1.03, 0.96, 1.00, 1.01, 0.99, 1.00]
    evals = list(zip(range(100, 1001, 100), flat, strict=True))
    result = overfitting(curves(FALLING_TRAIN, evals))
    assert result is not None
    assert result.min_step == 600 and result.excess == pytest.approx(0.04)
    assert result.threshold is not None and result.excess < result.threshold
    assert not result.eval_rose and not result.detected
    assert "no sign of overfitting" in result.sentence


def test_eval_rise_without_falling_train_loss_is_not_called_overfitting() -> None:
    rising_train = [(s, 1.0 + 0.0001 * s) for s in range(50, 1001, 50)]
    result = overfitting(curves(rising_train, U_EVAL))
    assert result is not None
    assert result.eval_rose and result.train_falling is False and not result.detected
    assert "not classic overfitting" in result.sentence


def test_falling_eval_loss_and_too_few_points() -> None:
    falling = [(s, 2.0 - 0.001 * s) for s in range(100, 1001, 100)]
    result = overfitting(curves(FALLING_TRAIN, falling))
    assert result is not None
    assert result.min_step == 1000 and result.excess == 0 and not result.detected
    assert result.train_falling is None  # no span after the minimum to look at
    assert overfitting(curves(FALLING_TRAIN, U_EVAL[:2])) is None
    assert overfitting(curves(FALLING_TRAIN)) is None
