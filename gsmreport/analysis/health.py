"""Did the run train at all, and did it finish? Checked before any story is told about it.

A loss curve always "falls" or "rises" by some per cent; whether that is learning depends on
facts a narrative skips: a gradient norm of exactly 0 at every step means the weights never
moved (the loss only differs because the batches do), identical eval readings mean the model
did not change between them, a single eval at step 0 is an evaluation, not a training run,
and a run stopped at 42 % of its planned steps says nothing about "more epochs". Each check
below cites the logged rows (optimizer steps) that fired it.

Severities, and what the report withholds for each:
- "fail": the run did not train as configured (or cannot be read as training). No learning
  narrative ("loss fell x %") and no verdicts (still improving, overfitting).
- "stopped": ended before its planned steps. Figures and narrative stay, labelled with where
  it stopped; no "more epochs would help" verdict (the plan itself was not finished).
- "warn": stated beside the figures; nothing is withheld.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from gsmreport.analysis.training import series
from gsmreport.core.runs import RunRecord
from gsmreport.ingest.console import ConsoleEnd

# Eval "metrics" that describe the evaluation's speed, not the model: they may vary or not.
_TIMING = ("runtime", "per_second", "preparation_time", "flos")
SPIKE_RATIO = 2.0  # a loss reading this many times the median of the ones before it
SPIKE_WINDOW = 10  # ... of up to this many preceding readings
SPIKE_MIN_BEFORE = 5  # and at least this many: the first steps of a run fall steeply
SPIKE_METHOD = (
    f"a training-loss reading at least {SPIKE_RATIO:g}× the median of the up to "
    f"{SPIKE_WINDOW} finite readings before it (with at least {SPIKE_MIN_BEFORE} before it)"
)
# Schedules whose logged learning rate is expected to move between logging steps.
_CONSTANT_SCHEDULES = ("constant", "constant_with_warmup", "none", "reduce_lr_on_plateau")


@dataclass(frozen=True)
class Check:
    name: str
    severity: str  # "fail" | "stopped" | "warn" (module docstring)
    message: str  # one line, with the figures that fired it
    series: str | None  # "split/metric" it was read from
    steps: tuple[int, ...]  # the logged rows (optimizer steps) that fired it

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.name]

    @property
    def cited(self) -> str:
        """The steps, shortened for a sentence: all of up to six, else the ends and a count."""
        steps = self.steps
        if not steps:
            return "no logged row"
        if len(steps) <= 6:
            return (
                "step " + ", ".join(f"{s:,}" for s in steps)
                if len(steps) == 1
                else ("steps " + ", ".join(f"{s:,}" for s in steps))
            )
        head = ", ".join(f"{s:,}" for s in steps[:3])
        return f"steps {head}, …, {steps[-1]:,} ({len(steps)} rows)"


@dataclass(frozen=True)
class Progress:
    reached: int
    reached_source: str
    planned: int
    planned_source: str
    reason: str | None  # why it stopped, where a log says (e.g. "KeyboardInterrupt")
    reason_source: str | None  # the console log's name, or "run.yaml error"

    @property
    def share(self) -> float:
        return self.reached / self.planned if self.planned else math.nan


@dataclass(frozen=True)
class Health:
    checks: tuple[Check, ...]  # the checks that fired, in CHECK_ORDER
    ran: tuple[str, ...]  # every check that had data to run on
    eval_only: bool
    progress: Progress | None  # steps reached / planned, where both are known

    @property
    def ran_labels(self) -> tuple[str, ...]:
        return tuple(CHECK_LABELS[name] for name in self.ran)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.severity == "fail")

    @property
    def narrative_withheld(self) -> str | None:
        """Why no learning narrative is told, or None when it may be."""
        fails = self.failed
        return "; ".join(c.message for c in fails) if fails else None

    @property
    def verdict_withheld(self) -> str | None:
        """Why no 'still improving / more epochs / overfitting' verdict is given, or None."""
        blocking = [c for c in self.checks if c.severity in ("fail", "stopped")]
        return "; ".join(c.message for c in blocking) if blocking else None

    def status_label(self, status: str) -> str:
        """run.yaml's status, unless the logs show it is something else."""
        if self.eval_only:
            return "eval-only launch (no training step)"
        stopped = next((c for c in self.checks if c.name == "stopped_early"), None)
        if stopped is not None and self.progress is not None and status == "completed":
            return f"stopped at step {self.progress.reached:,} of {self.progress.planned:,}"
        return status


# What each check looks for, in words: the report's table and its "none fired" line.
CHECK_LABELS = {
    "eval_only": "eval-only launch",
    "stopped_early": "stopped before its planned steps",
    "grad_norm_zero": "gradient norm 0 throughout",
    "grad_norm_non_finite": "gradient norm never finite",
    "learning_rate_zero": "learning rate 0 throughout",
    "loss_constant": "training loss constant",
    "eval_constant": "eval loss constant",
    "loss_zero": "loss collapsing to exactly 0",
    "non_finite": "NaN / inf readings",
    "loss_spike": "loss spikes",
    "learning_rate_constant": "learning rate fixed under a schedule",
}

CHECK_ORDER = (
    "eval_only",
    "stopped_early",
    "grad_norm_zero",
    "grad_norm_non_finite",
    "learning_rate_zero",
    "loss_constant",
    "eval_constant",
    "loss_zero",
    "non_finite",
    "loss_spike",
    "learning_rate_constant",
)


def _values(
    frame: pl.DataFrame, split: str, metric: str, *, finite: bool = False
) -> tuple[list[int], list[float]]:
    """(steps, values) of one series by step; `finite`: NaN and ±inf left out."""
    data = series(frame, split, metric)
    if finite:
        data = data.filter(pl.col("value").is_finite())
    return data.get_column("step").to_list(), data.get_column("value").to_list()


def _span(steps: Sequence[int]) -> str:
    return f"step {steps[0]:,}" if steps[0] == steps[-1] else f"steps {steps[0]:,}–{steps[-1]:,}"


def _grad_norm(frame: pl.DataFrame, out: list[Check], ran: list[str]) -> None:
    steps, values = _values(frame, "train", "grad_norm")
    if len(steps) < 2:
        return
    ran += ["grad_norm_zero", "grad_norm_non_finite"]
    fin = [v for v in values if math.isfinite(v)]
    if not fin:
        out.append(
            Check(
                "grad_norm_non_finite",
                "fail",
                f"gradient norm is NaN or infinite at all {len(steps)} logged steps "
                f"({_span(steps)}): no update was usable",
                "train/grad_norm",
                tuple(steps),
            )
        )
    elif len(fin) == len(values) and all(v == 0 for v in fin):
        out.append(
            Check(
                "grad_norm_zero",
                "fail",
                f"gradient norm is exactly 0 at all {len(steps)} logged steps ({_span(steps)}): "
                "the trained weights never changed (frozen, detached or not connected to the "
                "loss), so any change in the loss comes from the batches, not from learning",
                "train/grad_norm",
                tuple(steps),
            )
        )


def _learning_rate(
    frame: pl.DataFrame, schedule: str | None, out: list[Check], ran: list[str]
) -> None:
    steps, values = _values(frame, "train", "learning_rate", finite=True)
    if len(steps) < 2:
        return
    ran.append("learning_rate_zero")
    if all(v == 0 for v in values):
        out.append(
            Check(
                "learning_rate_zero",
                "fail",
                f"learning rate is 0 at all {len(steps)} logged steps ({_span(steps)}): no "
                "update could change the weights",
                "train/learning_rate",
                tuple(steps),
            )
        )
        return
    if schedule is None or schedule.lower() in _CONSTANT_SCHEDULES or len(steps) < 3:
        return
    ran.append("learning_rate_constant")
    if len(set(values)) == 1:
        out.append(
            Check(
                "learning_rate_constant",
                "warn",
                f"learning rate is {values[0]:g} at all {len(steps)} logged steps "
                f"({_span(steps)}) although the configured schedule is {schedule!r}: the "
                "schedule did not run as configured",
                "train/learning_rate",
                tuple(steps),
            )
        )


def _loss(frame: pl.DataFrame, out: list[Check], ran: list[str]) -> None:
    steps, values = _values(frame, "train", "loss", finite=True)
    if len(steps) >= 3:
        ran.append("loss_constant")
        if len(set(values)) == 1:
            out.append(
                Check(
                    "loss_constant",
                    "fail",
                    f"training loss is {values[0]:g} at all {len(steps)} logged steps "
                    f"({_span(steps)}): nothing was learned",
                    "train/loss",
                    tuple(steps),
                )
            )
    if len(steps) >= 2:
        ran.append("loss_zero")
        zero = [s for s, v in zip(steps, values, strict=True) if v == 0]
        if zero and any(v > 0 for v in values):
            out.append(
                Check(
                    "loss_zero",
                    "fail",
                    f"training loss collapses to exactly 0 at {len(zero)} of {len(steps)} "
                    f"logged steps (first at step {zero[0]:,}): a masked-out target, a label "
                    "leak or an overflow, not a model that learned everything",
                    "train/loss",
                    tuple(zero),
                )
            )
    if len(steps) > SPIKE_MIN_BEFORE:
        ran.append("loss_spike")
        # The median of the up to SPIKE_WINDOW readings before each one (at least
        # SPIKE_MIN_BEFORE): a rolling median shifted by one, in one vectorised pass.
        data = pl.DataFrame({"step": steps, "value": values})
        before = pl.col("value").rolling_median(SPIKE_WINDOW, min_samples=SPIKE_MIN_BEFORE)
        spikes = (
            data.with_columns(before=before.shift(1))
            .filter((pl.col("before") > 0) & (pl.col("value") >= SPIKE_RATIO * pl.col("before")))
            .get_column("step")
            .to_list()
        )
        if spikes:
            out.append(
                Check(
                    "loss_spike",
                    "warn",
                    f"{len(spikes)} training-loss spike(s) ({SPIKE_METHOD})",
                    "train/loss",
                    tuple(spikes),
                )
            )


def _stretches(steps: Sequence[int], values: Sequence[float]) -> list[tuple[int, int, int]]:
    """(first step, last step, count) of each run of consecutive non-finite readings."""
    out: list[tuple[int, int, int]] = []
    start = None
    count = 0
    for i, value in enumerate(values):
        if not math.isfinite(value):
            start = steps[i] if start is None else start
            count += 1
        elif start is not None:
            out.append((start, steps[i - 1], count))
            start, count = None, 0
    if start is not None:
        out.append((start, steps[-1], count))
    return out


def _non_finite(frame: pl.DataFrame, out: list[Check], ran: list[str]) -> None:
    for split, metric in (("train", "loss"), ("eval", "loss"), ("train", "grad_norm")):
        steps, values = _values(frame, split, metric)
        if not steps:
            continue
        if "non_finite" not in ran:
            ran.append("non_finite")
        stretches = _stretches(steps, values)
        fin = [v for v in values if math.isfinite(v)]
        if not stretches or not fin:  # all non-finite: grad_norm_non_finite / no curve at all
            continue
        bad = tuple(s for s, v in zip(steps, values, strict=True) if not math.isfinite(v))
        ends_bad = not math.isfinite(values[-1]) and metric == "loss"
        where = "; ".join(
            f"step {a:,}" if a == b else f"steps {a:,}–{b:,} ({n} readings)"
            for a, b, n in stretches[:5]
        )
        more = f" and {len(stretches) - 5} more stretch(es)" if len(stretches) > 5 else ""
        tail = ": the run ended diverged" if ends_bad else ""
        out.append(
            Check(
                "non_finite",
                "fail" if ends_bad else "warn",
                f"{split} {metric.replace('_', ' ')} is NaN or infinite at {len(bad)} of "
                f"{len(values)} logged steps ({where}{more}){tail}",
                f"{split}/{metric}",
                bad,
            )
        )


def _eval_metrics(frame: pl.DataFrame) -> list[str]:
    names = frame.filter(pl.col("split") == "eval").get_column("metric").unique().to_list()
    return sorted(n for n in names if not any(t in n for t in _TIMING))


def _eval_constant(frame: pl.DataFrame, out: list[Check], ran: list[str]) -> None:
    constant: list[str] = []
    steps_seen: list[int] = []
    checked: list[str] = []
    for metric in _eval_metrics(frame):
        steps, values = _values(frame, "eval", metric, finite=True)
        if len(set(steps)) < 2:
            continue
        if "eval_constant" not in ran:
            ran.append("eval_constant")
        checked.append(metric)
        if len(set(values)) == 1:
            constant.append(f"{metric.replace('_', ' ')} {values[0]:.6g}")
            steps_seen = sorted(set(steps_seen) | set(steps))
    # One flat metric beside a moving eval loss (a saturated entropy, a capped score) says
    # nothing about the weights; a flat eval loss, or every eval metric flat, does.
    names = {c.split(" ")[0] for c in constant}
    loss_flat = "loss" in names
    if constant and (loss_flat or ("loss" not in checked and len(names) == len(checked))):
        out.append(
            Check(
                "eval_constant",
                "fail",
                f"eval {', '.join(constant)} identical at all {len(steps_seen)} evaluations "
                f"({', '.join(f'{s:,}' for s in steps_seen[:6])}"
                f"{', …' if len(steps_seen) > 6 else ''}): the model did not change between them",
                "eval/" + ",".join(c.split(" ")[0] for c in constant),
                tuple(steps_seen),
            )
        )


def _eval_only(frame: pl.DataFrame, out: list[Check], ran: list[str]) -> bool:
    trained = frame.filter(
        (pl.col("split") == "train") & pl.col("metric").is_in(["loss", "learning_rate"])
    )
    evals = frame.filter(pl.col("split") == "eval")
    if evals.height == 0:
        return False
    ran.append("eval_only")
    steps = sorted(set(evals.get_column("step").to_list()))
    if trained.height or len(steps) > 1:
        return False
    out.append(
        Check(
            "eval_only",
            "fail",
            f"eval-only launch: one evaluation at step {steps[0]:,} and no training step "
            "logged, so there is no learning to describe",
            "eval/*",
            tuple(steps),
        )
    )
    return True


def _leaf(config: Mapping[str, Any], names: Sequence[str]) -> Any:
    """The first value of any of `names` in a nested config, shallowest first."""
    level: list[Mapping[str, Any]] = [config]
    while level:
        for name in names:
            for mapping in level:
                value = mapping.get(name)
                if value is not None and value != "":
                    return value
        level = [v for m in level for v in m.values() if isinstance(v, Mapping)]
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def progress(
    frame: pl.DataFrame,
    config: Mapping[str, Any],
    console: ConsoleEnd | None,
    error: str | None = None,
) -> Progress | None:
    """Steps reached and planned, each with where it was read; None unless both are known.

    Planned: the trainer's max_steps (trainer_state.json, TrainingArguments, our own
    training.max_steps) when positive, else LLaMA-Factory's total_steps, else the console
    progress bar's total. Reached: the trainer's global_step, else the bar's count, else the
    last logged training step.
    """
    planned = _int(_leaf(config, ("max_steps",)))
    planned_source = "config max_steps"
    if planned is None and (planned := _int(_leaf(config, ("total_steps",)))) is not None:
        planned_source = "config total_steps"
    if planned is None and console is not None and console.total:
        planned, planned_source = console.total, f"progress bar in {console.path.name}"
    if planned is None:
        return None
    reached = _int(_leaf(config, ("global_step",)))
    reached_source = "config global_step"
    if reached is None and console is not None and console.step is not None:
        reached, reached_source = console.step, f"progress bar in {console.path.name}"
    if reached is None:
        steps = frame.filter(pl.col("split") == "train").get_column("step")
        if steps.len() == 0:
            return None
        reached, reached_source = int(steps.max()), "last logged training step"  # type: ignore[arg-type]
    # Why: the console's last exception, else the run state's own error (run.yaml `error`,
    # e.g. "interrupted by signal 15" for a run this tool launched).
    reason, reason_source = (console.exception, console.path.name) if console else (None, None)
    if reason is None and error:
        reason, reason_source = error, "run.yaml error"
    return Progress(reached, reached_source, planned, planned_source, reason, reason_source)


def _stopped(
    frame: pl.DataFrame, status: str, found: Progress | None, out: list[Check], ran: list[str]
) -> None:
    if found is None:
        return
    ran.append("stopped_early")
    # The Trainer's end-of-training summary (train_runtime) shows the loop ended on purpose
    # (early stopping, or HF's own off-by-one estimate of the last step): not a stop. Nor is
    # a completed run whose only "reached" is its last *logged* step: logging every N steps
    # leaves up to N − 1 steps unlogged at the end.
    summary = frame.filter((pl.col("split") == "train") & (pl.col("metric") == "runtime_s"))
    logged_only = found.reached_source == "last logged training step" and status == "completed"
    if found.reached >= found.planned or summary.height or logged_only:
        return
    why = f"why: {found.reason} ({found.reason_source})" if found.reason else "why not recorded"
    sources = (
        f"both from the {found.planned_source}"
        if found.reached_source == found.planned_source
        else f"reached: {found.reached_source}; planned: {found.planned_source}"
    )
    out.append(
        Check(
            "stopped_early",
            "stopped",
            f"stopped at step {found.reached:,} of {found.planned:,} planned "
            f"({found.share * 100:.1f} %, {sources}); {why}",
            None,
            (found.reached,),
        )
    )


def check_health(
    frame: pl.DataFrame, record: RunRecord, console: ConsoleEnd | None = None
) -> Health:
    """Every check of the module docstring over the run's metric rows and config."""
    found: list[Check] = []
    ran: list[str] = []
    eval_only = _eval_only(frame, found, ran)
    prog = progress(frame, record.config, console, record.error)
    if not eval_only:
        _stopped(frame, record.status, prog, found, ran)
    _grad_norm(frame, found, ran)
    schedule = _leaf(record.config, ("lr_scheduler_type", "lr_scheduler", "scheduler"))
    _learning_rate(frame, schedule if isinstance(schedule, str) else None, found, ran)
    _loss(frame, found, ran)
    _eval_constant(frame, found, ran)
    _non_finite(frame, found, ran)
    order = {name: i for i, name in enumerate(CHECK_ORDER)}
    found.sort(key=lambda c: order[c.name])
    ran.sort(key=lambda n: order[n])
    return Health(tuple(found), tuple(dict.fromkeys(ran)), eval_only, prog)
