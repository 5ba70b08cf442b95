"""The sentences an evaluation's section ends on: what its size can resolve, and whether its
problems were in the training data. Plain text, shared by the Markdown and HTML templates and
by the comparison report, so that the wording exists once."""

from __future__ import annotations

from gsmreport.analysis.contamination import Contamination
from gsmreport.analysis.power import ALPHA, POWER
from gsmreport.core.fmt import DASH


def _pct(x: float | None) -> str:
    return DASH if x is None else f"{x * 100:.1f} %"


def resolvable_text(points: float | None, n: int) -> str:
    """`points` is a fraction (0.19 = 19 points), from analysis.power."""
    where = f"{n} problem{'s' if n != 1 else ''}"
    setting = f"at {POWER * 100:.0f} % power and α = {ALPHA:g}"
    if points is None:
        return (
            f"With {where} no difference is resolvable {setting}: this evaluation cannot tell "
            "two runs apart."
        )
    return (
        f"What this evaluation can resolve: {setting}, {where} detect a difference of about "
        f"{points * 100:.1f} points against another evaluation of as many problems; a smaller "
        "gap between two such runs could be real and still go undetected."
    )


def contamination_text(c: Contamination) -> str:
    if not c.checked:
        return f"Contamination: not checked: {c.reason}."
    against = f"the run's {c.n_training} training example{'s' if c.n_training != 1 else ''}" + (
        f" ({c.training_source})" if c.training_source else ""
    )
    if not c.overlaps:
        return (
            f"Contamination: none of the {c.n_eval} evaluated problems appears in {against}, "
            f"whole or through a shared run of {c.ngram} words ({c.ngram}-gram)."
        )
    k, exact = len(c.overlaps), len(c.exact_ids)
    return (
        f"Contamination: {k} of {c.n_eval} evaluated problems overlap {against} ({exact} "
        f"whole, {k - exact} through a shared {c.ngram}-gram only). Accuracy on the "
        f"{c.clean_n} clean problems: {_pct(c.clean_accuracy)} (95 % interval "
        f"{_pct(c.clean_low)} – {_pct(c.clean_high)}), against {_pct(c.full_accuracy)} on all "
        f"{c.n_eval}."
    )
