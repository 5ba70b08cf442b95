"""The one smoothing rule of a logged curve, used by the report's tables, text and charts.

Why not a plain EMA with a fixed α per logged point: it weighs points, not steps, so on a
sparse or uneven log (an eval every 200 steps, a W&B run logged every 30 steps) it lags by
hundreds of steps, and started at the first value it drags that first reading along (a
falling loss then looks far higher than it is). Here instead:

- the weight of a reading decays with the *steps* since it, with a half-life of
  HALF_LIFE_SHARE of the curve's logged step range, so the lag is the same share of any run
  whatever its logging interval;
- the average is normalised by the weights actually present (the `adjust=True` form), so
  there is no start-up bias towards the first value;
- curves of fewer than MIN_SMOOTH_POINTS readings are not smoothed at all: with a handful of
  points a smoothed line mostly shows its own lag, and the raw points say everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_SMOOTH_POINTS = 10
HALF_LIFE_SHARE = 0.05  # the half-life, as a share of the logged step range

SMOOTHING_METHOD = (
    f"time-aware exponentially weighted mean over optimizer steps: a reading's weight halves "
    f"every {HALF_LIFE_SHARE * 100:g} % of the curve's logged step range (whatever the logging "
    f"interval), normalised by the weights present (no start-up bias towards the first "
    f"value); curves of fewer than {MIN_SMOOTH_POINTS} points are not smoothed"
)


@dataclass(frozen=True)
class Smoothed:
    values: tuple[float, ...]
    half_life_steps: float


def half_life(steps: Sequence[float]) -> float | None:
    """The half-life in steps for a curve logged at `steps` (sorted); None for a zero range."""
    if not steps:
        return None
    span = steps[-1] - steps[0]
    return span * HALF_LIFE_SHARE if span > 0 else None


def smooth(steps: Sequence[float], values: Sequence[float]) -> Smoothed | None:
    """The smoothed curve at each logged step, or None below MIN_SMOOTH_POINTS points.

    `steps` sorted ascending, `values` finite (callers drop NaN/inf first and count them).
    y_t = Σ_i w_ti·x_i / Σ_i w_ti with w_ti = 0.5 ** ((s_t − s_i) / h), kept as two running
    sums so that a 10,000-point curve costs one pass.
    """
    if len(steps) != len(values):
        raise ValueError(f"{len(steps)} steps but {len(values)} values")
    if len(values) < MIN_SMOOTH_POINTS:
        return None
    h = half_life(steps)
    if h is None:
        return None
    out: list[float] = []
    weighted = total = 0.0
    previous = steps[0]
    for step, value in zip(steps, values, strict=True):
        decay = math.pow(0.5, (step - previous) / h)
        weighted = weighted * decay + value
        total = total * decay + 1.0
        out.append(weighted / total)
        previous = step
    return Smoothed(tuple(out), h)
