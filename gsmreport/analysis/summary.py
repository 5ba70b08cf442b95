"""One row of headline figures per run, for `gsmreport runs` and the TUI's runs table.

Read lazily from what is already on disk (metrics.parquet, the newest evals/*/results.json);
never trains, evaluates or ingests anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gsmreport.analysis.evaluation import scores_from_results
from gsmreport.analysis.training import summarize_curve, token_accuracy
from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RunRecord


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
    cost_usd: float | None = None


def latest_eval_results(run_dir: Path) -> dict[str, object] | None:
    """results.json of the most recently written evaluation of this run, if any."""
    evals = run_dir / "evals"
    if not evals.is_dir():
        return None
    files = sorted(evals.glob("*/results.json"), key=lambda p: p.stat().st_mtime)
    for path in reversed(files):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, dict):
            return data
    return None


def summarize(run_dir: Path, record: RunRecord) -> RunSummary:
    final_loss = drop = tok = None
    parquet = run_dir / "metrics.parquet"
    frame = None
    if parquet.is_file():
        try:
            frame = pl.read_parquet(parquet)
        except (OSError, pl.exceptions.PolarsError):
            frame = None
    if frame is not None and frame.height:
        # The report's own curve summary, so the table and the report never disagree
        # (both leave NaN and ±inf out of first/final).
        loss = summarize_curve(frame, "train", "loss")
        if loss is not None:
            final_loss, drop = loss.final.value, loss.drop_pct
        acc = token_accuracy(frame, "train")
        if acc is not None:
            tok = acc.final.value
    em = low = high = None
    n_eval = None
    results = latest_eval_results(run_dir) or {}
    strict = [sc for sc in scores_from_results(results) if sc.filter == "strict-match"]
    if strict:
        em, low, high, n_eval = strict[0].em, strict[0].low, strict[0].high, strict[0].n
    cost = record.model_extra.get("cost_usd") if record.model_extra else None
    return _identity(
        record,
        final_loss=final_loss,
        loss_drop_pct=drop,
        token_acc_final=tok,
        em=em,
        em_low=low,
        em_high=high,
        n_eval=n_eval,
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
    )


def summarize_safe(run_dir: Path, record: RunRecord) -> RunSummary:
    """`summarize`, or the run.yaml fields alone when a results file is malformed.

    One broken evaluation file must not hide a run from the list.
    """
    try:
        return summarize(run_dir, record)
    except (GsmReportError, KeyError, TypeError, ValueError):
        return _identity(record)


def _identity(record: RunRecord, **figures: float | int | None) -> RunSummary:
    """The run.yaml part of a summary, plus whichever figures could be computed."""
    return RunSummary(
        id=record.id,
        kind=record.kind,
        status=record.status,
        model=record.model,
        method=record.method,
        data=record.data,
        created_at=record.created_at,
        **figures,  # type: ignore[arg-type]
    )
