"""A tiny Llama-architecture model with a BPE tokenizer trained on the fly.

Random weights, about 0.2 M parameters: a full fine-tune or LoRA on it runs in seconds on a
CPU, which is what lets the demo and the tests exercise the real TRL/peft code path
without downloading anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]


def _train_tokenizer(texts: Iterable[str], vocab_size: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    # Single digits keep arithmetic learnable; byte-level keeps every string encodable and
    # lets decode() restore spaces exactly.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )


def build_tiny_model(
    out_dir: Path,
    corpus: Path,
    *,
    vocab_size: int = 600,
    hidden_size: int = 64,
    layers: int = 2,
    seed: int = 0,
) -> Path:
    """Train a tokenizer on `corpus` (GSM8K jsonl) and save a random tiny Llama to `out_dir`."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    texts: list[str] = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts.append(f"Question: {row['question']}\nAnswer: {row['answer']}")
    tokenizer = _train_tokenizer(texts, vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Build the tiny demo model.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    build_tiny_model(args.out_dir, args.corpus)


if __name__ == "__main__":
    main()
