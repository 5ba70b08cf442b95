"""Two evaluations on the same problems, compared paired; and loss-vs-accuracy rank checks.

Inputs are mappings doc_id → correct (bool). `correct_by_doc` builds one from a samples
frame. Only problems both evaluations answered are compared: pairing is what makes a
100-problem comparison informative at all, since most problems are right (or wrong) for both
models and only the discordant ones carry evidence.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from gsmreport.analysis import stats
from gsmreport.analysis.power import resolvable_paired
from gsmreport.analysis.stats import average_ranks, binomial_two_sided_p

ALPHA = 0.05
EXACT_PERMUTATION_MAX_N = 8  # 8! = 40,320 orderings: exact p below this, t approximation above
MEANINGFUL_MIN_RUNS = 4
# Below this many shared problems a bootstrap interval only repeats the few outcomes there are
# (one shared problem gives "−100.0 to −100.0"): the difference is stated without one.
MIN_INTERVAL_PROBLEMS = 10
_CHUNK_CELLS = 2_000_000  # resample indices held in memory at once (16 MB of int64)

Outcomes = Mapping[int, bool]


def correct_by_doc(samples: pl.DataFrame, column: str | None = None) -> dict[int, bool]:
    """doc_id → correct from a samples frame: `column`, else `correct`, else `em:strict-match`."""
    if column is None:
        column = next((c for c in ("correct", "em:strict-match") if c in samples.columns), None)
    if column is None or "doc_id" not in samples.columns:
        raise ValueError("samples frame needs doc_id and a correct (or em:strict-match) column")
    rows = samples.select("doc_id", column).drop_nulls().iter_rows()
    return {int(doc): bool(ok) for doc, ok in rows}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p: binomial(b + c, ½) on the discordant pairs.

    b = A right / B wrong, c = A wrong / B right. Under ½ the binomial is symmetric, so the
    two-sided exact test is the doubled smaller tail capped at 1; p = 1 when there are no
    discordant pairs.
    """
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be >= 0")
    return binomial_two_sided_p(min(b, c), b + c)


def _aligned(a: Outcomes, b: Outcomes) -> tuple[list[int], np.ndarray, np.ndarray]:
    shared = sorted(set(a) & set(b))
    return (
        shared,
        np.array([bool(a[d]) for d in shared], dtype=np.int8),
        np.array([bool(b[d]) for d in shared], dtype=np.int8),
    )


def paired_bootstrap(
    a: Outcomes, b: Outcomes, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """(accuracy B − accuracy A, 2.5th, 97.5th percentile) over shared problems.

    Problems are resampled with replacement, the same draw for both models (the pairing),
    vectorised in chunks so memory stays bounded for large evaluations.
    """
    _, xa, xb = _aligned(a, b)
    n = len(xa)
    if n == 0:
        raise ValueError("no shared problems to compare")
    if n_resamples < 1:
        raise ValueError("n_resamples must be >= 1")
    per_problem = (xb - xa).astype(np.float64)
    rng = np.random.default_rng(seed)
    chunk = max(1, _CHUNK_CELLS // n)
    diffs = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        diffs[start : start + size] = per_problem[idx].mean(axis=1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(per_problem.mean()), float(low), float(high)


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


@dataclass(frozen=True)
class PairedComparison:
    label_a: str
    label_b: str
    n: int  # shared problems
    only_a: int  # problems only A answered (left out)
    only_b: int
    acc_a: float
    acc_b: float
    diff: float  # acc_b − acc_a
    low: float  # 95 % paired bootstrap interval of diff
    high: float
    b: int  # A right, B wrong
    c: int  # A wrong, B right
    p_value: float  # exact McNemar
    n_resamples: int
    seed: int
    verdict: str
    # The smallest difference McNemar's test on these n problems would detect at 80 % power
    # given how often the two disagree (analysis/power.py); None when they never disagree.
    resolvable: float | None = None
    interval_stated: bool = True  # False below MIN_INTERVAL_PROBLEMS shared problems


def _verdict(label_a: str, label_b: str, n: int, diff: float, p: float, ci: str) -> str:
    where = f"on {n} shared problems (McNemar {format_p(p)}"
    if p >= ALPHA:
        return f"no significant difference {where}; {ci})"
    better, worse = (label_b, label_a) if diff > 0 else (label_a, label_b)
    return f"{better} is more accurate than {worse} by {abs(diff) * 100:.1f} points {where}; {ci})"


def compare_paired(
    a: Outcomes,
    b: Outcomes,
    label_a: str = "A",
    label_b: str = "B",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> PairedComparison:
    shared, xa, xb = _aligned(a, b)
    n = len(shared)
    if n == 0:
        raise ValueError("the two evaluations share no problems: a paired comparison is impossible")
    b_count = int(np.sum((xa == 1) & (xb == 0)))
    c_count = int(np.sum((xa == 0) & (xb == 1)))
    p = mcnemar_exact(b_count, c_count)
    diff, low, high = paired_bootstrap(a, b, n_resamples, seed)
    resolvable = resolvable_paired((b_count + c_count) / n, n)
    ci = f"difference {diff * 100:+.1f} points, 95 % CI {low * 100:+.1f} to {high * 100:+.1f}"
    reach = (
        f"; at 80 % power these {n} problems resolve about {resolvable * 100:.1f} points, "
        f"given that the two disagree on {b_count + c_count}"
        if resolvable is not None
        else "; the two never disagree, so no difference is resolvable from these problems"
    )
    if n < MIN_INTERVAL_PROBLEMS:
        ci = (
            f"difference {diff * 100:+.1f} points; no interval from {n} shared problem"
            f"{'s' if n != 1 else ''} (fewer than {MIN_INTERVAL_PROBLEMS})"
        )
    return PairedComparison(
        label_a=label_a,
        label_b=label_b,
        n=n,
        only_a=len(a) - n,
        only_b=len(b) - n,
        acc_a=float(xa.mean()),
        acc_b=float(xb.mean()),
        diff=diff,
        low=low,
        high=high,
        b=b_count,
        c=c_count,
        p_value=p,
        n_resamples=n_resamples,
        seed=seed,
        verdict=_verdict(label_a, label_b, n, diff, p, ci) + reach,
        resolvable=resolvable,
        interval_stated=n >= MIN_INTERVAL_PROBLEMS,
    )


# --- rank correlation -----------------------------------------------------------------------


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's ρ (scipy.stats.spearmanr: ties share their mean rank).

    None with fewer than 3 points or when either input is constant.
    """
    rho_p = stats.spearman(xs, ys)
    return None if rho_p is None else rho_p[0]


def spearman_p(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Two-sided p of ρ = 0: exact over all orderings for n ≤ 8, t approximation above.

    The t approximation (t = ρ·√((n−2)/(1−ρ²)), df = n − 2) is badly wrong for a handful of
    runs (ρ = −1 with 4 runs would get p = 0; the exact p is 2/24), hence the exact count.
    """
    rho_p = stats.spearman(xs, ys)
    if rho_p is None:
        return None
    rho, t_approx_p = rho_p
    n = len(xs)
    if n <= EXACT_PERMUTATION_MAX_N:
        # Every ordering of the y ranks against the x ranks, all at once (8! × 8 numbers).
        rx = np.array(average_ranks(xs))
        perms = np.array(list(itertools.permutations(average_ranks(ys))))
        dx = rx - rx.mean()
        dy = perms - perms.mean(axis=1, keepdims=True)
        rhos = (dy @ dx) / np.sqrt((dx @ dx) * (dy * dy).sum(axis=1))
        return float(np.mean(np.abs(rhos) >= abs(rho) - 1e-12))
    return t_approx_p


@dataclass(frozen=True)
class LossAccuracy:
    """Does a lower final training loss go with a higher task accuracy across runs?"""

    n: int  # runs with a finite loss and accuracy
    rho: float | None
    p_value: float | None
    runs: tuple[tuple[str, float, float], ...]  # (run_id, final loss, accuracy) used
    sentence: str


def loss_vs_accuracy(runs: Sequence[tuple[str, float, float]]) -> LossAccuracy:
    """Rank correlation of (run_id, final train loss, accuracy) over runs, with its sentence.

    Only what the numbers support is said: with fewer than 4 runs the correlation is not
    meaningful, and without p < 0.05 no direction is claimed.
    """
    used = tuple(
        (rid, float(loss), float(acc))
        for rid, loss, acc in runs
        if math.isfinite(loss) and math.isfinite(acc)
    )
    n = len(used)
    losses, accs = [r[1] for r in used], [r[2] for r in used]
    rho = spearman(losses, accs)
    p = spearman_p(losses, accs) if n >= MEANINGFUL_MIN_RUNS else None
    if n < MEANINGFUL_MIN_RUNS:
        sentence = (
            f"only {n} run{'s' if n != 1 else ''} with both a final loss and an accuracy: "
            "a rank correlation between them is not meaningful"
        )
    elif rho is None or p is None:
        sentence = f"loss or accuracy is constant across the {n} runs: no rank correlation"
    else:
        figures = f"Spearman ρ = {rho:+.2f}, {format_p(p)}, {n} runs"
        if p >= ALPHA:
            sentence = (
                f"no clear relation between final training loss and accuracy ({figures}): "
                "a lower loss did not reliably mean a higher accuracy"
            )
        elif rho < 0:
            sentence = f"lower final training loss went with higher accuracy ({figures})"
        else:
            sentence = (
                f"lower final training loss went with lower accuracy ({figures}): "
                "training loss is not task accuracy"
            )
    return LossAccuracy(n=n, rho=rho, p_value=p, runs=used, sentence=sentence)
