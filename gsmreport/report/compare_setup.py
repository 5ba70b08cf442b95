"""The comparison report's set-up blocks: one row per run (how it was trained, what it cost,
what it scored), the evaluation set-up (prompt text, problems, seed), and the eval-loss
overlay. Figures come from each run's analysis (analysis/run_setup.py, RunData); a value
the run's records lack reads "not recorded" (a setting) or "not measured" (a result).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gsmreport.analysis.compare_runs import RunData
from gsmreport.analysis.run_setup import EvalSetup, TrainingSetup, eval_setup, training_setup
from gsmreport.analysis.training import finite_series
from gsmreport.core.fmt import duration, pct, usd
from gsmreport.report.charts import Chart, render_chart
from gsmreport.report.compare_charts import _thin, overlay_spec
from gsmreport.report.compare_task import gsm8k_evaluated

NOT_RECORDED = "not recorded"
RUN_COLUMNS = (
    "run",
    "model",
    "method",
    "data variant",
    "optimizer",
    "schedule",
    "warm-up",
    "effective batch",
    "trainable parameters",
    "LoRA targets",
    "steps",
    "runtime",
    "cost",
    "exact match (strict-match, 95 % CI)",
)
EVAL_COLUMNS = ("run", "evaluation", "split", "problems", "seed", "prompt style", "max new tokens")


def _g(value: float | None) -> str:
    return NOT_RECORDED if value is None else f"{value:g}"


def _count(value: float | None) -> str:
    """A parameter count: 1.2B, 19.6M, 3.4K."""
    if value is None:
        return NOT_RECORDED
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:g}"


def _schedule(s: TrainingSetup) -> str:
    if s.scheduler is None and s.learning_rate is None:
        return NOT_RECORDED
    text = f"lr {_g(s.learning_rate)}, {s.scheduler or 'scheduler ' + NOT_RECORDED}"
    return text + (f" to {s.min_lr:g}" if s.min_lr is not None else "")


def _warmup(s: TrainingSetup) -> str:
    if s.warmup_steps:  # HF: warmup_steps wins over warmup_ratio when above 0
        return f"{s.warmup_steps:g} steps"
    if s.warmup_ratio is not None:
        return f"{s.warmup_ratio:g} of steps" if s.warmup_ratio else "none"
    return NOT_RECORDED


def _effective_batch(s: TrainingSetup) -> str:
    effective = s.effective_batch
    if effective is not None:
        devices = f"{s.devices} device{'s' if s.devices != 1 else ''}"
        return f"{effective:g} ({_g(s.batch_size)} × {_g(s.grad_accum)} accum × {devices})"
    if s.batch_size is None:
        return NOT_RECORDED
    accum = NOT_RECORDED if s.grad_accum is None else f"{s.grad_accum:g}"
    return f"{s.batch_size:g} per device, accum {accum}, devices {_g(s.devices)}"


def _trainable(s: TrainingSetup) -> str:
    if s.trainable_params is None:
        return NOT_RECORDED
    if s.total_params:
        share = s.trainable_params / s.total_params
        return f"{_count(s.trainable_params)} of {_count(s.total_params)} ({pct(share, 2)})"
    return _count(s.trainable_params)


def _score(run: RunData) -> str:
    s = run.strict
    if s is None:
        return "not measured"
    return f"{pct(s.em)} ({pct(s.low)} – {pct(s.high)}), n = {s.n}"


def run_row(run: RunData) -> tuple[str, ...]:
    record = run.record
    setup = training_setup(run.analysis)
    common = (record.model or NOT_RECORDED, record.method or NOT_RECORDED)
    data = record.data or NOT_RECORDED
    if setup is None:  # evaluation only: nothing was trained
        trained = ("— (evaluation only)",) * 7
    else:
        lora = "— (full fine-tune)" if record.method == "full" else NOT_RECORDED
        trained = (
            setup.optimizer or NOT_RECORDED,
            _schedule(setup),
            _warmup(setup),
            _effective_batch(setup),
            _trainable(setup),
            ", ".join(setup.lora_targets) if setup.lora_targets else lora,
            str(setup.steps) if setup.steps is not None else "not measured",
        )
    tail = (duration(run.runtime_s), usd(run.cost_usd), _score(run))
    return (run.id, *common, data, *trained, *tail)


@dataclass(frozen=True)
class PromptText:
    text: str
    run_ids: tuple[str, ...]  # the runs whose first problem was asked exactly so


def eval_rows(setups: Sequence[tuple[str, EvalSetup | None]]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for run_id, e in setups:
        if e is None:
            rows.append((run_id, "not measured", *(("—",) * 5)))
            continue
        seed = NOT_RECORDED if e.seed is None else str(e.seed)
        if e.fewshot_seed is not None:
            seed += f" (few-shot examples: {e.fewshot_seed})"
        rows.append(
            (
                run_id,
                e.eval_id,
                e.split or NOT_RECORDED,
                NOT_RECORDED if e.problems is None else str(e.problems),
                seed,
                e.prompt_style or NOT_RECORDED,
                NOT_RECORDED if e.max_new_tokens is None else str(e.max_new_tokens),
            )
        )
    return rows


def prompt_texts(setups: Sequence[tuple[str, EvalSetup | None]]) -> list[PromptText]:
    """Each distinct first-problem prompt once, with the runs that used it."""
    by_text: dict[str, list[str]] = {}
    for run_id, e in setups:
        if e is not None and e.prompt is not None:
            by_text.setdefault(e.prompt, []).append(run_id)
    return [PromptText(text, tuple(ids)) for text, ids in by_text.items()]


def problems_note(setups: Sequence[tuple[str, EvalSetup | None]]) -> str:
    """Whether the runs answered the same problems (by doc id)."""
    sets = [(rid, e.doc_ids) for rid, e in setups if e is not None and e.doc_ids]
    if len(sets) < 2:
        return "Per-problem samples: fewer than two runs recorded them, so nothing to match."
    first = sets[0][1]
    if all(ids == first for _, ids in sets):
        return f"Every run with samples answered the same {len(first)} problems (same doc ids)."
    shared = frozenset.intersection(*(ids for _, ids in sets))
    sizes = ", ".join(f"{rid} {len(ids)}" for rid, ids in sets)
    return f"The runs answered different problems ({sizes}); {len(shared)} are shared by all."


def setup_context(runs: Sequence[RunData]) -> dict[str, Any]:
    """The template keys of the set-up blocks (compare.*.j2)."""
    setups = [(r.id, eval_setup(r.analysis)) for r in runs]
    columns: tuple[str, ...] = RUN_COLUMNS
    rows: list[tuple[str, ...]] = [run_row(r) for r in runs]
    if not gsm8k_evaluated(runs):  # no exact match column where no run has a GSM8K evaluation
        columns, rows = columns[:-1], [row[:-1] for row in rows]
    return {
        "run_columns": columns,
        "run_rows": rows,
        "eval_columns": EVAL_COLUMNS,
        "eval_rows": eval_rows(setups),
        "prompt_texts": prompt_texts(setups),
        "problems_note": problems_note(setups),
    }


def eval_loss_chart(runs: Sequence[RunData]) -> Chart | None:
    """Every run's logged eval loss on one axis (points joined by lines): None when no run
    logged one. Against the optimizer step, as the runs logged it."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        frame = finite_series(run.frame, "eval", "loss")
        if frame.height:
            xs = [float(x) for x in frame.get_column("step")]
            ys = frame.get_column("value").to_list()
            rows += [{"x": x, "loss": y, "run": run.id} for x, y in _thin(xs, ys)]
    spec = overlay_spec(rows, [r.id for r in runs], "optimizer step", "eval loss", points=True)
    if spec is None:
        return None
    title = "Eval loss of each run (as logged)"
    return render_chart("eval_loss", title, spec, "Eval loss per logged evaluation step.")
