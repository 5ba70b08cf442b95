"""A comparison report over several runs: load each run, build the context, write the files.

Every figure is read from the run folders (metrics.parquet, run.yaml, the latest evaluation's
samples.jsonl); a figure a run lacks is "not measured", never a blank or a guess. Tables are
handed to the templates pre-formatted (compare_tables.py), judgements come from
compare_findings.py, and the raw per-run data rides along for a user's own template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from gsmreport import __version__
from gsmreport.analysis.compare import correct_by_doc
from gsmreport.analysis.cost import Cost, ThroughputFigures, cost, throughput
from gsmreport.analysis.evaluation import (
    EvalSummary,
    FilterScore,
    load_samples,
    summarize_eval,
)
from gsmreport.analysis.training import (
    EMA_ALPHA,
    TOKEN_ACCURACY_LABEL,
    CurveSummary,
    TokenAccuracy,
    summarize_curve,
    token_accuracy,
)
from gsmreport.core.fsutil import atomic_write_bytes
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.ingest.run import load_metrics
from gsmreport.report.charts import Chart
from gsmreport.report.compare_charts import Bar, LossCurve, comparison_charts
from gsmreport.report.compare_findings import (
    choose_baseline,
    findings,
    paired_tests,
    side_by_side,
)
from gsmreport.report.compare_tables import config_table, results_table
from gsmreport.report.fmt import num, pct
from gsmreport.report.render import generated_at, write_documents


@dataclass(frozen=True)
class Answer:
    """One run's answer to one problem (strict-match scoring)."""

    question: str
    gold: str
    prediction: str | None
    response: str
    correct: bool


@dataclass(frozen=True)
class RunData:
    record: RunRecord
    frame: pl.DataFrame
    train_loss: CurveSummary | None
    eval_loss: CurveSummary | None
    token_accuracy: tuple[TokenAccuracy, ...]
    throughput: ThroughputFigures
    runtime_s: float | None
    cost: Cost | None  # None: no runtime to price
    cost_usd: float | None
    cost_source: str | None
    evaluation: EvalSummary | None  # the latest evaluation of the run
    outcomes: dict[int, bool]  # doc_id → correct (strict-match), from samples.jsonl
    answers: dict[int, Answer]

    @property
    def id(self) -> str:
        return self.record.id

    def score(self, name: str) -> FilterScore | None:
        scores = self.evaluation.scores if self.evaluation else ()
        return next((s for s in scores if s.filter == name), None)

    @property
    def strict(self) -> FilterScore | None:
        return self.score("strict-match")


# --- loading --------------------------------------------------------------------------------


def latest_eval_dir(run_dir: Path) -> Path | None:
    """The most recently written evaluation (results.json or samples.jsonl), ties by name."""
    evals = run_dir / "evals"
    if not evals.is_dir():
        return None
    stamped = []
    for folder in evals.iterdir():
        files = [f for f in (folder / "results.json", folder / "samples.jsonl") if f.is_file()]
        if files:
            stamped.append((max(f.stat().st_mtime for f in files), folder.name, folder))
    return max(stamped)[2] if stamped else None


def _answers(eval_dir: Path) -> tuple[dict[int, bool], dict[int, Answer]]:
    path = eval_dir / "samples.jsonl"
    if not path.is_file():
        return {}, {}
    samples = load_samples(path).filter(pl.col("em:strict-match").is_not_null())
    if samples.height == 0:
        return {}, {}
    outcomes = correct_by_doc(samples, "em:strict-match")
    answers = {
        int(r["doc_id"]): Answer(
            r["question"], r["gold"], r["prediction"], r["response"], outcomes[int(r["doc_id"])]
        )
        for r in samples.iter_rows(named=True)
    }
    return outcomes, answers


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _cost(record: RunRecord, runtime: float | None) -> tuple[Cost | None, float | None, str | None]:
    """A cost written in run.yaml wins; otherwise device-hours × the run's or the table's price.
    Without the hardware the device count is unknown, and so are device-hours and cost."""
    given = _float((record.model_extra or {}).get("cost_usd"))
    if given is not None:
        return None, given, "cost_usd in run.yaml"
    if runtime is None or runtime < 0 or record.hardware is None:
        return None, None, None
    hw = record.hardware
    priced = cost(
        runtime, hw.count, record.price_per_device_hour, record.price_source, hw.device_name
    )
    return priced, priced.usd, priced.sentence


def load_run(store: RunStore, run_id: str) -> RunData:
    record = store.read(run_id)
    run_dir = store.path(run_id)
    frame = load_metrics(run_dir, run_id)
    figures = throughput(frame)
    runtime = record.runtime_s
    if runtime is None and figures.runtime_s is not None:
        runtime = figures.runtime_s.value
    priced, usd, source = _cost(record, runtime)
    eval_dir = latest_eval_dir(run_dir)
    outcomes, answers = _answers(eval_dir) if eval_dir else ({}, {})
    accuracies = (token_accuracy(frame, "train"), token_accuracy(frame, "eval"))
    return RunData(
        record=record,
        frame=frame,
        train_loss=summarize_curve(frame, "train", "loss"),
        eval_loss=summarize_curve(frame, "eval", "loss"),
        token_accuracy=tuple(a for a in accuracies if a),
        throughput=figures,
        runtime_s=runtime,
        cost=priced,
        cost_usd=usd,
        cost_source=source,
        evaluation=summarize_eval(eval_dir) if eval_dir else None,
        outcomes=outcomes,
        answers=answers,
    )


# --- charts and context ---------------------------------------------------------------------


def _loss_curves(runs: Sequence[RunData]) -> tuple[list[LossCurve], str]:
    """Finite training losses per run, against the epoch when every run logged one (runs with
    different batch sizes line up by epoch, not by step), else against the optimizer step."""
    frames = [
        r.frame.filter(
            (pl.col("split") == "train")
            & (pl.col("metric") == "loss")
            & pl.col("value").is_finite()
        ).sort("step")
        for r in runs
    ]
    by_epoch = all(f.height and f.get_column("epoch").null_count() == 0 for f in frames if f.height)
    by_epoch = by_epoch and any(f.height for f in frames)
    column = "epoch" if by_epoch else "step"
    curves = [
        LossCurve(r.id, [float(x) for x in f.get_column(column)], f.get_column("value").to_list())
        for r, f in zip(runs, frames, strict=True)
        if f.height
    ]
    return curves, "epoch" if by_epoch else "optimizer step"


def build_charts(runs: Sequence[RunData], alpha: float = EMA_ALPHA) -> dict[str, Chart]:
    curves, x_title = _loss_curves(runs)
    final = [
        Bar(r.id, r.train_loss.final.value, label=num(r.train_loss.final.value))
        for r in runs
        if r.train_loss
    ]
    speed = [
        Bar(r.id, sps.value, label=num(sps.value, 2))
        for r in runs
        if (sps := r.throughput.samples_per_second)
    ]
    accuracy = [
        Bar(r.id, s.em * 100, s.low * 100, s.high * 100, f"{pct(s.em)} (n = {s.n})")
        for r in runs
        if (s := r.strict)
    ]
    ids = [r.id for r in runs]
    return comparison_charts(ids, curves, x_title, alpha, final, speed, accuracy)


def _cost_note(run: RunData) -> str | None:
    if run.cost_source:
        return f"{run.id}: {run.cost_source}"
    if run.runtime_s is not None and run.record.hardware is None:
        return f"{run.id}: hardware not recorded, so no device-hours or cost"
    return None


def build_context(
    runs: Sequence[RunData], charts: Mapping[str, Chart], baseline: str | None = None
) -> dict[str, Any]:
    base, reason = choose_baseline(runs, baseline)
    config_rows, config_keys = config_table(runs)
    problems, side_note = side_by_side(runs)
    return {
        "runs": list(runs),
        "run_ids": [r.id for r in runs],
        "config_table": config_rows,
        "config_keys": config_keys,
        "cost_notes": [note for r in runs if (note := _cost_note(r))],
        "results_table": results_table(runs),
        "token_accuracy_label": TOKEN_ACCURACY_LABEL,
        "baseline": base.id,
        "baseline_reason": reason,
        "paired": paired_tests(base, runs),
        "paired_measured": sum(bool(r.outcomes) for r in runs) >= 2,
        "findings": findings(runs),
        "side_by_side": problems,
        "side_by_side_note": side_note,
        "ema_alpha": EMA_ALPHA,
        "charts": {
            name: {"title": chart.title, "png": f"charts/{name}.png", "svg": chart.svg}
            for name, chart in charts.items()
        },
    }


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparePaths:
    md: Path
    html: Path | None
    pdf: Path | None
    charts: tuple[Path, ...]


def write_comparison(
    store: RunStore,
    run_ids: Sequence[str],
    out_dir: Path,
    *,
    baseline: str | None = None,
    pdf: bool = False,
    html: bool = False,
    templates: Path | None = None,
) -> ComparePaths:
    """compare.md and charts/*.png always; compare.html and compare.pdf on request."""
    runs = [load_run(store, run_id) for run_id in run_ids]
    charts = build_charts(runs)
    context = build_context(runs, charts, baseline)
    context |= {"generated_at": generated_at(), "version": __version__}
    chart_files = []
    for name, chart in charts.items():
        atomic_write_bytes(path := out_dir / "charts" / f"{name}.png", chart.png)
        chart_files.append(path)
    md_path, html_path, pdf_path = write_documents(
        out_dir, "compare", templates, context, html=html, pdf=pdf
    )
    return ComparePaths(md_path, html_path, pdf_path, tuple(chart_files))
