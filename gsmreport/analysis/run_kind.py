"""What kind of run this is (SFT, DPO, GRPO, reward model, classifier, seq2seq, …), with evidence.

Logs carry no "trainer type" field, so the kind is read from what each trainer is known to
write, and every verdict names the keys and config fields it rests on:

- metric keys: DPO's `rewards/chosen`, `rewards/margins`, `logps/chosen`; GRPO's `reward`
  with `reward_std`, `completions/mean_length`, `kl`; seq2seq's `wer`/`cer`/`bleu`;
  classification's `accuracy`/`f1` with no token accuracy; SFT's `mean_token_accuracy`;
- config fields only one trainer's arguments have: RewardConfig's
  `center_rewards_coefficient`, GRPOConfig's `num_generations`, Seq2Seq's
  `predict_with_generate: true`, SFTConfig's `dataset_text_field`/`packing`, LLaMA-Factory's
  `stage`, PEFT's `task_type`;
- the model config: `architectures`, the number of labels in `id2label` (one label: a
  reward model's scalar head; more than two: a classifier; two is HF's default for every
  model, so it proves nothing), `is_encoder_decoder`;
- the run itself: gsmreport's own training runs use TRL's SFTTrainer; a run with evaluations
  but no training rows is evaluation-only.

LLaMA-Factory's `stage` names the trainer and decides alone; otherwise the rules are tried
in the order of KINDS and the first that finds evidence wins: DPO also
logs token accuracy and a reward model's base checkpoint may say `*ForMaskedLM`, so the
specific signals are asked before the generic ones. `architectures` is weak evidence on its
own (it is the base checkpoint's, e.g. a classifier trained on a `BloomForCausalLM`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from gsmreport.analysis.series_stats import all_series
from gsmreport.analysis.system import SYSTEM_SPLIT

LABELS: dict[str, str] = {
    "evaluation-only": "evaluation only",
    "dpo": "preference optimisation (DPO)",
    "grpo": "RL with online rewards (GRPO/PPO)",
    "reward-model": "reward model",
    "seq2seq": "sequence-to-sequence (seq2seq/ASR)",
    "sequence-classification": "sequence classification",
    "pretraining": "continued pre-training",
    "sft": "causal-LM SFT",
    "causal-lm": "causal-LM training (SFT or continued pre-training: the logs do not tell)",
    "unknown": "not determined",
}

_DPO_METRICS: tuple[str, ...] = ("rewards/chosen", "rewards/rejected", "rewards/margins")
_DPO_METRICS += ("rewards/accuracies", "logps/chosen", "logps/rejected")
_GRPO_METRICS: tuple[str, ...] = ("reward_std", "completions/mean_length", "completion_length")
_GRPO_METRICS += ("kl", "objective/rlhf_reward", "objective/kl")
_RM_METRICS = ("margin", "mean_reward", "min_reward", "max_reward")
_SEQ2SEQ_METRICS = ("wer", "cer", "bleu", "sacrebleu", "rouge1", "rouge2", "rougeL", "gen_len")
_CLS_METRICS = ("accuracy", "f1", "precision", "recall", "matthews_correlation", "auc")
_TOKEN_ACCURACY = "mean_token_accuracy"
_SFT_CONFIG = ("dataset_text_field", "packing", "completion_only_loss", "assistant_only_loss")
_STAGES = {"sft": "sft", "pt": "pretraining", "rm": "reward-model", "dpo": "dpo"}
_STAGES |= {"kto": "dpo", "orpo": "dpo", "ppo": "grpo"}


@dataclass(frozen=True)
class RunKind:
    kind: str  # a key of LABELS
    label: str
    evidence: tuple[str, ...]  # each: which key or config field, and what it held


def _config_index(config: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """Leaf name → (dotted key, value), the shallowest occurrence winning. Mappings such as
    `id2label` are leaves here too, so they are indexed as they are."""
    index: dict[str, tuple[str, Any]] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [("", config)]
    while stack:
        prefix, section = stack.pop(0)
        for key, value in section.items():
            index.setdefault(str(key), (f"{prefix}{key}", value))
            if isinstance(value, Mapping):
                stack.append((f"{prefix}{key}.", value))
    return index


class _Facts:
    """What the rules look at, gathered once."""

    def __init__(
        self,
        frame: pl.DataFrame,
        config: Mapping[str, Any],
        *,
        run_kind: str,
        n_evaluations: int,
        logged: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        if logged is None:  # the series the run's analysis lists (analysis.series_stats)
            logged = ((s.split, s.metric) for s in all_series(frame))
        self.series = {(s, m) for s, m in logged if s != SYSTEM_SPLIT}
        self.metrics = {m for _, m in self.series}
        self.train_rows = any(s == "train" for s, _ in self.series)
        self.config = _config_index(config)
        self.run_kind = run_kind
        self.n_evaluations = n_evaluations

    def logged(self, names: tuple[str, ...]) -> list[str]:
        """`split/metric` of each logged series whose metric is one of `names`."""
        return sorted(f"{s}/{m}" for s, m in self.series if m in names)

    def field(self, name: str) -> tuple[str, Any] | None:
        return self.config.get(name)

    def has_field(self, name: str) -> str | None:
        found = self.field(name)
        return f"config field {found[0]} present (value {found[1]!r})" if found else None

    def true_field(self, name: str) -> str | None:
        found = self.field(name)
        return f"{found[0]}=true" if found and found[1] is True else None

    def n_labels(self) -> tuple[str, int] | None:
        found = self.field("id2label")
        if found and isinstance(found[1], Mapping) and found[1]:
            return found[0], len(found[1])
        found = self.field("num_labels")
        if found and isinstance(found[1], int) and not isinstance(found[1], bool):
            return found[0], found[1]
        return None

    def architectures(self) -> tuple[str, list[str]] | None:
        found = self.field("architectures")
        if found and isinstance(found[1], list | tuple) and found[1]:
            return found[0], [str(a) for a in found[1]]
        return None

    def architecture_ending(self, suffix: str) -> str | None:
        found = self.architectures()
        if found and any(a.endswith(suffix) for a in found[1]):
            return f"{found[0]}={', '.join(found[1])}"
        return None

    def peft_task(self) -> str | None:
        found = self.field("task_type")
        return str(found[1]).upper() if found and found[1] else None

    def stage(self) -> str | None:
        found = self.field("stage")
        return str(found[1]).lower() if found and isinstance(found[1], str) else None


def _metric_evidence(facts: _Facts, names: tuple[str, ...]) -> list[str]:
    """One line: the metrics found (at most four named) and the splits they were logged in."""
    found = [n for n in names if n in facts.metrics]
    if not found:
        return []
    splits = sorted({s for s, m in facts.series if m in found})
    shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
    return [f"{shown} logged ({', '.join(splits)})"]


def _stage(facts: _Facts, kind: str) -> list[str]:
    stage = facts.stage()
    return [f"LLaMA-Factory stage={stage}"] if stage and _STAGES.get(stage) == kind else []


def _evaluation_only(facts: _Facts) -> list[str]:
    if facts.train_rows:
        return []
    evidence = ["no train rows in the metrics table"]
    if facts.run_kind == "eval":
        evidence.append("run.yaml kind=eval")
    if facts.n_evaluations:
        evidence.append(f"{facts.n_evaluations} evaluation(s) in evals/")
    eval_series = sorted(f"{s}/{m}" for s, m in facts.series)
    if eval_series:
        evidence.append(f"only {', '.join(eval_series[:6])} logged")
    return evidence if len(evidence) > 1 else []


def _dpo(facts: _Facts) -> list[str]:
    return _stage(facts, "dpo") + _metric_evidence(facts, _DPO_METRICS)


def _grpo(facts: _Facts) -> list[str]:
    evidence = _stage(facts, "grpo")
    metrics = _metric_evidence(facts, _GRPO_METRICS)
    if metrics and "reward" in facts.metrics:
        evidence += [f"reward with {metrics[0]}"]
    generations = facts.has_field("num_generations")
    return evidence + ([generations] if generations and evidence else [])


def _labels(facts: _Facts, wanted: str) -> list[str]:
    labels = facts.n_labels()
    if labels is None:
        return []
    key, n = labels
    if (wanted == "one" and n == 1) or (wanted == "many" and n > 2):
        return [f"{key} has {n} label{'s' if n != 1 else ''}"]
    return []


def _reward_model(facts: _Facts) -> list[str]:
    evidence = _stage(facts, "reward-model")
    coefficient = facts.has_field("center_rewards_coefficient")
    evidence += [f"{coefficient} (TRL RewardConfig)"] if coefficient else []
    evidence += _metric_evidence(facts, _RM_METRICS)
    one_label = _labels(facts, "one")
    if evidence or (one_label and facts.architecture_ending("ForSequenceClassification")):
        evidence += one_label
    return evidence


def _seq2seq(facts: _Facts) -> list[str]:
    evidence = _metric_evidence(facts, _SEQ2SEQ_METRICS)
    evidence += [e for e in (facts.true_field("predict_with_generate"),) if e]
    if evidence:
        evidence += [e for e in (facts.architecture_ending("ForConditionalGeneration"),) if e]
        evidence += [e for e in (facts.true_field("is_encoder_decoder"),) if e]
    return evidence


def _sequence_classification(facts: _Facts) -> list[str]:
    evidence: list[str] = []
    if facts.peft_task() == "SEQ_CLS":
        evidence.append("PEFT task_type=SEQ_CLS")
    evidence += [e for e in (facts.architecture_ending("ForSequenceClassification"),) if e]
    evidence += _labels(facts, "many")
    accuracy = facts.logged(_CLS_METRICS)
    if accuracy and _TOKEN_ACCURACY not in facts.metrics:
        evidence.append(f"{', '.join(accuracy)} logged, no token accuracy")
    if evidence:
        evidence += [f"{a} (the base checkpoint's)" for a in (_causal_architecture(facts),) if a]
    return evidence


def _causal_architecture(facts: _Facts) -> str | None:
    return facts.architecture_ending("ForCausalLM")


def _pretraining(facts: _Facts) -> list[str]:
    return _stage(facts, "pretraining")


def _sft(facts: _Facts) -> list[str]:
    evidence = _stage(facts, "sft") + _metric_evidence(facts, (_TOKEN_ACCURACY,))
    evidence += [e for e in (facts.has_field(name) for name in _SFT_CONFIG) if e][:1]
    if facts.run_kind == "train":
        evidence.append("trained by gsmreport (TRL SFTTrainer)")
    return evidence


def _causal_lm(facts: _Facts) -> list[str]:
    if not facts.train_rows:
        return []
    architecture = _causal_architecture(facts)
    evidence = [architecture] if architecture else []
    return [*evidence, "train loss only: no task-specific metric or trainer field"]


KINDS = (
    ("evaluation-only", _evaluation_only),
    ("dpo", _dpo),
    ("grpo", _grpo),
    ("reward-model", _reward_model),
    ("seq2seq", _seq2seq),
    ("sequence-classification", _sequence_classification),
    ("pretraining", _pretraining),
    ("sft", _sft),
    ("causal-lm", _causal_lm),
)


def detect_kind(
    frame: pl.DataFrame,
    config: Mapping[str, Any],
    *,
    run_kind: str = "imported",
    n_evaluations: int = 0,
    logged: Iterable[tuple[str, str]] | None = None,
) -> RunKind:
    """The run's kind by the first rule of KINDS with evidence; `run_kind` is run.yaml's kind
    (train | eval | imported), `n_evaluations` how many evaluations the run folder holds,
    `logged` the table's (split, metric) pairs when the caller has them (RunAnalysis's
    series statistics; else they are computed from `frame`)."""
    facts = _Facts(frame, config, run_kind=run_kind, n_evaluations=n_evaluations, logged=logged)
    # LLaMA-Factory's `stage` names the trainer itself: it outranks what the keys suggest
    # (its reward-model log writes `accuracy`, read as DPO's rewards/accuracies).
    staged = _STAGES.get(facts.stage() or "")
    if staged and not _evaluation_only(facts):
        rule = dict(KINDS)[staged]
        evidence = list(dict.fromkeys([f"LLaMA-Factory stage={facts.stage()}", *rule(facts)]))
        return RunKind(staged, LABELS[staged], tuple(evidence))
    for kind, rule in KINDS:
        evidence = rule(facts)
        if evidence:
            return RunKind(kind, LABELS[kind], tuple(evidence))
    return RunKind("unknown", LABELS["unknown"], ("nothing logged that names a kind",))
