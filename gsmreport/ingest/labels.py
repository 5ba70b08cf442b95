"""The method label of an imported run, by one set of rules for every reader.

W&B configs, HF/TRL output folders (adapter_config.json, config.json, LLaMA-Factory args)
and TensorBoard hparams each say it their own way; what a reader finds is mapped to a label
here, so that the same evidence gives the same label whichever file it came from.
"""

from __future__ import annotations

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
    recipe), and nothing else changes name."""
    return "qlora" if method == "lora" and four_bit else method
