"""What an evaluation can resolve: the smallest accuracy difference its sample size could
detect at 80 % power and a two-sided α = 0.05.

Reported beside every accuracy and every paired comparison, so that a study of 100 problems
says what it can and cannot show (a 3-point gap on 100 problems is not a finding either way).
Two designs, each with its textbook normal approximation:
- one accuracy `p` on `n` problems, against another evaluation of `n` problems (two
  independent proportions; Fleiss, *Statistical Methods for Rates and Proportions*, 4.14);
- two models on the same `n` problems (McNemar's test): the detectable difference depends on
  how often the two disagree, the discordant share ψ (Connor 1987, Biometrics 43:207).
Each is solved for the difference with scipy's root finder instead of being tabulated.
"""

from __future__ import annotations

import math
from collections.abc import Callable

ALPHA = 0.05
POWER = 0.80


def _z(alpha: float, power: float) -> tuple[float, float]:
    from scipy import stats

    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def _root(fn: Callable[[float], float], lo: float, hi: float) -> float | None:
    """The root of `fn` in [lo, hi], or None when it does not change sign there."""
    from scipy import optimize

    if hi <= lo or fn(lo) * fn(hi) > 0:
        return None
    return float(optimize.brentq(fn, lo, hi, xtol=1e-9))


def resolvable_two_samples(
    p: float, n: int, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """Smallest |d| such that an evaluation at accuracy `p` and another at p ± d, each of `n`
    problems, differ significantly with probability `power`. The larger of the two
    directions that fit inside [0, 1] (the conservative answer); None when n < 1 or neither
    direction can reach the power at all."""
    if n < 1 or not 0.0 <= p <= 1.0:
        return None
    za, zb = _z(alpha, power)
    found: list[float] = []
    for sign in (1.0, -1.0):
        room = (1.0 - p) if sign > 0 else p
        if room <= 0:
            continue

        def gap(d: float, sign: float = sign) -> float:
            q = p + sign * d
            mean = (p + q) / 2
            need = za * math.sqrt(2 * mean * (1 - mean)) + zb * math.sqrt(p * (1 - p) + q * (1 - q))
            return need / math.sqrt(n) - d

        # gap > 0 just above 0 (the test cannot see a tiny difference) and falls as d grows.
        root = _root(gap, 1e-12, room)
        if root is not None:
            found.append(root)
    return max(found) if found else None


def resolvable_paired(
    discordant: float, n: int, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """Smallest |d| McNemar's test on `n` shared problems detects with `power`, when the
    two models answer a share `discordant` of them differently (Connor's approximation
    n = (zα·√ψ + zβ·√(ψ − d²))² / d²). None when they never disagree or n is too small."""
    if n < 1 or not 0.0 < discordant <= 1.0:
        return None
    za, zb = _z(alpha, power)

    def gap(d: float) -> float:
        return (
            za * math.sqrt(discordant)
            + zb * math.sqrt(max(discordant - d * d, 0.0))
            - (d * math.sqrt(n))
        )

    return _root(gap, 1e-12, math.sqrt(discordant))
