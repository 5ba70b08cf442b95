"""Every logged series in one table, and the run's own task metrics with first/best/final.

`all_series` (analysis.series_stats): one row per (split, metric) of the metrics table
(system metrics included), with count, non-finite count and first/min/max/final over the
finite values, so no logged metric is unreachable from the report.

`task_metrics`: what the run itself measured about its task: every eval/test series except
the trainer's bookkeeping (runtime, throughput, token counts), the eval loss and the token
accuracy (each has its own section of the report), plus the train-split series that are
task signals (DPO's reward accuracies and margins, GRPO's rewards, a reward model's
accuracy). "Best" follows
the metric's direction (BEST_RULE); a metric with no better direction (KL, logps, reward
std) gets no best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gsmreport.analysis.series_stats import Point, SeriesStats

TOKEN_ACCURACY = "mean_token_accuracy"

Direction = Literal["higher", "lower"]

BEST_RULE = (
    "best = the maximum for accuracy, F1, precision, recall, BLEU/ROUGE, exact match, rewards "
    "and margins; the minimum for loss, WER, CER and perplexity; the earliest step on a tie; "
    "other metrics (KL, log-probabilities, reward spread, a reward model's mean/min/max "
    "score, lengths) have no best"
)
_HIGHER = re.compile(
    r"(^|/|_)(accuracy|accuracies|acc|f1|precision|recall|bleu|sacrebleu|rouge\w*|"
    r"exact_match|em|matthews_correlation|auc|reward|rewards/chosen|margin|margins|"
    r"mean_reward|rlhf_reward|scores)$"
)
_LOWER = re.compile(r"(^|/|_)(loss|wer|cer|ter|perplexity|ppl)$")
# A reward model's score statistics (TRL's RewardTrainer): a scale, not a quality.
_NO_DIRECTION = frozenset({"mean_reward", "min_reward", "max_reward"})
# Per-function GRPO rewards: `rewards/<function>/mean` (its `/std` is spread, not quality).
_REWARD_MEAN = re.compile(r"^rewards/.+/mean$")
# The trainer's bookkeeping, logged beside every evaluation: how fast, how much, not how well.
_BOOKKEEPING = frozenset(
    {"runtime_s", "samples_per_second", "steps_per_second", "num_tokens", "total_flos", "epoch"}
    | {"model_preparation_time"}
    # TRL's prediction entropy: how spread the model's next-token distribution is, not how
    # well it does the task.
    | {"entropy"}
)
# Train-split series that measure the task rather than the optimisation.
_TRAIN_TASK = re.compile(
    r"^(rewards/(chosen|rejected|margins|accuracies)|rewards/.+/(mean|std)|reward|reward_std|"
    r"kl|accuracy|margin|mean_reward|wer|cer|objective/\w+)$"
)


@dataclass(frozen=True)
class TaskMetric:
    split: str
    metric: str
    direction: Direction | None  # which way is better; None: neither (no best)
    count: int
    first: Point
    best: Point | None
    final: Point


def direction(metric: str) -> Direction | None:
    if metric in _NO_DIRECTION:
        return None
    if _REWARD_MEAN.match(metric) or _HIGHER.search(metric):
        return "higher"
    return "lower" if _LOWER.search(metric) else None


def is_task_metric(split: str, metric: str) -> bool:
    if metric == TOKEN_ACCURACY:  # teacher-forced, not task accuracy: its own section
        return False
    if split in ("eval", "test"):
        return metric not in _BOOKKEEPING and not (split == "eval" and metric == "loss")
    return split == "train" and bool(_TRAIN_TASK.match(metric))


def task_metrics(series: tuple[SeriesStats, ...]) -> tuple[TaskMetric, ...]:
    """The task metrics among `series` (module docstring), with best by BEST_RULE."""
    out: list[TaskMetric] = []
    for s in series:
        if not is_task_metric(s.split, s.metric) or s.first is None or s.final is None:
            continue
        way = direction(s.metric)
        best = s.max if way == "higher" else s.min if way == "lower" else None
        out.append(TaskMetric(s.split, s.metric, way, s.count, s.first, best, s.final))
    return tuple(out)
