"""The one smoothing rule (analysis/smoothing.py): time-aware over steps, no start-up bias,
nothing below its minimum number of points."""

from __future__ import annotations

import math

import pytest

from gsmreport.analysis.smoothing import HALF_LIFE_SHARE, MIN_SMOOTH_POINTS, half_life, smooth


def test_definition_on_uneven_steps() -> None:
    steps = [0, 1, 2, 3, 4, 5, 6, 7, 8, 100]
    values = [float(v) for v in range(10)]
    result = smooth(steps, values)
    assert result is not None
    h = 100 * HALF_LIFE_SHARE
    assert result.half_life_steps == h
    for t, step in enumerate(steps):  # every earlier point, weighted by the steps since it
        weights = [math.pow(0.5, (step - steps[i]) / h) for i in range(t + 1)]
        want = sum(w * values[i] for i, w in enumerate(weights)) / sum(weights)
        assert result.values[t] == pytest.approx(want)
    # 92 steps after the others (18 half-lives), the last reading is nearly all that counts.
    assert result.values[-1] == pytest.approx(9.0, abs=1e-3)


def test_no_start_up_bias() -> None:
    """A recursion started at the first value gives that value the weight of the whole past;
    the normalised average does not: one high first reading fades like any other."""
    steps = list(range(0, 200, 10))
    values = [10.0] + [1.0] * 19
    result = smooth(steps, values)
    assert result is not None
    assert result.values[0] == 10.0
    assert result.values[-1] == pytest.approx(1.0, abs=1e-3)
    flat = smooth(steps, [2.5] * 20)
    assert flat is not None and flat.values == pytest.approx([2.5] * 20)


def test_nothing_below_the_minimum_or_on_one_step() -> None:
    assert smooth(list(range(MIN_SMOOTH_POINTS - 1)), [1.0] * (MIN_SMOOTH_POINTS - 1)) is None
    assert smooth([5] * 12, [1.0] * 12) is None and half_life([5, 5]) is None
    with pytest.raises(ValueError):
        smooth([1, 2], [1.0])
