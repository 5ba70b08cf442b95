"""Fewer points for drawing a long curve, keeping what the eye needs: its extremes.

A 2,000-step loss curve drawn 560 pixels wide puts several points on each pixel column; they
add bytes to the SVG (and time to Vega and WeasyPrint), not detail. Min/max decimation keeps,
for each of `max_points / 2` equal step buckets, the lowest and the highest value, so a loss
spike stays visible where an evenly spaced sample could skip it. The numbers in the report
are always computed from every logged point; only the picture is thinned.

The one thinning rule for every picture: the report's charts, the comparison's loss overlay
and the TUI's terminal curves. Non-finite values are kept (each draws a gap in the line, and
the legends count them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_POINTS = 400  # per curve: 199 min/max pairs across a 560 px chart, ~3 px apart


def minmax_decimate(
    steps: Sequence[float], values: Sequence[float], max_points: int = MAX_POINTS
) -> list[int]:
    """Indices of the points to draw, in order: all of them when there are few enough;
    otherwise the first, the last, and the min and the max of each bucket of positions."""
    n = len(steps)
    if len(values) != n:
        raise ValueError(f"minmax_decimate: {n} steps but {len(values)} values")
    if n <= max_points:
        return list(range(n))
    buckets = max(1, (max_points - 2) // 2)
    keep = {0, n - 1}
    keep.update(i for i, v in enumerate(values) if not math.isfinite(v))
    for b in range(buckets):
        lo, hi = b * n // buckets, (b + 1) * n // buckets
        span = [i for i in range(lo, hi) if math.isfinite(values[i])]
        if span:
            keep.add(min(span, key=values.__getitem__))
            keep.add(max(span, key=values.__getitem__))
    return sorted(keep)
