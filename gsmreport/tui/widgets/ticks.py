"""Round axis ticks (1, 2, 2.5, 5 × 10^k) and their short labels; pure arithmetic."""

from __future__ import annotations

import itertools
import math

NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, target: int) -> float:
    """The smallest round step that cuts `span` into at most about `target` pieces."""
    raw = span / max(1, target)
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in NICE_STEPS if m * power >= raw * (1 - 1e-9))


def nice_ticks(lo: float, hi: float, target: int) -> list[float]:
    """Round values inside [lo, hi], about `target` of them (never none for a real span)."""
    step = nice_step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    ticks = [round(k * step, 12) for k in range(first, last + 1)]
    return ticks or [lo, hi]


def fmt_tick(value: float) -> str:
    """Short and exact enough for an axis: 0.0002 → 2e-04, 1500 → 1500, 12000 → 12k, 0.25."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10_000_000:  # past 9999k the k form would need an exponent anyway
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    if magnitude >= 10_000:
        return f"{value / 1000:.4g}k"
    if magnitude < 0.001:
        return f"{value:.1e}".replace(".0e", "e")
    return f"{value:.4g}"


def fmt_ticks(values: list[float]) -> list[str]:
    """`fmt_tick` of each value, with more digits when two of them would read the same (a
    narrow range far from zero: 36.3050 and 36.3075 are both `36.31` to four digits)."""
    labels = [fmt_tick(v) for v in values]
    if len(set(labels)) == len(labels) or len(values) < 2:
        return labels
    gaps = [abs(b - a) for a, b in itertools.pairwise(values) if b != a]
    if not gaps:
        return labels
    digits = max(0, math.ceil(-math.log10(min(gaps))))
    for extra in range(3):
        labels = [f"{v:.{digits + extra}f}" for v in values]
        if len(set(labels)) == len(labels):
            break
    return labels
