"""How a run was set up, as its records say: optimizer, schedule, warm-up, batch, LoRA, steps,
and how its latest evaluation was run (prompt, problems, seed).

Read from run.yaml's config (gsmreport's own nested sections, or the flat names HF Trainer,
TRL, LLaMA-Factory and W&B use) and from the evaluation's results.json / samples.jsonl.
A value the records lack is None, shown as "not recorded": never a default filled in.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gsmreport.analysis.run import RunAnalysis

# First match wins; a pattern matches a dotted key path exactly or as its tail (fnmatch).
PATTERNS: dict[str, tuple[str, ...]] = {
    "optimizer": ("training.optimizer", "optimizer", "optim"),
    "scheduler": ("training.lr_scheduler", "lr_scheduler", "lr_scheduler_type", "scheduler"),
    "learning_rate": ("training.learning_rate", "learning_rate", "lr"),
    "min_lr": ("training.min_lr", "min_lr", "lr_scheduler_kwargs.min_lr"),
    "warmup_ratio": ("training.warmup_ratio", "warmup_ratio"),
    "warmup_steps": ("training.warmup_steps", "warmup_steps"),
    "batch_size": ("training.batch_size", "per_device_train_batch_size", "batch_size"),
    "grad_accum": ("training.grad_accum", "gradient_accumulation_steps", "grad_accum"),
    "lora_targets": (
        "lora.target_modules",
        "*lora*.target_modules",
        "target_modules",
        "lora_target",
    ),
    "trainable": ("trainable_params", "trainable_parameters", "num_trainable_params"),
    "total_params": ("total_params", "all_params", "num_params"),
}


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= flatten(value, f"{path}.")
        else:
            out[path] = value
    return out


def find_setting(flat: Mapping[str, Any], patterns: Sequence[str]) -> tuple[str, Any] | None:
    """(key path, value) of the first pattern with a non-empty match; the shallowest path wins."""
    for pattern in patterns:
        hits = [
            path
            for path, value in flat.items()
            if value not in (None, "")
            and (fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, f"*.{pattern}"))
        ]
        if hits:
            path = min(hits, key=lambda p: (p.count("."), p))
            return path, flat[path]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class TrainingSetup:
    """A training run's set-up; None: not recorded. `sources`: setting -> config key read."""

    optimizer: str | None
    scheduler: str | None
    learning_rate: float | None
    min_lr: float | None
    warmup_ratio: float | None
    warmup_steps: float | None
    batch_size: float | None  # per device
    grad_accum: float | None
    devices: int | None  # from run.yaml's hardware
    lora_targets: tuple[str, ...] | None
    trainable_params: float | None
    total_params: float | None
    steps: int | None  # how far training got: RunAnalysis.steps, as the runs table shows it
    sources: dict[str, str]

    @property
    def effective_batch(self) -> float | None:
        """Per-device batch × gradient accumulation × devices, when all three are recorded."""
        if self.batch_size is None or self.grad_accum is None or self.devices is None:
            return None
        return self.batch_size * self.grad_accum * self.devices


def training_setup(analysis: RunAnalysis) -> TrainingSetup | None:
    """None for an evaluation-only run (nothing was trained)."""
    record = analysis.record
    if record.kind == "eval":
        return None
    flat = flatten(record.config)
    extra = record.model_extra or {}
    flat |= {k: v for k, v in flatten(extra).items() if k not in flat}
    found: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, patterns in PATTERNS.items():
        hit = find_setting(flat, patterns)
        if hit is not None:
            sources[name], found[name] = hit
    targets = found.get("lora_targets")
    if isinstance(targets, str):
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    return TrainingSetup(
        optimizer=str(found["optimizer"]) if "optimizer" in found else None,
        scheduler=str(found["scheduler"]) if "scheduler" in found else None,
        learning_rate=_number(found.get("learning_rate")),
        min_lr=_number(found.get("min_lr")),
        warmup_ratio=_number(found.get("warmup_ratio")),
        warmup_steps=_number(found.get("warmup_steps")),
        batch_size=_number(found.get("batch_size")),
        grad_accum=_number(found.get("grad_accum")),
        devices=record.hardware.count if record.hardware else None,
        lora_targets=tuple(str(t) for t in targets) if isinstance(targets, list) else None,
        trainable_params=_number(found.get("trainable")),
        total_params=_number(found.get("total_params")),
        steps=analysis.steps,  # the runs table's figure (RunAnalysis.steps), not a second one
        sources=sources,
    )


@dataclass(frozen=True)
class EvalSetup:
    """How the run's latest evaluation was run, from its results.json and samples.jsonl."""

    eval_id: str
    split: str | None
    problems: int | None  # problems scored (strict-match n)
    seed: int | None
    fewshot_seed: int | None
    prompt_style: str | None
    max_new_tokens: int | None
    doc_ids: frozenset[int]  # the problems answered, by doc id (empty: no samples)
    prompt: str | None  # the prompt of the lowest doc id, as the model saw it


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _first_prompt(path: Any) -> tuple[frozenset[int], str | None]:
    """Doc ids and the prompt of the lowest one; lm-eval's `arguments` may be a list."""
    ids: set[int] = set()
    first: tuple[int, str] | None = None
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                doc_id = _int(row.get("doc_id"))
                if doc_id is None:
                    continue
                ids.add(doc_id)
                prompt = row.get("arguments")
                while isinstance(prompt, list | tuple) and prompt:
                    prompt = prompt[0]
                if isinstance(prompt, Mapping):
                    prompt = prompt.get("arg_0")
                if isinstance(prompt, str) and (first is None or doc_id < first[0]):
                    first = (doc_id, prompt)
    except (OSError, ValueError):
        return frozenset(), None
    return frozenset(ids), first[1] if first else None


def eval_setup(analysis: RunAnalysis) -> EvalSetup | None:
    latest = analysis.latest
    if latest is None:
        return None
    summary = latest.summary
    meta = summary.meta
    strict = next((s for s in summary.scores if s.filter == "strict-match"), None)
    samples = analysis.run_dir / "evals" / latest.folder / "samples.jsonl"
    doc_ids, prompt = _first_prompt(samples) if samples.is_file() else (frozenset(), None)
    return EvalSetup(
        eval_id=summary.eval_id,
        split=str(meta["split"]) if meta.get("split") else None,
        problems=strict.n if strict else (_int(meta.get("n")) or None),
        seed=_int(meta.get("seed")),
        fewshot_seed=_int(meta.get("fewshot_seed")),
        prompt_style=str(meta["prompt_style"]) if meta.get("prompt_style") else None,
        max_new_tokens=_int(meta.get("max_new_tokens")),
        doc_ids=doc_ids,
        prompt=prompt,
    )
