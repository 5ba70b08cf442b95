"""The Jinja context of one run's report: plain data, no formatting decisions beyond core/fmt.py.

Templates (ours or a user's) receive the analysis dataclasses as they are, so a custom
template can print any figure at any precision; a missing section is None, rendered as
"not measured" rather than left out silently. Every figure comes from the run's one
analysis (analysis.run.RunAnalysis); nothing here computes one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gsmreport.analysis.breakdown import INSTRUCTION_KEYWORDS, TOPIC_KEYWORDS
from gsmreport.analysis.cost import Cost
from gsmreport.analysis.eval_sections import outlier_sections
from gsmreport.analysis.run import RunAnalysis
from gsmreport.analysis.task_metrics import BEST_RULE
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL
from gsmreport.analysis.trends import NOISE_METHOD
from gsmreport.core.fmt import sig, usd
from gsmreport.core.redact import REDACTED, is_secret_key
from gsmreport.core.runs import now_iso
from gsmreport.report.charts import CHART_ORDER, Chart
from gsmreport.report.eval_notes import contamination_text, resolvable_text
from gsmreport.report.findings import cost_findings, eval_findings, training_findings
from gsmreport.report.sections import key_settings


def hyperparameters(config: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flattened `section.key` → printable value, secrets redacted."""
    rows: list[tuple[str, str]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not is_secret_key(str(key)):
            rows += hyperparameters(value, prefix=f"{name}.")
        elif is_secret_key(str(key)) and value not in (None, ""):
            rows.append((name, REDACTED))
        elif isinstance(value, list | tuple):
            rows.append((name, ", ".join(str(v) for v in value) or "[]"))
        else:
            rows.append((name, "—" if value is None else str(value)))
    return rows


def _relevant_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """Drop the LoRA section of a full fine-tune: listing unused defaults would mislead."""
    if config.get("method") == "full":
        return {k: v for k, v in config.items() if k != "lora"}
    return config


def overview(analysis: RunAnalysis) -> dict[str, Any]:
    """The overview table: identity from run.yaml, runtime and cost from the analysis."""
    record, cost, runtime = analysis.record, analysis.cost, analysis.runtime
    hardware = record.hardware
    # `cost_usd` / `cost_source` are read by the model card template as well.
    cost_source = None
    if cost is not None and cost.usd is not None:
        cost_source = (
            f"{cost.device_hours:.4f} device-hours × {usd(cost.price_per_device_hour)}"
            f"/device-hour; {cost.source}"
        )
        if cost.estimate:  # a list price, dated, not this run's bill (analysis.cost)
            cost_source = f"estimate at the default table's price of {cost.as_of}: {cost_source}"
            if analysis.run_date is not None:
                cost_source += f"; the run is from {analysis.run_date.date}"
    return {
        "model": record.model,
        "data": record.data,
        "method": record.method,
        "seed": record.seed,
        "kind": record.kind,
        "status": analysis.health.status_label(record.status),  # e.g. an eval-only launch
        "hardware": f"{hardware.count} × {hardware.device_name} ({hardware.device})"
        if hardware
        else None,
        "runtime_s": runtime.seconds if runtime else None,
        "runtime_source": runtime.source if runtime else None,
        "cost": cost,
        "device_hours": None if cost is None else cost.device_hours,
        "cost_usd": None if cost is None else cost.usd,
        "cost_source": cost_source,
        "cost_per_point": list(analysis.point_costs),
        "cost_per_point_missing": _why_no_point_cost(analysis, cost),
        "run_date": analysis.run_date,  # beside an estimated cost (analysis.dates)
    }


def _why_no_point_cost(analysis: RunAnalysis, cost: Cost | None) -> str | None:
    """Why the overview states no cost per accuracy point (None: it states one), in the
    words both the Markdown and the HTML report print."""
    if analysis.point_costs:
        return None
    if cost is not None and cost.usd == 0:
        return "not stated (the run cost $0, so every point would cost $0)"
    if not analysis.evaluations:
        return "not measured (no GSM8K evaluation: cost per point is stated for exact match only)"
    if cost is None:
        return "not measured (no cost: the runtime or the price per device-hour is not known)"
    return "not measured (needs both a cost and an exact match)"


def _charts(charts: Mapping[str, Chart]) -> dict[str, dict[str, Any]]:
    """Per chart: files, inline SVG, caption, and its figure number (CHART_ORDER, skipping
    absent charts) so that each section can cite the figure it rests on."""
    order = [n for n in CHART_ORDER if n in charts] + [n for n in charts if n not in CHART_ORDER]
    return {
        name: {
            "number": number,
            "title": charts[name].title,
            "caption": charts[name].caption,
            "png": f"charts/{name}.png",
            "svg_file": f"charts/{name}.svg",
            "svg": charts[name].svg,
        }
        for number, name in enumerate(order, start=1)
    }


def _eval_notes(analysis: RunAnalysis) -> dict[str, dict[str, Any]]:
    """Per evaluation folder: the resolvable-difference and contamination sentences, and the
    overlapping problems to quote."""
    out: dict[str, dict[str, Any]] = {}
    for section in analysis.evaluations:
        found = analysis.contamination.get(section.folder)
        out[section.folder] = {
            "resolvable": resolvable_text(
                analysis.resolvable.get(section.folder), section.primary.n if section.primary else 0
            ),
            "contamination": contamination_text(found) if found else "",
            "overlaps": list(found.examples) if found else [],
        }
    return out


def build_context(analysis: RunAnalysis, charts: Mapping[str, Chart]) -> dict[str, Any]:
    """Everything report.md.j2 / report.html.j2 read, from the run's one analysis; `evals`
    are EvalSummary objects (as the model card expects), `eval_sections` the same evaluations
    with their breakdowns."""
    record, frame, training, curve = (
        analysis.record,
        analysis.frame,
        analysis.training,
        analysis.curve,
    )
    evals = analysis.evaluations
    settings = hyperparameters(_relevant_config(record.config))
    info = overview(analysis)
    findings = training_findings(training, curve, analysis.health) if training else []
    for section in evals:
        findings += eval_findings(section)
    findings += cost_findings(
        info["cost"], info["cost_per_point"], analysis.run_date, bool(analysis.evaluations)
    )
    used = outlier_sections(evals)
    return {
        "run": record,
        "generated_at": now_iso(),
        "overview": info,
        "key_settings": key_settings(settings),
        "hyperparameters": settings,
        "n_metric_rows": frame.height,
        "sources": sorted(set(frame.get_column("source").to_list())),
        "training": training,
        "curve": curve,
        "health": analysis.health,  # checks before any narrative (analysis/health.py)
        "throughput": analysis.throughput,
        "system": analysis.system,  # GPU memory and utilisation, where the log has them
        "token_accuracy_label": TOKEN_ACCURACY_LABEL,
        "evals": [section.summary for section in evals],
        "eval_sections": list(evals),
        "eval_notes": _eval_notes(analysis),
        "latest_eval": analysis.latest.summary.eval_id if analysis.latest else None,
        # What kind of run this is, its own task metrics and every logged series.
        "run_kind": analysis.run_kind,
        "task_metrics": list(analysis.task_metrics),
        "best_rule": BEST_RULE,
        "series": list(analysis.series),
        "outlier_sections": used,
        # Evaluations with losses left out because a validation-split one exists.
        "outlier_skipped": [s.summary.eval_id for s in evals if s.n_losses and s not in used],
        "charts": _charts(charts),
        "findings": findings,
        # Import warnings, then every evaluation's own (lines skipped in its samples.jsonl):
        # nothing the analysis left out goes unsaid.
        "warnings": [*record.warnings, *(w for s in evals for w in s.warnings)],
        "noise_method": NOISE_METHOD,
        "topic_keywords": "\n".join(f"{k}: {v}" for k, v in TOPIC_KEYWORDS.items()),
        "instruction_keywords": "\n".join(f"{k}: {v}" for k, v in INSTRUCTION_KEYWORDS.items()),
        # Formatting helpers beyond core/fmt.py's filters, shared with the findings' wording.
        "sig": sig,
        "usd": usd,
    }
