"""Report sections computed from the run as a whole: key settings, learning curve, cost.

Each builder returns None (or an empty list) when its inputs are missing, so the templates
print "not measured" instead of a sentence the data cannot back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from gsmreport.analysis.cost import Cost, cost, cost_per_point
from gsmreport.analysis.trends import MIN_TREND_POINTS, Overfit, Trend, overfitting, still_improving
from gsmreport.core.runs import RunRecord
from gsmreport.report.eval_sections import EvalSection

TREND_TAIL = 0.2  # DESIGN.md: the slope over the last 20 % of the steps

# (label, leaf names matched anywhere, leaf names matched only inside a LoRA/PEFT section).
# Leaf names because imported configs nest the same setting differently (`training.epochs`,
# W&B's flat `num_train_epochs`, `peft_config.default.r`); `r` or `alpha` alone mean LoRA only
# under a lora/peft key, elsewhere they could be anything.
KEY_SETTINGS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("learning rate", ("learning_rate",), ()),
    ("LR schedule", ("lr_scheduler_type", "lr_scheduler"), ()),
    ("epochs", ("num_train_epochs", "epochs"), ()),
    ("max steps", ("max_steps",), ()),
    ("batch size", ("per_device_train_batch_size", "train_batch_size", "batch_size"), ()),
    ("gradient accumulation", ("gradient_accumulation_steps", "grad_accum"), ()),
    ("max length", ("max_length", "max_seq_length", "max_seq_len", "cutoff_len"), ()),
    ("warm-up", ("warmup_ratio", "warmup_steps"), ()),
    ("weight decay", ("weight_decay",), ()),
    ("optimizer", ("optim", "optimizer"), ()),
    ("precision", ("bf16", "fp16", "precision"), ()),
    ("seed", ("seed",), ()),
    ("LoRA rank", ("lora_r", "lora_rank"), ("r", "rank")),
    ("LoRA alpha", ("lora_alpha",), ("alpha",)),
    ("LoRA dropout", ("lora_dropout",), ("dropout",)),
    ("LoRA target modules", ("lora_target", "lora_target_modules"), ("target_modules",)),
)


@dataclass(frozen=True)
class KeySetting:
    label: str
    key: str  # the full dotted key in the config, so a reader sees which setting it was
    value: str


def key_settings(rows: Sequence[tuple[str, str]]) -> list[KeySetting]:
    """The settings a reader asks for first, in KEY_SETTINGS order, from flattened rows.

    `rows` are already redacted (context.hyperparameters); unset values ("—") are left to
    the full list, since "not set" is not a setting worth a headline.
    """
    out: list[KeySetting] = []
    used: set[str] = set()
    for label, anywhere, in_lora in KEY_SETTINGS:
        for key, value in rows:
            parts = key.lower().split(".")
            leaf, parents = parts[-1], parts[:-1]
            lora = any("lora" in p or "peft" in p for p in parents)
            if key in used or value == "—":
                continue
            if leaf in anywhere or (lora and leaf in in_lora):
                out.append(KeySetting(label, key, value))
                used.add(key)
    return out


@dataclass(frozen=True)
class LearningCurve:
    tail: float
    min_points: int
    trend: Trend | None  # train loss over the last `tail` of the steps
    overfit: Overfit | None

    @property
    def more_epochs(self) -> bool:
        """Only when the slope's whole interval is below zero and the eval loss has not
        turned up: a falling train loss alone would also describe an overfitting run."""
        improving = self.trend is not None and self.trend.verdict == "improving"
        return improving and not (self.overfit is not None and self.overfit.detected)


def learning_curve(frame: pl.DataFrame, tail: float = TREND_TAIL) -> LearningCurve:
    return LearningCurve(
        tail=tail,
        min_points=MIN_TREND_POINTS,
        trend=still_improving(frame, "loss", "train", tail),
        overfit=overfitting(frame),
    )


def run_cost(record: RunRecord, runtime_s: float | None) -> Cost | None:
    """Device-hours and cost of the run; None without a runtime or without the hardware
    (a device count of one would be a guess, and so would every figure after it)."""
    hardware = record.hardware
    if runtime_s is None or hardware is None or not math.isfinite(runtime_s) or runtime_s < 0:
        return None
    try:
        return cost(
            runtime_s,
            hardware.count,
            record.price_per_device_hour,
            record.price_source,
            hardware.device_name,
        )
    except ValueError:  # a negative price or count in a hand-edited run.yaml: no figure at all
        return None


@dataclass(frozen=True)
class PointCost:
    eval_id: str
    filter: str
    em: float
    usd_per_point: float


def per_point_costs(run: Cost | None, evals: Sequence[EvalSection]) -> list[PointCost]:
    """USD per percentage point of exact match, per evaluation (its primary filter)."""
    out: list[PointCost] = []
    for section in evals:
        score = section.primary
        per = cost_per_point(run.usd if run else None, score.em if score else None)
        if score is not None and per is not None:
            out.append(PointCost(section.summary.eval_id, score.filter, score.em, per))
    return out
