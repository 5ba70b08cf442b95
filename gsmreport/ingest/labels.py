"""The method label of an imported run, by one set of rules for every reader.

W&B configs, HF/TRL output folders (adapter_config.json, config.json, LLaMA-Factory args)
and TensorBoard hparams each say it their own way; what a reader finds is mapped to a label
here, so that the same evidence gives the same label whichever file it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_4bit(quantization: Any) -> bool:
    """A transformers/bitsandbytes `quantization_config` that loads the base in 4 bits."""
    if not isinstance(quantization, dict):
        return False
    return bool(quantization.get("load_in_4bit") or quantization.get("_load_in_4bit"))


def peft_method(peft_type: Any) -> str:
    """A PEFT adapter's `peft_type` as a method label ("LORA" or none → lora)."""
    return "lora" if peft_type in (None, "LORA") else str(peft_type).lower()


def with_quantization(method: str | None, four_bit: bool) -> str | None:
    """LoRA on a 4-bit base is QLoRA; on an 8-bit base it stays LoRA (QLoRA names the 4-bit
    recipe), and nothing else changes name. A 4-bit base alone is not QLoRA: without a
    LoRA/PEFT config (method None) the method stays unknown, since 4-bit weights can also
    be evaluated, trained through a classification head or another adapter."""
    return "qlora" if method == "lora" and four_bit else method


# --- where a training label may be read from --------------------------------------------------
#
# A config imported from W&B or TensorBoard mixes the training arguments with the model's own
# config, and the model config carries defaults that look like training settings: every
# PretrainedConfig has `max_length: 20` (a *generation* default) and `torch_dtype` (the dtype
# the weights were saved or loaded in, not the training precision). A label is read only from
# training arguments; when they do not say, it is "not recorded", never a model default.

# Keys naming the training sequence length wherever they are (TRL, LLaMA-Factory, scripts).
SEQUENCE_LENGTH_KEYS = ("max_seq_length", "max_seq_len", "cutoff_len")
# A bare `max_length` is the training length only inside a training-arguments section (our
# `training.max_length`, TRL's SFTConfig logged as `training_args`); at the top of a W&B
# config it is the model config's generation default.
TRAINING_SECTIONS = ("training", "training_args", "args", "trainer", "sft_config")
MODEL_SECTIONS = ("model_config", "generation_config")


def _parts(path: str) -> tuple[str, list[str]]:
    parts = path.lower().split(".")
    return parts[-1], parts[:-1]


def is_sequence_length_key(path: str) -> bool:
    """Whether a flattened config key (`training_args.max_length`) names the training length."""
    leaf, parents = _parts(path)
    if any(p in MODEL_SECTIONS for p in parents):
        return False
    if leaf in SEQUENCE_LENGTH_KEYS:
        return True
    return leaf == "max_length" and any(p in TRAINING_SECTIONS for p in parents)


def is_precision_key(path: str) -> bool:
    """Whether a flattened key is a training-precision switch (never a model's torch_dtype)."""
    leaf, parents = _parts(path)
    if any(p in MODEL_SECTIONS for p in parents):
        return False
    return leaf in ("precision", "mixed_precision", "bf16", "fp16")


def _first(flat: Mapping[str, Any], keys: list[str]) -> tuple[str, Any] | None:
    """The shallowest key with a value: the run's own setting beats a nested copy."""
    found = [k for k in keys if flat[k] not in (None, "")]
    if not found:
        return None
    key = min(found, key=lambda k: (k.count("."), k))
    return key, flat[key]


def sequence_length(flat: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(key, value) of the training sequence length in a flattened config, or None."""
    return _first(flat, [k for k in flat if is_sequence_length_key(k)])


def precision(flat: Mapping[str, Any]) -> tuple[str, str] | None:
    """(text, key) of the training precision from the training arguments, or None.

    An explicit precision / mixed_precision setting first, then HF's bf16 / fp16 switches;
    fp32 only when both switches are recorded as off. The model config's torch_dtype is not
    a training precision (a bf16 checkpoint is often trained in fp32 or fp16), so it is
    never used.
    """
    keys = [k for k in flat if is_precision_key(k)]
    explicit = _first(flat, [k for k in keys if _parts(k)[0] in ("precision", "mixed_precision")])
    if explicit is not None:
        return str(explicit[1]), explicit[0]
    switches = {
        flag: _first(flat, [k for k in keys if _parts(k)[0] == flag]) for flag in ("bf16", "fp16")
    }
    for flag, hit in switches.items():
        if hit is not None and hit[1] is True:
            return flag, hit[0]
    bf16, fp16 = switches["bf16"], switches["fp16"]
    if bf16 and fp16 and bf16[1] is False and fp16[1] is False:
        return "fp32 (bf16 and fp16 off)", f"{bf16[0]}, {fp16[0]}"
    return None
