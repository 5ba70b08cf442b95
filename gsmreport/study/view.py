"""What `gsmreport study` prints: the plan (`--dry-run`) and the closing comparison table.

Plain text for a terminal. The table's figures come from the same loader the comparison
report uses (analysis.compare_runs.load_run), so the terminal and compare.md agree.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from gsmreport.core.config import DataConfig, EvalConfig, TrainConfig
from gsmreport.core.errors import GsmReportError
from gsmreport.core.fmt import num, pct
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.formats import DEFAULT_HUB
from gsmreport.study.config import PlannedRun, StudyPlan
from gsmreport.study.run import select, todo


def _data(data: DataConfig) -> str:
    where = data.path or f"Hub {data.hub_id or DEFAULT_HUB[data.source] or '?'}"
    subset = f" {data.subset}" if data.source == "gsm8k" else ""
    return f"{data.source}{subset} ({where})"


_WIDTH = 100


def train_settings(cfg: TrainConfig) -> str:
    t = cfg.training
    parts = [f"lr {t.learning_rate:g} {t.lr_scheduler}"]
    if t.lr_scheduler == "cosine_with_min_lr":
        parts[0] += f" (min {t.min_lr:g})"
    if cfg.method != "full":
        lora = cfg.lora
        targets = lora.target_modules
        shown = targets if isinstance(targets, str) else ",".join(targets)
        parts.append(f"r {lora.r} alpha {lora.alpha} dropout {lora.dropout:g} on {shown}")
    parts.append(f"warmup {t.warmup_ratio:g}" if t.warmup_ratio else "no warmup")
    parts.append(f"{t.optimizer}, batch {t.batch_size}×{t.grad_accum}")
    parts.append(f"{t.max_steps} steps" if t.max_steps > 0 else f"{t.epochs:g} epoch(s)")
    parts.append(f"max length {t.max_length}, {t.precision}")
    if t.gradient_checkpointing:
        parts.append("gradient checkpointing")
    if t.early_stopping_patience:
        parts.append(f"early stopping {t.early_stopping_patience}")
    parts.append(f"val {cfg.data.val_fraction:g}")
    if cfg.logging.wandb != "disabled":
        parts.append(f"W&B {cfg.logging.wandb}")
    return ", ".join(parts)


def eval_settings(cfg: EvalConfig) -> str:
    n = f"{cfg.n} problems" if cfg.n else "every problem"
    scale = f", {cfg.num_processes} processes" if cfg.num_processes > 1 else ""
    if cfg.device_map is not None:
        scale += f", device map {cfg.device_map}"
    return (
        f"{n} of {cfg.split} of {_data(cfg.data)}, {cfg.prompt_style}, "
        f"{cfg.max_new_tokens} new tokens max{scale}"
    )


def plan_text(dirs: Dirs, plan: StudyPlan, only: list[str], force: bool) -> str:
    """The `--dry-run` listing: each run, its key settings, its evaluation and what will happen."""
    study = plan.study
    chosen = select(plan, only)
    trained = sum(r.kind == "train" for r in plan.runs)
    lines = [
        *_wrap(f"study {study.name}: {study.description.strip() or '(no description)'}", ""),
        f"  {len(plan.runs)} run(s): {trained} trained, {len(plan.runs) - trained} baseline(s)"
        f"; {len(chosen)} selected",
    ]
    store = RunStore(dirs.runs)
    for run in chosen:
        lines += ["", *_run_lines(run, _state(store, run, force))]
    where = dirs.reports / (
        f"compare-{study.name}/compare.md" if len(plan.runs) > 1 else f"{plan.ids[0]}/report.md"
    )
    lines += ["", f"report: {where}"]
    return "\n".join(lines)


def _state(store: RunStore, run: PlannedRun, force: bool) -> str:
    try:
        what = todo(store, run, force)
    except GsmReportError as exc:
        return f"blocked: {exc}"
    return {
        "run": "will run" + (" (replacing the existing run)" if store.exists(run.run_id) else ""),
        "eval only": "trained already; will evaluate",
        "skip": "completed; will skip",
    }[what]


def _run_lines(run: PlannedRun, state: str) -> list[str]:
    if run.kind == "train":
        assert run.train is not None
        cfg = run.train
        lines = [
            f"{run.run_id}  [{state}]",
            f"  train {cfg.method} {cfg.model} on {_data(cfg.data)}",
            *_wrap(f"  {train_settings(cfg)}", "    "),
        ]
    else:
        assert run.eval is not None
        lines = [f"{run.run_id}  [{state}]", f"  baseline {run.eval.model} (no training)"]
    lines.append(f"  eval: {eval_settings(run.eval)}" if run.eval else "  eval: none (eval loss)")
    return lines


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, width=_WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def results_table(dirs: Dirs, run_ids: Sequence[str]) -> str:
    """One row per run: the headline figures of the comparison report."""
    from gsmreport.analysis.compare_runs import load_run

    store = RunStore(dirs.runs)
    header = ["run", "method", "final train loss", "final eval loss", "EM strict", "95 % CI"]
    rows = [header]
    for run_id in run_ids:
        run = load_run(store, run_id)
        s = run.strict
        rows.append(
            [
                run_id,
                run.record.method or "—",
                num(run.train_loss.final.value) if run.train_loss else "—",
                num(run.eval_loss.final.value) if run.eval_loss else "—",
                f"{pct(s.em)} ({s.correct}/{s.n})" if s else "—",
                f"{pct(s.low)} – {pct(s.high)}" if s else "—",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)
