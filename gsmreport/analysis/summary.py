"""One row of headline figures per run, for `gsmreport runs` and the TUI's runs table.

Read lazily from what is already on disk (metrics.parquet, the newest evals/*/results.json);
never trains, evaluates or ingests anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gsmreport.analysis.stats import wilson_interval
from gsmreport.errors import GsmReportError
from gsmreport.runs import RunRecord


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


def _train_loss(frame: pl.DataFrame) -> pl.Series:
    return (
        frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
        .sort("step")
        .get_column("value")
    )


def summarize(run_dir: Path, record: RunRecord) -> RunSummary:
    final_loss = drop = tok = None
    parquet = run_dir / "metrics.parquet"
    if parquet.is_file():
        try:
            frame = pl.read_parquet(parquet)
        except (OSError, pl.exceptions.PolarsError):
            frame = None
        if frame is not None and frame.height:
            loss = _train_loss(frame).drop_nans()
            if loss.len():
                first, final_loss = float(loss[0]), float(loss[-1])
                drop = (first - final_loss) / first * 100 if first else None
            acc = (
                frame.filter(
                    (pl.col("split") == "train") & (pl.col("metric") == "mean_token_accuracy")
                )
                .sort("step")
                .get_column("value")
                .drop_nans()
            )
            if acc.len():
                tok = float(acc[-1])
    em = low = high = None
    n_eval = None
    results = latest_eval_results(run_dir)
    counts = results.get("counts") if results else None
    if isinstance(counts, dict) and isinstance(counts.get("strict-match"), dict):
        c = counts["strict-match"]
        k, n = int(c["correct"]), int(c["n"])
        if n:
            em = k / n
            low, high = wilson_interval(k, n)
            n_eval = n
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
