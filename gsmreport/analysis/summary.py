"""A run's headline row: what `gsmreport runs`, the TUI's runs table and the CI gates show.

It is a view of the run's one analysis (analysis.run.RunAnalysis.headline), never computed on
its own, so the table, the report and the gates cannot disagree. Cached beside the run by
summary_cache, so listing a thousand runs does not analyse a thousand runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RunRecord

if TYPE_CHECKING:
    import polars as pl

    from gsmreport.ingest.schema import SeriesLayout


@dataclass(frozen=True)
class RunSummary:
    id: str
    kind: str
    status: str
    model: str | None
    method: str | None
    data: str | None
    created_at: str
    final_loss: float | None = None
    loss_drop_pct: float | None = None
    token_acc_final: float | None = None
    em: float | None = None
    em_low: float | None = None
    em_high: float | None = None
    n_eval: int | None = None
    em_correct: int | None = None
    em_filter: str | None = None  # the filter `em` is scored with (strict-match when scored)
    latest_eval: str | None = None  # eval id of the evaluation the em figures come from
    runtime_s: float | None = None
    device_hours: float | None = None
    cost_usd: float | None = None
    run_kind: str | None = None  # detected kind (analysis.run_kind): sft, dpo, grpo, …
    # the latest evaluation's other two scores (em is its strict-match), for gates and tables
    em_flexible: float | None = None
    em_numeric: float | None = None
    started_at: str | None = None  # when training (or the evaluation) began; None: not recorded
    steps: int | None = None  # the last training step logged (RunAnalysis.steps)
    source: str | None = None  # what an imported run was read from (trainer_state, wandb, …)


def summarize(
    run_dir: Path,
    record: RunRecord,
    frame: pl.DataFrame | None = None,
    layout: SeriesLayout | None = None,
) -> RunSummary:
    """The headline of the run's analysis; reads, never writes. `frame`: the run's metric
    rows when the caller holds them (the importer), else read from metrics.parquet; `layout`:
    which series each of its rows belongs to, when the caller knows (series_stats)."""
    from gsmreport.analysis.run import analyse_run  # run.py imports RunSummary from here

    return analyse_run(run_dir, record, frame=frame, layout=layout).headline()


def summarize_safe(
    run_dir: Path,
    record: RunRecord,
    frame: pl.DataFrame | None = None,
    layout: SeriesLayout | None = None,
) -> RunSummary:
    """`summarize`, or the run.yaml fields alone when a results file is malformed.

    One broken evaluation file must not hide a run from the list.
    """
    try:
        return summarize(run_dir, record, frame, layout)
    except (GsmReportError, KeyError, TypeError, ValueError, OSError):
        return RunSummary(
            id=record.id,
            kind=record.kind,
            status=record.status,
            model=record.model,
            method=record.method,
            data=record.data,
            created_at=record.created_at,
        )
