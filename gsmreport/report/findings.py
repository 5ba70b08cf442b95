"""Rule-based findings: each is written only when its inputs exist, and quotes them.

No finding interprets beyond its numbers (e.g. the train/eval gap is stated, not called
overfitting), because the report's promise is that every sentence can be checked.
"""

from __future__ import annotations

from gsmreport.analysis.evaluation import EvalSummary
from gsmreport.analysis.training import CurveSummary, TrainingSummary
from gsmreport.report.fmt import num, pct, pct_value, signed


def _curve(name: str, curve: CurveSummary, alpha: float) -> list[str]:
    out: list[str] = []
    if curve.drop_pct is not None:
        verb = "fell" if curve.drop_pct >= 0 else "rose"
        out.append(
            f"{name} {verb} {pct_value(abs(curve.drop_pct))} "
            f"({num(curve.first.value)} at step {curve.first.step} → "
            f"{num(curve.final.value)} at step {curve.final.step})."
        )
    # With few points an EMA mostly shows its own lag, so only smooth curves with ten or more.
    if curve.n_points >= 10 and curve.ema_drop_pct is not None:
        out.append(
            f"On the EMA-smoothed curve (α = {alpha:g}) {name.lower()} changed by "
            f"{signed(-curve.ema_drop_pct)} % ({num(curve.ema_first.value)} → "
            f"{num(curve.ema_final.value)} at step {curve.ema_final.step})."
        )
    if curve.min.step != curve.final.step and curve.min.value < curve.final.value:
        out.append(
            f"{name} was lowest at step {curve.min.step} ({num(curve.min.value)}), "
            f"{num(curve.final.value - curve.min.value)} below its final value."
        )
    return out


def training_findings(summary: TrainingSummary) -> list[str]:
    out: list[str] = []
    if summary.train_loss:
        out += _curve("Training loss", summary.train_loss, summary.ema_alpha)
    if summary.eval_loss:
        out += _curve("Eval loss", summary.eval_loss, summary.ema_alpha)
    if summary.gap:
        gap = summary.gap
        out.append(
            f"Final eval loss {num(gap.eval.value)} (step {gap.eval.step}) is "
            f"{num(abs(gap.value))} {'above' if gap.value >= 0 else 'below'} the final "
            f"training loss {num(gap.train.value)} (step {gap.train.step})."
        )
    for acc in summary.token_accuracy:
        out.append(
            f"{acc.split.capitalize()} {acc.label} went from {pct(acc.first.value)} "
            f"(step {acc.first.step}) to {pct(acc.final.value)} (step {acc.final.step}), "
            f"{signed(acc.delta_points)} points; this is not task accuracy."
        )
    for key, count in summary.non_finite.items():
        out.append(f"{count} logged value(s) of {key} were NaN or infinite; charts omit them.")
    return out


def eval_findings(evaluation: EvalSummary) -> list[str]:
    out: list[str] = []
    for score in evaluation.scores:
        out.append(
            f"Exact match ({score.filter}) on eval {evaluation.eval_id}: {pct(score.em)} "
            f"({score.correct}/{score.n}), 95 % Wilson interval {pct(score.low)}–"
            f"{pct(score.high)}; with {score.n} problems that is up to "
            f"±{num(score.half_width_points, 1)} points."
        )
    wrong = [c for c in evaluation.categories if c.category != "correct" and c.count]
    if wrong:
        top = max(wrong, key=lambda c: c.count)
        out.append(
            f"The most common failure on eval {evaluation.eval_id} is “{top.category}”: "
            f"{top.count} of {evaluation.n_samples} problems ({pct(top.share)})."
        )
    return out
