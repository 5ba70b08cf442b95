"""A comparison report over several runs: load each run, build the context, write the files.

Every figure is read from each run's one analysis (analysis.compare_runs.RunData over
analysis.run.RunAnalysis); a figure a run lacks is "not measured", never a blank or a guess.
Tables are handed to the templates pre-formatted (compare_tables.py), judgements come from
compare_findings.py, and the raw per-run data rides along for a user's own template.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsmreport import __version__
from gsmreport.analysis.compare_runs import RunData, load_run
from gsmreport.analysis.smoothing import SMOOTHING_METHOD
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL, finite_series
from gsmreport.core.fmt import num, pct
from gsmreport.core.fsutil import atomic_write_bytes
from gsmreport.core.runs import RunStore
from gsmreport.report.charts import Chart
from gsmreport.report.compare_charts import Bar, LossCurve, comparison_charts
from gsmreport.report.compare_findings import (
    choose_baseline,
    findings,
    paired_tests,
    side_by_side,
)
from gsmreport.report.compare_setup import eval_loss_chart, setup_context
from gsmreport.report.compare_tables import config_table, results_table
from gsmreport.report.compare_task import results_rows, task_context
from gsmreport.report.eval_notes import contamination_text, resolvable_text
from gsmreport.report.render import generated_at, write_documents

# --- charts and context ---------------------------------------------------------------------


def _loss_curves(runs: Sequence[RunData]) -> tuple[list[LossCurve], str]:
    """Finite training losses per run, against the epoch when every run logged one (runs with
    different batch sizes line up by epoch, not by step), else against the optimizer step."""
    frames = [finite_series(r.frame, "train", "loss", "epoch") for r in runs]
    by_epoch = all(f.height and f.get_column("epoch").null_count() == 0 for f in frames if f.height)
    by_epoch = by_epoch and any(f.height for f in frames)
    column = "epoch" if by_epoch else "step"
    curves = [
        LossCurve(r.id, [float(x) for x in f.get_column(column)], f.get_column("value").to_list())
        for r, f in zip(runs, frames, strict=True)
        if f.height
    ]
    return curves, "epoch" if by_epoch else "optimizer step"


def build_charts(runs: Sequence[RunData]) -> dict[str, Chart]:
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
    charts = comparison_charts(ids, curves, x_title, final, speed, accuracy)
    if (eval_loss := eval_loss_chart(runs)) is not None:
        charts["eval_loss"] = eval_loss
    return charts


def _cost_note(run: RunData) -> str | None:
    if run.cost_source:
        return f"{run.id}: {run.cost_source}"
    if run.runtime_s is not None and run.record.hardware is None:
        return f"{run.id}: hardware not recorded, so no device-hours or cost"
    return None


def _reach(run: RunData) -> dict[str, str]:
    """What a run's latest evaluation can resolve, and whether its problems were trained on."""
    latest = run.analysis.latest
    if latest is None:
        return {"run_id": run.id, "resolvable": "no evaluation", "contamination": ""}
    n = latest.primary.n if latest.primary else 0
    found = run.analysis.contamination.get(latest.folder)
    return {
        "run_id": run.id,
        "resolvable": resolvable_text(run.analysis.resolvable.get(latest.folder), n),
        "contamination": contamination_text(found) if found else "",
    }


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
        "results_table": results_rows(results_table(runs), runs),
        **task_context(runs),  # kinds, task metrics, whether GSM8K wording applies
        "token_accuracy_label": TOKEN_ACCURACY_LABEL,
        "baseline": base.id,
        "baseline_reason": reason,
        "paired": paired_tests(base, runs),
        "paired_measured": sum(bool(r.outcomes) for r in runs) >= 2,
        "findings": findings(runs),
        "reach": [_reach(r) for r in runs],
        "side_by_side": problems,
        "side_by_side_note": side_note,
        "smoothing": SMOOTHING_METHOD,
        **setup_context(runs),  # run_rows, eval_rows, prompt_texts, problems_note
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
