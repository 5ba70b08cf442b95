"""Small statistics, delegated to scipy.stats; this module only fixes the project's conventions.

What stays here is what scipy leaves to the caller: the arguments a report can produce but a
statistic cannot take (constant inputs, too few points) are refused with a ValueError or
answered with None, so that a finding resting on them can be dropped with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# scipy.stats is imported inside each function: importing it costs ~2.5 s, which every
# `gsmreport` start and every ingest worker would pay for figures most of them never ask for.


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default).

    Preferred over the normal approximation because it stays inside [0, 1] and behaves at
    0/n and n/n, which is exactly where small evaluations of small models land.
    """
    from scipy import stats

    if n <= 0:
        raise ValueError("wilson_interval needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    ci = stats.binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return max(0.0, float(ci.low)), min(1.0, float(ci.high))


def binomial_two_sided_p(k: int, n: int) -> float:
    """Two-sided exact binomial p of k successes in n trials under p = ½ (1 when n = 0)."""
    from scipy import stats

    if n == 0:
        return 1.0
    return float(stats.binomtest(k, n, 0.5).pvalue)


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1."""
    from scipy import special

    if a <= 0 or b <= 0:
        raise ValueError("regularized_beta needs a > 0 and b > 0")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be within [0, 1], got {x}")
    return float(special.betainc(a, b, x))


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom."""
    from scipy import stats

    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    return float(stats.t.cdf(t, df))


def t_quantile(p: float, df: float) -> float:
    """The t with P(T ≤ t) = p (Student's t, `df` degrees of freedom)."""
    from scipy import stats

    # scipy answers ±inf or nan out of range; a report asking for those has a bug to surface.
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be within (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    return float(stats.t.ppf(p, df))


@dataclass(frozen=True)
class LinearFit:
    """y = intercept + slope·x by ordinary least squares, with the slope's standard error."""

    slope: float
    intercept: float
    se_slope: float
    n: int

    def slope_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Two-sided t interval of the slope (df = n − 2); assumes independent residuals."""
        half = t_quantile(0.5 + level / 2.0, self.n - 2) * self.se_slope
        return self.slope - half, self.slope + half


def _check_finite_squares(*columns: Sequence[float]) -> None:
    """ValueError when a column's values or their sum of squares leave float range."""
    with np.errstate(over="ignore", invalid="ignore"):
        for column in columns:
            values = np.asarray(column, dtype=float)
            if not np.all(np.isfinite(values)) or not np.isfinite(np.sum(values * values)):
                raise ValueError("values too large (or not finite) for a least-squares fit")


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> LinearFit:
    """OLS fit; needs at least 3 points (one residual degree of freedom), varying x and
    values whose sums of squares fit a float (ValueError otherwise: two losses of 1e308 would
    give scipy an infinite variance and a NaN slope, not a statistic)."""
    from scipy import stats

    n = len(xs)
    if n != len(ys):
        raise ValueError("xs and ys differ in length")
    if n < 3:
        raise ValueError("a slope with a standard error needs at least 3 points")
    if min(xs) == max(xs):
        raise ValueError("x does not vary: no slope")
    _check_finite_squares(xs, ys)
    fit = stats.linregress(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    return LinearFit(float(fit.slope), float(fit.intercept), float(fit.stderr), n)


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the mean of the ranks they span (Spearman's rule)."""
    from scipy import stats

    return [float(r) for r in stats.rankdata(np.asarray(values, dtype=float), method="average")]


def _constant(values: Sequence[float]) -> bool:
    return min(values) == max(values)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Spearman's ρ (ties share their mean rank) and its t-approximation two-sided p.

    None with fewer than 3 points or when either input is constant (ρ is undefined).
    """
    from scipy import stats

    if len(xs) != len(ys):
        raise ValueError("xs and ys differ in length")
    if len(xs) < 3 or _constant(xs) or _constant(ys):
        return None
    result = stats.spearmanr(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
    return max(-1.0, min(1.0, float(result.statistic))), float(result.pvalue)
