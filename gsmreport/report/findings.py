"""Rule-based findings: each is written only when its inputs exist, and quotes them.

No finding interprets beyond its numbers (e.g. the train/eval gap is stated, not called
overfitting; overfitting is claimed only when the analysis detected it), because the report's
promise is that every sentence can be checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gsmreport.analysis.cost import Cost
from gsmreport.analysis.training import CurveSummary, TrainingSummary
from gsmreport.core.fmt import duration, num, pct, pct_value, sig, signed, usd

if TYPE_CHECKING:  # only for annotations: sections.py imports this module's helpers
    from gsmreport.analysis.cost import PointCost
    from gsmreport.analysis.dates import RunDate
    from gsmreport.analysis.eval_sections import EvalSection
    from gsmreport.analysis.health import Health
    from gsmreport.analysis.trends import LearningCurve


def _curve(name: str, curve: CurveSummary) -> list[str]:
    out: list[str] = []
    # A "change" between one reading and itself, or between equal readings, is no finding:
    # "fell 0.0 % (step 0 → step 0)" only looks like one.
    if curve.first.step == curve.final.step:
        return [
            f"{name} was read once ({num(curve.final.value)} at step {curve.final.step}): "
            "there is no change to state."
        ]
    if curve.first.value == curve.final.value:
        return [
            f"{name} is the same at its first and last reading ({num(curve.final.value)} at "
            f"steps {curve.first.step} and {curve.final.step}): no change is stated."
        ]
    if curve.drop_pct is not None:
        verb = "fell" if curve.drop_pct >= 0 else "rose"
        out.append(
            f"{name} {verb} {pct_value(abs(curve.drop_pct))} "
            f"({num(curve.first.value)} at step {curve.first.step} → "
            f"{num(curve.final.value)} at step {curve.final.step})."
        )
    # With few points a smoothed curve mostly shows its own lag: analysis.smoothing gives
    # none below its minimum, and then nothing is said about it.
    if curve.ema_first and curve.ema_final and curve.ema_drop_pct is not None:
        out.append(
            f"On the smoothed curve (half-life {num(curve.smooth_half_life or 0, 0)} steps) "
            f"{name.lower()} changed by {signed(-curve.ema_drop_pct)} % "
            f"({num(curve.ema_first.value)} → {num(curve.ema_final.value)} at step "
            f"{curve.ema_final.step})."
        )
    if curve.min.step != curve.final.step and curve.min.value < curve.final.value:
        out.append(
            f"{name} was lowest at step {curve.min.step} ({num(curve.min.value)}), "
            f"{num(curve.final.value - curve.min.value)} below its final value."
        )
    return out


def _trend(curve: LearningCurve, narrative_withheld: bool) -> list[str]:
    trend = curve.trend
    if narrative_withheld:
        return ["No verdict on further training or overfitting: the run failed a health check."]
    if trend is None:
        return []
    figures = (
        f"slope {sig(trend.slope_per_100)} per 100 steps, 95 % CI "
        f"[{sig(trend.low_per_100)}, {sig(trend.high_per_100)}] over the last "
        f"{trend.tail * 100:g} % of the steps (steps {trend.window_start}–{trend.window_end}, "
        f"{trend.n_points} points)"
    )
    if curve.withheld is not None:
        return [
            f"No verdict on further training: {curve.withheld}. Training-loss {figures}, "
            "stated as measured, not as advice."
        ]
    if curve.more_epochs:
        return [f"Still improving: training-loss {figures}; more epochs would likely help."]
    if trend.verdict == "improving":
        return [
            f"Training loss still falling ({figures}), but the eval loss has turned up "
            f"(overfitting, below), so this does not argue for more epochs."
        ]
    if trend.verdict == "worsening":
        return [f"Training loss rising at the end: {figures}."]
    return [f"Plateau or inconclusive: training-loss {figures}; the interval includes zero."]


def _overfit(curve: LearningCurve) -> list[str]:
    o = curve.overfit
    if o is None or o.threshold is None:
        return []
    if o.threshold == 0:  # identical second differences: any rise at all would "count"
        return [
            f"Overfitting not judged: the eval-loss noise estimate is 0 over {o.n_eval_points} "
            "eval points, so no threshold separates a rise from noise."
        ]
    rise = (
        f"eval loss {num(o.min_value)} at its minimum (step {o.min_step}) → "
        f"{num(o.final_value)} at step {o.final_step}, {signed(o.excess, 4)} against a noise "
        f"threshold of {num(o.threshold)} ({o.n_eval_points} eval points)"
    )
    if o.detected:
        return [
            f"Overfitting from step {o.min_step}: {rise}, while the training loss fell "
            f"({sig(o.train_slope_per_100)} per 100 steps over the same span)."
        ]
    if o.eval_rose:
        why = (
            f"its slope over that span was {sig(o.train_slope_per_100)} per 100 steps"
            if o.train_slope_per_100 is not None
            else "too few training-loss points to fit a slope over that span"
        )
        return [
            f"Eval loss rose after step {o.min_step} ({rise}) but the training loss was "
            f"not shown to fall ({why}), so this is not called overfitting."
        ]
    if o.min_step == o.final_step:
        return [
            f"No overfitting detected: the eval loss was lowest at its last reading "
            f"({num(o.final_value)} at step {o.final_step}, {o.n_eval_points} eval points)."
        ]
    return [f"No overfitting detected: {rise}."]


def training_findings(
    summary: TrainingSummary, curve: LearningCurve | None = None, health: Health | None = None
) -> list[str]:
    out: list[str] = []
    withheld = health.narrative_withheld if health is not None else None
    if withheld is not None:  # the health line replaces "loss fell x %" (analysis.health)
        out.append(
            f"Not read as learning: {withheld}. The loss figures are in the tables above, "
            "without a narrative."
        )
    else:
        if summary.train_loss:
            out += _curve("Training loss", summary.train_loss)
        if summary.eval_loss:
            out += _curve("Eval loss", summary.eval_loss)
    if curve is not None:
        out += _trend(curve, withheld is not None)
        out += [] if withheld is not None else _overfit(curve)
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


def eval_findings(section: EvalSection) -> list[str]:
    evaluation = section.summary
    out: list[str] = []
    for score in evaluation.scores:
        out.append(
            f"Exact match ({score.filter}) on eval {evaluation.eval_id}: {pct(score.em)} "
            f"({score.correct}/{score.n}), 95 % Wilson interval {pct(score.low)}–"
            f"{pct(score.high)}, about ±{num((score.high - score.low) * 50, 1)} points "
            f"with {score.n} problem{'s' if score.n != 1 else ''}."
        )
    top = section.top_failure
    if top is not None:
        tied = [f for f in section.failures if f.count == top.count]
        where = f"on eval {evaluation.eval_id}"
        share = f"{top.count} of {section.n_wrong} wrong answers"
        if len(tied) == 1:
            out.append(
                f"The largest failure category {where} is “{top.category}”: {share} "
                f"({pct(top.share)})."
            )
        else:  # naming one of several equal categories "the largest" would be arbitrary
            names = ", ".join(f"“{f.category}”" for f in tied)
            out.append(
                f"No failure category dominates {where}: {len(tied)} categories tie for the "
                f"largest with {share} each ({pct(top.share)}): {names}."
            )
    return out


def cost_findings(
    run: Cost | None,
    per_point: Sequence[PointCost],
    run_date: RunDate | None = None,
    evaluated: bool = True,
) -> list[str]:
    """The cost in words; `evaluated`: the run has a GSM8K evaluation, so a cost per point of
    exact match is a figure it could have."""
    if run is None:
        return []
    hours = (
        f"The run used {num(run.device_hours)} device-hours "
        f"({run.device_count} × {duration(run.runtime_s)})"
    )
    if run.usd is None or run.price_per_device_hour is None:
        return [f"{hours}; {run.source}, so no cost is given."]
    if run.estimate:  # a dated list price, not this run's bill
        when = f"a run from {run_date.date}" if run_date else "a run whose date is not recorded"
        out = [
            f"{hours}; at the default table's list price of {usd(run.price_per_device_hour)}"
            f"/device-hour as of {run.as_of} ({run.source}) that is an estimated "
            f"{usd(run.usd)} for {when}."
        ]
    else:
        out = [
            f"{hours}; at {usd(run.price_per_device_hour)}/device-hour ({run.source}) that is "
            f"{usd(run.usd)}."
        ]
    if run.usd == 0 and evaluated:
        out.append("No cost per point of exact match is stated: at $0 every point costs $0.")
    for p in per_point:
        out.append(
            f"Cost per point of exact match ({p.filter}, eval {p.eval_id}, {pct(p.em)}): "
            f"{usd(p.usd_per_point)}."
        )
    return out
