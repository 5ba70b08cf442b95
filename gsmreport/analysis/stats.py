"""Small statistics with no dependencies beyond the standard library."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default).

    Preferred over the normal approximation because it stays inside [0, 1] and behaves at
    0/n and n/n, which is exactly where small evaluations of small models land.
    """
    if n <= 0:
        raise ValueError("wilson_interval needs n >= 1")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --- Student t ---------------------------------------------------------------------------
# No scipy (DESIGN: small dependencies), so the t distribution is computed from the
# regularized incomplete beta function, evaluated by its continued fraction (Lentz's method,
# as in Numerical Recipes §6.4). Accurate to ~1e-12, far beyond what a report prints.

_BETA_MAX_ITER = 500
_BETA_EPS = 1e-15
_TINY = 1e-300


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _BETA_MAX_ITER + 1):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _BETA_EPS:
            break
    return h


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 ≤ x ≤ 1."""
    if a <= 0 or b <= 0:
        raise ValueError("regularized_beta needs a > 0 and b > 0")
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be within [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The continued fraction converges fast only below the mean; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / (df + t * t), df / 2.0, 0.5)
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t with P(T ≤ t) = p (Student's t, `df` degrees of freedom), by bisection on t_cdf.

    Bisection rather than Newton: the CDF is monotone, so it cannot diverge, and 200 halvings
    of a bracketing interval are cheap next to anything else a report does.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be within (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low <= 1e-13 * max(1.0, high):
            break
    return (low + high) / 2.0


# --- ordinary least squares ---------------------------------------------------------------


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


def _fsum(values: Iterable[float]) -> float:
    """math.fsum, whose exact sum of finite values beyond float range (two losses of 1e308)
    is a ValueError, as for any input a statistic cannot be computed from."""
    try:
        return math.fsum(values)
    except OverflowError as exc:
        raise ValueError("values too large to sum in floating point") from exc


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> LinearFit:
    """OLS fit; needs at least 3 points (one residual degree of freedom), varying x and
    values whose sums of squares fit a float (ValueError otherwise)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError("xs and ys differ in length")
    if n < 3:
        raise ValueError("a slope with a standard error needs at least 3 points")
    mean_x, mean_y = _fsum(xs) / n, _fsum(ys) / n
    sxx = _fsum((x - mean_x) ** 2 for x in xs)
    if sxx == 0:
        raise ValueError("x does not vary: no slope")
    sxy = _fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ssr = _fsum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return LinearFit(slope, intercept, math.sqrt(ssr / (n - 2) / sxx), n)


# --- ranks ----------------------------------------------------------------------------------


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the mean of the ranks they span (Spearman's rule)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation; None when either input is constant (the correlation is undefined)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError("xs and ys differ in length")
    if n < 2:
        return None
    mean_x, mean_y = _fsum(xs) / n, _fsum(ys) / n
    sxx = _fsum((x - mean_x) ** 2 for x in xs)
    syy = _fsum((y - mean_y) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = _fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
