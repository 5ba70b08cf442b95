"""The comparison's view of what each run is and what it measured about its own task.

Each run's kind and task metrics come from its analysis (analysis.run_kind,
analysis.task_metrics); this module only lays them out as rows. Exact-match rows and the
GSM8K wording belong only to a comparison where some run has a GSM8K evaluation: five
sentiment classifiers are not scored on GSM8K, and saying so in every row would mislead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gsmreport.analysis.task_metrics import BEST_RULE, TaskMetric
from gsmreport.core.fmt import NOT_MEASURED, sig
from gsmreport.report.compare_tables import TableRow

if TYPE_CHECKING:
    from gsmreport.analysis.compare_runs import RunData

# Results rows that only a GSM8K evaluation fills (labels of compare_tables.results_table).
_GSM8K_ROWS = ("exact match", "evaluation (latest)", "cost per exact-match point")


def gsm8k_evaluated(runs: Sequence[RunData]) -> bool:
    return any(run.analysis.latest_summary is not None for run in runs)


def results_rows(rows: list[TableRow], runs: Sequence[RunData]) -> list[TableRow]:
    """The results table, without its exact-match rows when no run has a GSM8K evaluation."""
    if gsm8k_evaluated(runs):
        return rows
    return [row for row in rows if not row.label.startswith(_GSM8K_ROWS)]


def _cell(metric: TaskMetric | None) -> str:
    if metric is None:
        return NOT_MEASURED
    text = f"{sig(metric.final.value, 4)} (step {metric.final.step})"
    if metric.best is not None and metric.best != metric.final:
        text += f"; best {sig(metric.best.value, 4)} (step {metric.best.step})"
    return text


def task_table(runs: Sequence[RunData]) -> list[TableRow]:
    """One row per (split, metric) any run logged as a task metric: final, and best when
    it differs; rows in the order the runs first list them."""
    by_run = [{(m.split, m.metric): m for m in run.analysis.task_metrics} for run in runs]
    keys: list[tuple[str, str]] = []
    for metrics in by_run:
        keys += [key for key in metrics if key not in keys]
    return [
        TableRow(
            f"{split} {metric}", tuple(_cell(metrics.get((split, metric))) for metrics in by_run)
        )
        for split, metric in keys
    ]


def task_context(runs: Sequence[RunData]) -> dict[str, Any]:
    """The comparison template's `run_kinds`, `task_table`, `best_rule`, `gsm8k_evaluated`."""
    return {
        "run_kinds": [(run.id, run.analysis.run_kind) for run in runs],
        "task_table": task_table(runs),
        "best_rule": BEST_RULE,
        "gsm8k_evaluated": gsm8k_evaluated(runs),
    }
