"""The key settings a reader asks for first, picked from a run's flattened config.

Presentation only: which settings to headline and under which label. Every figure of the
run is decided in gsmreport.analysis (RunAnalysis), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gsmreport.ingest.labels import is_precision_key, is_sequence_length_key

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
            # Length and precision only from the training arguments (ingest.labels): a
            # model config's generation max_length or torch_dtype is not a training setting.
            if label == "max length" and not is_sequence_length_key(key):
                continue
            if label == "precision" and not is_precision_key(key):
                continue
            if leaf in anywhere or (lora and leaf in in_lora):
                out.append(KeySetting(label, key, value))
                used.add(key)
    return out
