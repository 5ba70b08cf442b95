"""The judging half of a comparison: paired tests against a base run, findings, side by side.

A finding is written only when its inputs exist and quotes them; a difference between two
runs is called significant only on a paired test of the problems both answered (McNemar
exact), never from two separate intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gsmreport.analysis.compare import (
    ALPHA,
    PairedComparison,
    compare_paired,
    format_p,
    loss_vs_accuracy,
)
from gsmreport.analysis.evaluation import RESPONSE_CHARS, FilterScore
from gsmreport.core.errors import UsageError
from gsmreport.core.fmt import num, pct, usd

if TYPE_CHECKING:
    from gsmreport.analysis.compare_runs import Answer, RunData

SIDE_BY_SIDE = 3  # problems shown answered by every run


@dataclass(frozen=True)
class PairedRow:
    run_id: str
    comparison: PairedComparison | None
    note: str | None  # why there is no test, or what was left out of it


@dataclass(frozen=True)
class SideBySide:
    doc_id: int
    question: str
    gold: str
    answers: tuple[tuple[str, Answer], ...]  # (run id, its answer), in run order


def clip(text: str, limit: int = RESPONSE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def choose_baseline(runs: Sequence[RunData], wanted: str | None) -> tuple[RunData, str]:
    """--baseline, else the evaluation-only run of the model every trained run started from,
    else the first run; with the reason, which the report prints."""
    if wanted is not None:
        for run in runs:
            if run.id == wanted:
                return run, "chosen with --baseline"
        raise UsageError(f"--baseline {wanted!r} is not one of the compared runs")
    for run in runs:
        if run.record.kind != "eval" or not run.record.model:
            continue
        trained = [o for o in runs if o.record.kind != "eval"]
        if trained and all(o.record.model == run.record.model for o in trained):
            return run, f"evaluation-only run of {run.record.model}, the others' base model"
    return runs[0], "the first run given; no evaluation-only run of a shared base model"


def _mismatched(a: RunData, b: RunData) -> set[int]:
    """Doc ids both evaluated but with different question texts: not the same problem (two
    evaluations of different data sets or splits), so they must not be paired."""
    return {
        doc
        for doc in set(a.answers) & set(b.answers)
        if a.answers[doc].question
        and b.answers[doc].question
        and a.answers[doc].question != b.answers[doc].question
    }


def paired(base: RunData, run: RunData) -> PairedRow:
    if not base.outcomes or not run.outcomes:
        lacking = " and ".join(r.id for r in (base, run) if not r.outcomes)
        return PairedRow(run.id, None, f"not measured: no per-problem samples for {lacking}")
    bad = _mismatched(base, run)
    a = {d: ok for d, ok in base.outcomes.items() if d not in bad}
    b = {d: ok for d, ok in run.outcomes.items() if d not in bad}
    left_out = (
        f"{len(bad)} doc id(s) left out: the two evaluations hold different questions there"
        if bad
        else None
    )
    if not set(a) & set(b):
        why = f"{base.id} and {run.id} share no evaluated problems, so no paired test"
        return PairedRow(run.id, None, f"{why} ({left_out})" if left_out else why)
    return PairedRow(run.id, compare_paired(a, b, base.id, run.id), left_out)


def paired_tests(base: RunData, runs: Sequence[RunData]) -> list[PairedRow]:
    return [paired(base, run) for run in runs if run is not base]


# --- findings -------------------------------------------------------------------------------


def _loss_and_score(runs: Sequence[RunData]) -> list[tuple[RunData, float, FilterScore]]:
    """(run, final training loss, strict-match score) of the runs that have both."""
    return [
        (r, r.train_loss.final.value, r.strict)
        for r in runs
        if r.train_loss is not None and r.strict is not None
    ]


def _loss_vs_accuracy(runs: Sequence[RunData]) -> str:
    data = [(r.id, loss, score.em) for r, loss, score in _loss_and_score(runs)]
    what = "Final training loss vs exact match (strict-match)"
    if not data:
        return f"{what}: not measured (no run has both a training loss and an exact-match score)."
    return f"{what}: {loss_vs_accuracy(data).sentence}."


def _lowest_loss_not_best(runs: Sequence[RunData]) -> list[str]:
    both = _loss_and_score(runs)
    if len(both) < 2:
        return []
    lowest, low_loss, low_score = min(both, key=lambda x: x[1])
    best, _, best_score = max(both, key=lambda x: x[2].em)
    if best_score.em <= low_score.em:
        return []
    # A "disconnect" on a difference the paired test cannot tell from chance (one problem,
    # p = 1) is no finding: say why it is not made instead.
    test = paired(lowest, best)
    c = test.comparison
    if c is None or c.p_value >= ALPHA:
        why = (
            test.note
            if c is None
            else f"{abs(c.c - c.b)} problem(s) apart on {c.n} shared, McNemar {format_p(c.p_value)}"
        )
        return [
            f"No loss/accuracy disconnect is claimed: the lowest-loss run {lowest.id} and the "
            f"most accurate run {best.id} do not differ significantly ({why})."
        ]
    return [
        f"The lowest final training loss ({lowest.id}, {num(low_loss)}) did not come with the "
        f"highest exact match: {best.id} scored {pct(best_score.em)}, "
        f"{lowest.id} {pct(low_score.em)}."
    ]


def _best_run(runs: Sequence[RunData]) -> list[str]:
    scored = sorted(
        ((r, r.strict) for r in runs if r.strict is not None), key=lambda x: -x[1].em
    )  # stable: among equal scores, the order the runs were given
    if not scored:
        return []
    (best, s), rest = scored[0], scored[1:]
    head = f"{pct(s.em)} ({s.correct} / {s.n}; 95 % Wilson interval {pct(s.low)} – {pct(s.high)})"
    if not rest:
        return [f"Only {best.id} has an exact-match score: {head}."]
    runner, r = rest[0]
    lead = f"Highest exact match (strict-match): {best.id}, {head}"
    if r.em == s.em:
        return [f"{lead}, tied with {runner.id}."]
    test = paired(runner, best)
    over = f"its lead over the runner-up {runner.id} ({pct(r.em)})"
    if test.comparison is None:
        return [f"{lead}; {over} cannot be tested paired ({test.note})."]
    verdict = "is" if test.comparison.p_value < ALPHA else "is not"
    return [f"{lead}; {over} {verdict} significant: {test.comparison.verdict}."]


def _speed(runs: Sequence[RunData], figure: str, unit: str) -> list[str]:
    """Fastest vs slowest on one throughput figure, when at least two runs measured it."""
    measured = [
        (r, point.value)
        for r in runs
        if (point := getattr(r.throughput, figure)) is not None and point.value > 0
    ]
    if len(measured) < 2:
        return []
    top, bottom = max(measured, key=lambda x: x[1]), min(measured, key=lambda x: x[1])
    if top[1] == bottom[1]:
        return []
    sentence = (
        f"Fastest training by {unit}: {top[0].id} at {num(top[1], 2)} {unit}, "
        f"{top[1] / bottom[1]:.1f}× {bottom[0].id} ({num(bottom[1], 2)} {unit})"
    )
    # Speed depends on the devices as much as on the method: say when they differ or are unknown.
    hardware = {r.record.hardware.device_name if r.record.hardware else None for r, _ in measured}
    if None in hardware:
        sentence += "; not all of these runs recorded their hardware"
    elif len(hardware) > 1:
        sentence += "; on different hardware, so this compares setups, not methods"
    return [sentence + "."]


def _costs(runs: Sequence[RunData]) -> list[str]:
    out: list[str] = []
    priced = [(r.id, r.cost_usd) for r in runs if r.cost_usd is not None]
    if len(priced) >= 2:
        low, high = min(priced, key=lambda x: x[1]), max(priced, key=lambda x: x[1])
        if low[1] != high[1]:
            out.append(
                f"Cheapest run: {low[0]} at {usd(low[1])}; most expensive: {high[0]} at "
                f"{usd(high[1])} (costs and their price sources in the configuration notes)."
            )
    per_point = [(r.id, cpp) for r in runs if (cpp := r.usd_per_point) is not None]
    free = [rid for rid, cpp in per_point if cpp == 0]
    if free:  # "$0.00 per point" (a CPU run at 0 USD/hour) would win every time
        out.append(
            f"Cost per exact-match point is not compared for {', '.join(free)}: "
            "a $0 run costs $0 per point."
        )
        per_point = [(rid, cpp) for rid, cpp in per_point if cpp > 0]
    if len(per_point) >= 2:
        best = min(per_point, key=lambda x: x[1])
        out.append(
            f"Lowest cost per exact-match point: {best[0]}, {usd(best[1])} per point "
            f"(of {len(per_point)} runs with both a cost and a non-zero exact match)."
        )
    return out


def _eval_settings(runs: Sequence[RunData]) -> list[str]:
    """Accuracy differences mean little when the evaluations themselves differ: say so."""
    fields = {
        "prompt_style": "prompt style",
        "max_new_tokens": "max new tokens",
        "split": "split",
        "data": "data",
    }
    metas = {r.id: r.evaluation.meta for r in runs if r.evaluation is not None}
    out = []
    for key, label in fields.items():
        values = {rid: meta.get(key) for rid, meta in metas.items()}
        if len({str(v) for v in values.values() if v is not None}) > 1:
            listed = "; ".join(f"{rid}: {v}" for rid, v in values.items())
            out.append(
                f"The evaluations differ in {label} ({listed}): their accuracy differences mix "
                "the model with the evaluation setting."
            )
    return out


def findings(runs: Sequence[RunData]) -> list[str]:
    # Loss against exact match says something only where some run has a GSM8K evaluation.
    evaluated = any(run.analysis.latest_summary is not None for run in runs)
    out = [_loss_vs_accuracy(runs)] if evaluated else []
    out += _lowest_loss_not_best(runs)
    out += _best_run(runs)
    out += _eval_settings(runs)
    out += _speed(runs, "samples_per_second", "samples/s")
    out += _speed(runs, "tokens_per_second", "tokens/s")
    return out + _costs(runs)


# --- side by side ---------------------------------------------------------------------------


def side_by_side(
    runs: Sequence[RunData], limit: int = SIDE_BY_SIDE
) -> tuple[list[SideBySide], str]:
    """Up to `limit` problems every run with samples answered, where some were right and some
    wrong (by doc id, so the pick is reproducible); and a sentence saying what was searched."""
    answered = [r for r in runs if r.answers]
    if len(answered) < 2:
        return [], "not measured (fewer than two runs have per-problem samples)"
    shared = set.intersection(*(set(r.answers) for r in answered))
    first = answered[0]
    for other in answered[1:]:
        shared -= _mismatched(first, other)
    without = [r.id for r in runs if not r.answers]
    scope = f"{len(answered)} runs with per-problem samples" + (
        f" ({', '.join(without)} left out: no samples)" if without else ""
    )
    if not shared:
        return [], f"the {scope} share no evaluated problems"
    split = sorted(d for d in shared if len({r.answers[d].correct for r in answered}) == 2)
    if not split:
        return [], f"the {scope} agree on every one of their {len(shared)} shared problems"
    picked = [
        SideBySide(
            doc_id=doc,
            question=first.answers[doc].question,
            gold=first.answers[doc].gold,
            answers=tuple((r.id, _clipped(r.answers[doc])) for r in answered),
        )
        for doc in split[:limit]
    ]
    note = (
        f"The {scope} disagree on {len(split)} of their {len(shared)} shared problems; "
        f"the first {len(picked)} by doc id are shown (responses clipped to {RESPONSE_CHARS} "
        "characters; scored by strict-match)."
    )
    return picked, note


def _clipped(answer: Answer) -> Answer:
    return replace(answer, response=clip(answer.response))
