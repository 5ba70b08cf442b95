"""The Jinja context of one run's report: plain data, no formatting decisions beyond fmt.py.

Templates (ours or a user's) receive the analysis dataclasses as they are, so a custom
template can print any figure at any precision; a missing section is None, rendered as
"not measured" rather than left out silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import polars as pl

from gsmreport.analysis.evaluation import EvalSummary
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL, TrainingSummary
from gsmreport.report.charts import Chart
from gsmreport.report.findings import eval_findings, training_findings
from gsmreport.runs import RunRecord, now_iso

REDACTED = "•••• (redacted)"
# Whole words only: `hf_token` and `api_key` are secrets, `max_new_tokens` is not; and a
# word followed by `id`/`ids`/`type`/`length` names a setting about secrets or tokens
# (`pad_token_id`, `key_type`), not one.
_SECRET_WORD = re.compile(
    r"(?:^|[_.\-])(token|key|apikey|secret|password|passwd|credentials?)"
    r"(?:$|[_.\-](?!(?:ids?|type|length|len)(?:$|[_.\-])))"
)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_WORD.search(key.lower()))


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


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def overview(record: RunRecord, training: TrainingSummary | None) -> dict[str, Any]:
    extra = record.model_extra or {}
    runtime = record.runtime_s
    if runtime is None and training and training.throughput.runtime_s:
        runtime = training.throughput.runtime_s.value
    hardware = record.hardware
    count = hardware.count if hardware else 1
    device_hours = _float(extra.get("device_hours"))
    if device_hours is None and runtime is not None:
        device_hours = runtime * count / 3600
    cost = _float(extra.get("cost_usd"))
    cost_source = "run.yaml cost_usd" if cost is not None else None
    if cost is None and device_hours is not None and record.price_per_device_hour is not None:
        cost = device_hours * record.price_per_device_hour
        cost_source = (
            f"{device_hours:.4f} device-hours × ${record.price_per_device_hour:g}/device-hour "
            f"({record.price_source or 'price from run.yaml'})"
        )
    return {
        "model": record.model,
        "data": record.data,
        "method": record.method,
        "seed": record.seed,
        "kind": record.kind,
        "status": record.status,
        "hardware": f"{hardware.count} × {hardware.device_name} ({hardware.device})"
        if hardware
        else None,
        "runtime_s": runtime,
        "device_hours": device_hours,
        "cost_usd": cost,
        "cost_source": cost_source,
    }


def build_context(
    record: RunRecord,
    frame: pl.DataFrame,
    training: TrainingSummary | None,
    evals: list[EvalSummary],
    charts: Mapping[str, Chart],
    *,
    warnings: tuple[str, ...] = (),
) -> dict[str, Any]:
    findings = training_findings(training) if training else []
    for evaluation in evals:
        findings += eval_findings(evaluation)
    return {
        "run": record,
        "generated_at": now_iso(),
        "overview": overview(record, training),
        "hyperparameters": hyperparameters(_relevant_config(record.config)),
        "n_metric_rows": frame.height,
        "sources": sorted(set(frame.get_column("source").to_list())),
        "training": training,
        "token_accuracy_label": TOKEN_ACCURACY_LABEL,
        "evals": evals,
        "charts": {
            name: {
                "title": chart.title,
                "png": f"charts/{name}.png",
                "svg_file": f"charts/{name}.svg",
                "svg": chart.svg,
            }
            for name, chart in charts.items()
        },
        "findings": findings,
        "warnings": list(warnings),
    }
