"""Paired comparison of two evaluations, and rank correlation of loss against accuracy."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from gsmreport.analysis.compare import (
    MIN_INTERVAL_PROBLEMS,
    compare_paired,
    correct_by_doc,
    loss_vs_accuracy,
    mcnemar_exact,
    paired_bootstrap,
    spearman,
    spearman_p,
)


def paired(both: int, only_a: int, only_b: int, neither: int) -> tuple[dict[int, bool], ...]:
    """Two outcome maps with the given agreement table, doc ids 0..n-1."""
    pairs = (
        [(True, True)] * both
        + [(True, False)] * only_a
        + [(False, True)] * only_b
        + [(False, False)] * neither
    )
    a = {i: x for i, (x, _) in enumerate(pairs)}
    b = {i: y for i, (_, y) in enumerate(pairs)}
    return a, b


# --- McNemar ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b", "c", "expected"),
    [
        (1, 9, 0.021484375),  # 2 · (1 + 10) / 2^10
        (9, 1, 0.021484375),
        (0, 5, 0.0625),  # 2 / 2^5
        (3, 10, 2 * (1 + 13 + 78 + 286) / 2**13),
        (5, 5, 1.0),  # doubled tail above 1 is capped
        (0, 0, 1.0),
    ],
)
def test_mcnemar_exact_by_hand(b: int, c: int, expected: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(expected, abs=1e-15)


def test_mcnemar_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 3)


# --- bootstrap --------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed_and_centred_on_the_difference() -> None:
    a, b = paired(50, 5, 15, 30)
    first = paired_bootstrap(a, b, n_resamples=2000, seed=7)
    assert first == paired_bootstrap(a, b, n_resamples=2000, seed=7)
    assert first != paired_bootstrap(a, b, n_resamples=2000, seed=8)
    diff, low, high = first
    assert diff == pytest.approx(0.10)  # (65 − 55) / 100
    assert low < diff < high
    # Normal-theory half-width of a paired difference: 1.96 · sd(d) / √n.
    d = np.array([0] * 80 + [-1] * 5 + [1] * 15)
    half = 1.96 * d.std() / math.sqrt(100)
    assert (high - low) / 2 == pytest.approx(half, rel=0.15)


def test_bootstrap_interval_covers_the_true_difference() -> None:
    # 200 evaluations drawn from a population where B is right 10 points more often.
    rng = np.random.default_rng(123)
    covered = 0
    trials = 200
    for trial in range(trials):
        u = rng.random(200)
        a_right = u < 0.5
        b_right = (u < 0.45) | ((u >= 0.5) & (u < 0.65))  # P(B) − P(A) = 0.60 − 0.50
        a = dict(enumerate(a_right.tolist()))
        b = dict(enumerate(b_right.tolist()))
        _, low, high = paired_bootstrap(a, b, n_resamples=1000, seed=trial)
        covered += low <= 0.10 <= high
    assert 0.88 <= covered / trials <= 0.99


def test_bootstrap_uses_shared_problems_only() -> None:
    a = {1: True, 2: False, 3: True}
    b = {2: True, 3: True, 4: False}
    assert paired_bootstrap(a, b, n_resamples=100)[0] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        paired_bootstrap({1: True}, {2: True})


# --- compare_paired ---------------------------------------------------------------------------


def test_no_difference_is_claimed_without_significance() -> None:
    a, b = paired(40, 5, 8, 47)
    result = compare_paired(a, b)
    assert (result.n, result.b, result.c) == (100, 5, 8)
    assert result.p_value == pytest.approx(2 * (1 + 13 + 78 + 286 + 715 + 1287) / 2**13)
    assert (result.acc_a, result.acc_b) == (0.45, 0.48)
    assert result.diff == pytest.approx(0.03)
    assert result.verdict.startswith("no significant difference on 100 shared problems")
    assert "McNemar p = 0.58" in result.verdict
    assert "more accurate" not in result.verdict


def test_significant_difference_names_the_better_model() -> None:
    a, b = paired(40, 1, 9, 50)
    result = compare_paired(a, b, label_a="base", label_b="lora")
    assert result.p_value == 0.021484375
    assert result.verdict.startswith("lora is more accurate than base by 8.0 points")
    assert "McNemar p = 0.021" in result.verdict
    assert result.low <= result.diff <= result.high
    flipped = compare_paired(b, a, label_a="lora", label_b="base")
    assert flipped.verdict.startswith("lora is more accurate than base")


def test_only_shared_problems_are_compared() -> None:
    a = {i: True for i in range(10)}
    b = {i: i % 2 == 0 for i in range(5, 20)}
    result = compare_paired(a, b, n_resamples=200)
    assert (result.n, result.only_a, result.only_b) == (5, 5, 10)
    with pytest.raises(ValueError, match="share no problems"):
        compare_paired({1: True}, {2: True})


def test_no_interval_from_too_few_shared_problems() -> None:
    """One shared problem, right for A and wrong for B: the bootstrap can only say
    "−100.0 to −100.0", which is no interval; the difference is stated without one."""
    one = compare_paired({7: True}, {7: False}, n_resamples=200)
    assert (one.n, one.diff, one.low, one.high) == (1, -1.0, -1.0, -1.0)
    assert not one.interval_stated
    assert "95 % CI" not in one.verdict
    assert f"no interval from 1 shared problem (fewer than {MIN_INTERVAL_PROBLEMS})" in one.verdict
    a, b = paired(40, 1, 9, 50)
    enough = compare_paired(a, b, n_resamples=200)
    assert enough.interval_stated and "95 % CI" in enough.verdict


def test_correct_by_doc_from_frames() -> None:
    ours = pl.DataFrame({"doc_id": [0, 1, 2], "correct": [True, False, None]})
    assert correct_by_doc(ours) == {0: True, 1: False}
    flat = pl.DataFrame({"doc_id": [3, 4], "em:strict-match": [1, 0]})
    assert correct_by_doc(flat) == {3: True, 4: False}
    with pytest.raises(ValueError):
        correct_by_doc(pl.DataFrame({"doc_id": [1]}))


# --- rank correlation -------------------------------------------------------------------------


def test_spearman_with_ties_by_hand() -> None:
    # average ranks: x → 1, 2.5, 2.5, 4, 5; y → 1, 2, 3.5, 3.5, 5
    # deviations from 3: x (−2, −.5, −.5, 1, 2), y (−2, −1, .5, .5, 2)
    # Σdxdy = 4 + .5 − .25 + .5 + 4 = 8.75; Σdx² = Σdy² = 9.5
    rho = spearman([1, 2, 2, 3, 4], [10, 20, 30, 30, 50])
    assert rho == pytest.approx(8.75 / 9.5)


def test_spearman_undefined_cases() -> None:
    assert spearman([1, 2], [2, 1]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        spearman([1, 2, 3], [1, 2])


def test_spearman_p_exact_for_few_runs() -> None:
    # 4 runs in perfect order: 2 of the 24 orderings are as extreme (ρ = ±1).
    assert spearman_p([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(2 / 24)
    # 10 runs: t approximation, t = ρ √(8 / (1 − ρ²)).
    xs = list(range(10))
    ys = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9]
    p = spearman_p(xs, ys)
    assert p is not None and p < 0.001


def test_loss_vs_accuracy_says_only_what_the_data_supports() -> None:
    few = loss_vs_accuracy([("a", 1.0, 0.3), ("b", 0.9, 0.4), ("c", 0.8, 0.5)])
    assert few.n == 3 and "not meaningful" in few.sentence
    four = loss_vs_accuracy([(f"r{i}", 1.0 - i / 10, 0.3 + i / 10) for i in range(4)])
    assert four.rho == pytest.approx(-1.0)
    assert four.p_value == pytest.approx(2 / 24)
    assert four.sentence.startswith("no clear relation")
    eight = loss_vs_accuracy([(f"r{i}", 1.0 - i / 10, 0.3 + i / 20) for i in range(8)])
    assert eight.sentence.startswith("lower final training loss went with higher accuracy")
    assert "ρ = -1.00" in eight.sentence
    upside_down = loss_vs_accuracy([(f"r{i}", 1.0 - i / 10, 0.7 - i / 20) for i in range(8)])
    assert "training loss is not task accuracy" in upside_down.sentence
    flat = loss_vs_accuracy([(f"r{i}", 1.0 - i / 10, 0.5) for i in range(5)])
    assert flat.rho is None and "constant" in flat.sentence


def test_loss_vs_accuracy_drops_non_finite_runs() -> None:
    runs = [("a", 1.0, 0.3), ("b", math.nan, 0.4), ("c", 0.8, math.inf), ("d", 0.7, 0.6)]
    result = loss_vs_accuracy(runs)
    assert result.n == 2 and [r[0] for r in result.runs] == ["a", "d"]
    assert "only 2 runs" in result.sentence
