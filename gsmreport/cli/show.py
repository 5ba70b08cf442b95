"""`gsmreport show RUN`: the run's analysis as a few readable lines, each with its source.

Reads the JSON form of RunAnalysis (analysis/export.py), the same data `--json` prints and
`render` writes as analysis.json, so the text and the JSON cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gsmreport.core.fmt import DASH, duration, num, pct, pct_value, sig, usd


def _point(point: Any) -> str:
    if not isinstance(point, Mapping):
        return DASH
    value = point.get("value")
    shown = num(value, 4, missing=DASH) if isinstance(value, float | int) else str(value)
    return f"{shown} (step {point.get('step')})"


def _curve(name: str, curve: Any) -> list[str]:
    if not isinstance(curve, Mapping):
        return [f"{name}: {DASH}"]
    drop = curve.get("drop_pct")
    return [
        f"{name}: {_point(curve.get('first'))} → {_point(curve.get('final'))}, "
        f"min {_point(curve.get('min'))}, drop "
        f"{pct_value(drop, missing=DASH) if isinstance(drop, float | int) else DASH} "
        f"[{curve.get('split')}/{curve.get('metric')} rows]"
    ]


def _health(health: Mapping[str, Any] | None) -> list[str]:
    """The health checks first: a run that never trained is said so before its figures."""
    if not health:
        return []
    checks = health.get("checks") or []
    if not checks:
        ran = health.get("ran") or []
        return [f"health: all {len(ran)} checks passed" if ran else f"health: {DASH}"]
    lines = [f"health: {len(checks)} check(s) fired"]
    lines += [f"  {c['severity']}: {c['message']}" for c in checks]
    return lines


def _status(data: Mapping[str, Any]) -> str:
    """run.yaml's status, or what the logs show instead (an eval-only launch)."""
    label = (data.get("health") or {}).get("status_label")
    return str(label or data["run"]["status"])


def show_text(data: Mapping[str, Any]) -> str:
    run = data["run"]
    head = data["headline"]
    lines = [
        f"run {run['id']}  ({run['kind']}, {_status(data)})",
        f"model: {run['model'] or DASH}   method: {run['method'] or DASH}   "
        f"data: {run['data'] or DASH}",
        f"metric rows: {data['metric_rows']}",
    ]
    lines += _health(data.get("health"))  # health first: it decides how the rest is read
    kind = data.get("run_kind")
    if kind:
        lines.append(f"kind: {kind['label']} (evidence: {'; '.join(kind['evidence'])})")
    for m in data.get("task_metrics") or []:
        best = (
            f", best {sig(m['best']['value'], 4)} (step {m['best']['step']})" if m["best"] else ""
        )
        lines.append(
            f"task metric {m['split']}/{m['metric']}: {sig(m['first']['value'], 4)} → "
            f"{sig(m['final']['value'], 4)} (step {m['final']['step']}){best}"
        )
    training = data.get("training") or {}
    lines += _curve("train loss", training.get("train_loss"))
    lines += _curve("eval loss", training.get("eval_loss"))
    for acc in training.get("token_accuracy") or []:
        lines.append(
            f"token accuracy ({acc['split']}): {pct(acc['first']['value'], missing=DASH)} → "
            f"{pct(acc['final']['value'], missing=DASH)} (step {acc['final']['step']})"
        )
    runtime = data.get("runtime")
    lines.append(
        f"runtime: {duration(runtime['seconds'], missing=DASH)} ({runtime['source']})"
        if runtime
        else f"runtime: {DASH}"
    )
    cost = data.get("cost")
    if cost:
        lines.append(
            f"device-hours: {num(cost['device_hours'], 4)}  cost: {usd(cost['usd'], missing=DASH)}"
            f"  ({cost['source']})"
        )
    else:
        lines.append(f"device-hours: {DASH}  cost: {DASH} (no runtime or hardware recorded)")
    latest = data.get("latest_evaluation")
    for ev in data.get("evaluations") or []:
        mark = "  ← latest" if ev["eval_id"] == latest else ""
        scores = ", ".join(
            f"{s['filter']} {pct(s['em'])} ({s['correct']}/{s['n']})" for s in ev["scores"]
        )
        lines.append(f"eval {ev['eval_id']}: {scores or DASH} [from {ev['scored_from']}]{mark}")
    if head.get("em") is not None:
        lines.append(
            f"headline exact match: {pct(head['em'])} ({head['em_correct']}/{head['n_eval']}, "
            f"{head['em_filter']}, eval {head['latest_eval']})"
        )
    return "\n".join(lines)
