"""A Hugging Face model card (README.md) for a run: YAML front matter + a Markdown body.

The front matter follows the Hub's model-index spec (huggingface/hub-docs, modelcard.md):
one result per evaluation, task text-generation, the GSM8K exact match of both lm-eval
filters as percentages (0–100, the Open LLM Leaderboard convention). It is written with
yaml.safe_dump, not by a template, so no model name or path can break the YAML.

Only what the run folder supports is claimed: no base_model for a local folder or an
evaluation-only run, openai/gsm8k only when the problems came from the Hub (local files may
be anything in GSM8K format), no model-index at all without an evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from gsmreport.analysis.evaluation import EvalSummary, FilterScore
from gsmreport.core.runs import RunRecord
from gsmreport.gsm8k.answers import LM_EVAL_FILTERS

HUB_DATASET = "openai/gsm8k"
LOCAL_DATASET = "gsm8k-format"  # not a Hub id on purpose: we cannot vouch for local files
# "openai/gsm8k (main)" is what `gsmreport eval` records for Hub data; "gsm8k" is lm-eval's task.
_HUB_DATA = re.compile(r"(?:openai/)?gsm8k(?:\s*\((main|socratic)\))?", re.IGNORECASE)
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?")
_FEW_SHOT = {"zero-shot": 0, "one-shot": 1}
_N_SHOT = re.compile(r"\b(\d+)-shot\b")  # lm-eval imports: "lm-eval 5-shot chat"
_METHODS = {
    "lora": "LoRA adapter (peft)",
    "full": "full fine-tune",
    "none": "none (evaluation only)",
}


def hub_subset(data: object) -> str | None:
    """The GSM8K config ("main", "socratic") when `data` names the Hub data set, else None."""
    match = _HUB_DATA.fullmatch(str(data or "").strip())
    return None if match is None else (match.group(1) or "main").lower()


def hub_model_id(model: str | None) -> str | None:
    """`model` when it reads as a Hub id; None for local folders (absolute or relative)."""
    if not model or model.startswith((".", "~")) or not _HUB_ID.fullmatch(model):
        return None
    return model


def trained(record: RunRecord) -> bool:
    """False for evaluation-only runs, whose model is the subject, not a base."""
    return record.kind != "eval" and record.method != "none"


def base_model(record: RunRecord) -> str | None:
    """The model this run started from, when it is a Hub id and the run trained something."""
    if not trained(record):
        return None
    return hub_model_id(str(record.config.get("model") or record.model or ""))


def library_name(record: RunRecord) -> str | None:
    return {"lora": "peft", "full": "transformers", "none": "transformers"}.get(record.method or "")


def method_label(record: RunRecord) -> str:
    return _METHODS.get(record.method or "", record.method or "not recorded")


# The detected kind (analysis.run_kind) as the Hub's pipeline tag: a classification head,
# reward models included, is text-classification; every causal-LM kind is text-generation.
# A seq2seq run (ASR, translation) and a run of no detected kind get none: no guess.
_PIPELINES = {"sequence-classification": "text-classification"}
_PIPELINES |= {"reward-model": "text-classification"}
_PIPELINES |= dict.fromkeys(
    ("sft", "causal-lm", "pretraining", "dpo", "grpo", "evaluation-only"), "text-generation"
)
# Kinds that are a tag of their own (TRL's cards tag the trainer: sft, dpo, grpo, …).
_KIND_TAGS = {"dpo": "dpo", "grpo": "grpo", "reward-model": "reward-trainer", "sft": "sft"}
_KIND_TAGS |= {"sequence-classification": "text-classification", "seq2seq": "seq2seq"}


def about_gsm8k(record: RunRecord, evals: list[EvalSummary]) -> bool:
    """A GSM8K run: evaluated by gsmreport (GSM8K-format problems) or trained on GSM8K."""
    return bool(evals) or "gsm8k" in str(record.data or "").lower()


def pipeline_tag(kind: str | None) -> str | None:
    """The Hub pipeline of a run of this detected kind; None: not stated (see _PIPELINES)."""
    return _PIPELINES.get(kind or "")


def tags(
    record: RunRecord, evals: list[EvalSummary] | None = None, kind: str | None = None
) -> list[str]:
    out = ["gsmreport"]
    if about_gsm8k(record, evals or []):
        out.append("gsm8k")
    if record.method == "lora":
        out += ["lora", "peft"]
    elif record.method == "full":
        out.append("full-fine-tune")
    if record.kind == "train":  # our own training job is TRL's SFTTrainer
        out += ["trl", "sft"]
    extra = _KIND_TAGS.get(kind or "")
    if extra and extra not in out:
        out.append(extra)
    return out


def dataset_entry(meta: Mapping[str, Any]) -> dict[str, Any]:
    subset = hub_subset(meta.get("data"))
    entry: dict[str, Any]
    if subset is not None:
        entry = {"name": "GSM8K", "type": HUB_DATASET, "config": subset}
    else:
        entry = {"name": "GSM8K-format problems (local files)", "type": LOCAL_DATASET}
    entry["split"] = str(meta.get("split") or "test")
    style = str(meta.get("prompt_style") or "")
    match = _N_SHOT.search(style)
    shots = _FEW_SHOT.get(style, int(match.group(1)) if match else None)
    if shots is not None:
        entry["args"] = {"num_few_shot": shots}
    return entry


def percent(fraction: float) -> float:
    return round(fraction * 100, 2)


def metric_entry(score: FilterScore) -> dict[str, Any]:
    return {
        "type": "exact_match",
        "value": percent(score.em),
        "name": (
            f"exact match ({score.filter}), n={score.n}, 95 % Wilson interval "
            f"{percent(score.low):.1f}–{percent(score.high):.1f}"
        ),
        "config": score.filter,
    }


def model_index(record: RunRecord, evals: list[EvalSummary]) -> list[dict[str, Any]] | None:
    results = [
        {
            "task": {"type": "text-generation", "name": "Text Generation"},
            "dataset": dataset_entry(e.meta),
            # lm-eval's two scores only: model-index entries are compared with published
            # lm-eval numbers, and numeric-match is ours (it stays in the card's text).
            "metrics": [metric_entry(s) for s in e.scores if s.filter in LM_EVAL_FILTERS],
        }
        for e in evals
        if e.scores
    ]
    return [{"name": record.id, "results": results}] if results else None


def card_metadata(
    record: RunRecord, evals: list[EvalSummary], kind: str | None = None
) -> dict[str, Any]:
    """The card's YAML front matter; `kind` is the detected run kind (analysis.run_kind)."""
    meta: dict[str, Any] = {}
    base = base_model(record)
    if base:
        meta["base_model"] = base
    library = library_name(record)
    if library:
        meta["library_name"] = library
    # No kind given (a caller without the run's logs): gsmreport's own runs generate text.
    pipeline = "text-generation" if kind is None else pipeline_tag(kind)
    if pipeline:
        meta["pipeline_tag"] = pipeline
    meta["tags"] = tags(record, evals, kind)
    if hub_subset(record.data) is not None:
        meta["datasets"] = [HUB_DATASET]  # trained on it; local training files are not named
    index = model_index(record, evals)
    if index:
        meta["model-index"] = index
    return meta


def front_matter(meta: Mapping[str, Any]) -> str:
    body = yaml.safe_dump(dict(meta), sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{body}---\n\n"


def card_context(
    record: RunRecord, evals: list[EvalSummary], kind: str | None = None
) -> dict[str, Any]:
    """What card.md.j2 needs beyond the report context."""
    meta = card_metadata(record, evals, kind)
    return {
        "metadata": meta,
        "trained": trained(record),
        "base_model": meta.get("base_model"),
        "method": method_label(record),
        "trainer": "TRL SFTTrainer (gsmreport train)" if record.kind == "train" else None,
        "datasets": {e.eval_id: dataset_entry(e.meta) for e in evals},
        "hub_dataset": HUB_DATASET,
    }
