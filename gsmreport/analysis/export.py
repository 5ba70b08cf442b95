"""A RunAnalysis as plain JSON: `gsmreport show --json`, `analysis.json` beside each report.

Every figure comes with where it was read from (the metric rows' split/metric and step, the
run.yaml field, the evaluation file), so a CI job can check a number without our code.
Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity": JSON has no
such numbers, and dropping them would hide exactly the rows a reader should see.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

from gsmreport.analysis.task_metrics import BEST_RULE
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL

if TYPE_CHECKING:
    from gsmreport.analysis.eval_sections import EvalSection
    from gsmreport.analysis.run import RunAnalysis

FORMAT = 1  # bump when a key changes meaning


def jsonable(value: Any) -> Any:
    """Dataclasses, tuples and mappings as JSON values; non-finite floats as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _evaluation(section: EvalSection, analysis: RunAnalysis) -> dict[str, Any]:
    summary = section.summary
    return {
        "eval_id": summary.eval_id,
        "scored_from": summary.scored_from,
        "n_samples": summary.n_samples,
        "split": section.split,
        "primary_filter": section.primary.filter if section.primary else None,
        "scores": jsonable(summary.scores),
        "failures": [
            {"category": f.category, "count": f.count, "share_of_wrong": jsonable(f.share)}
            for f in section.failures
        ],
        "accuracy_by_steps": jsonable(section.by_steps),
        "accuracy_by_topic": jsonable(section.by_topic),
        "outliers": jsonable(section.outliers),
        "settings": jsonable(summary.meta),
        "warnings": list(section.warnings),
        "resolvable_difference": analysis.resolvable.get(section.folder),
        "resolvable_rule": "two-sided two-proportion test, alpha 0.05, power 0.8, "
        "against another evaluation of as many problems",
        "contamination": jsonable(analysis.contamination.get(section.folder)),
    }


def _health(analysis: RunAnalysis) -> dict[str, Any]:
    health = analysis.health
    return {
        **jsonable(health),
        "status_label": health.status_label(analysis.record.status),
        "narrative_withheld": health.narrative_withheld,
        "verdict_withheld": health.verdict_withheld,
    }


def analysis_dict(analysis: RunAnalysis) -> dict[str, Any]:
    record = analysis.record
    training = analysis.training
    cost = analysis.cost
    return {
        "format": FORMAT,
        "run": {
            "id": record.id,
            "kind": record.kind,
            "status": record.status,
            "model": record.model,
            "method": record.method,
            "data": record.data,
            "created_at": record.created_at,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "hardware": record.hardware.model_dump() if record.hardware else None,
            "source": record.source.model_dump() if record.source else None,
            "warnings": list(record.warnings),
        },
        "headline": jsonable(analysis.headline()),
        "run_kind": jsonable(analysis.run_kind),
        "task_metrics": jsonable(analysis.task_metrics),
        "task_metrics_best_rule": BEST_RULE,
        "series": jsonable(analysis.series),
        "metric_rows": analysis.frame.height,
        "training": None
        if training is None
        else {
            "train_loss": jsonable(training.train_loss),
            "eval_loss": jsonable(training.eval_loss),
            "gap": jsonable(training.gap),
            "token_accuracy": jsonable(training.token_accuracy),
            "token_accuracy_label": TOKEN_ACCURACY_LABEL,
            "smoothing": training.smoothing,
            "non_finite": training.non_finite,
        },
        "health": _health(analysis),
        "learning_curve": jsonable(analysis.curve),
        "throughput": jsonable(analysis.throughput),
        "system": jsonable(analysis.system),
        "runtime": jsonable(analysis.runtime),
        "cost": None
        if cost is None
        else {
            "device_hours": cost.device_hours,
            "device_count": cost.device_count,
            "runtime_s": cost.runtime_s,
            "price_per_device_hour": cost.price_per_device_hour,
            "usd": cost.usd,
            "price_origin": cost.origin,
            "source": cost.source,
            "estimate": cost.estimate,
            "price_as_of": cost.as_of,
            "run_date": jsonable(analysis.run_date),
        },
        "cost_per_point": jsonable(analysis.point_costs),
        "latest_evaluation": analysis.latest.summary.eval_id if analysis.latest else None,
        "latest_rule": "the evaluation whose results.json or samples.jsonl was written last; "
        "on equal times the greater eval id",
        "evaluations": [_evaluation(s, analysis) for s in analysis.evaluations],
    }
