"""Real trainer logs of kinds the shared data lacks: DPO, GRPO and a seq2seq (WER) run.

Each helper trains the tiny local model for a few steps with the real trainer (TRL's
DPOTrainer / GRPOTrainer, transformers' Seq2SeqTrainer) and returns the folder holding the
trainer_state.json it wrote, so tests read exactly what those trainers log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model


def tiny_model(root: Path) -> Path:
    data = write_gsm8k_folder(root / "data", n_train=40, n_test=8, seed=3)
    return build_tiny_model(root / "model", data / "train.jsonl")


def _trainer_state(out: Path, trainer: Any) -> Path:
    trainer.state.save_to_json(str(out / "trainer_state.json"))
    return out / "trainer_state.json"


def _common(out: Path) -> dict[str, Any]:
    return {
        "output_dir": str(out),
        "max_steps": 4,
        "logging_steps": 1,
        "eval_strategy": "steps",
        "eval_steps": 2,
        "per_device_train_batch_size": 4,
        "per_device_eval_batch_size": 4,
        "report_to": [],
        "save_strategy": "no",
        "use_cpu": True,
        "seed": 0,
    }


def dpo_log(model_dir: Path, out: Path) -> Path:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer  # type: ignore[attr-defined]

    rows = [
        {"prompt": f"Question: {a} + {b} =", "chosen": f" {a + b}", "rejected": f" {a + b + 1}"}
        for a in range(4)
        for b in range(4)
    ]
    data = Dataset.from_list(rows)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    args = DPOConfig(**_common(out), max_length=64, beta=0.1)
    trainer = DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        args=args,
        train_dataset=data,
        eval_dataset=data.select(range(8)),
        processing_class=tokenizer,
    )
    trainer.train()
    return _trainer_state(out, trainer)


def reward_model_log(model_dir: Path, out: Path) -> Path:
    """TRL's RewardTrainer on the tiny model with a one-label classification head."""
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from trl import RewardConfig, RewardTrainer  # type: ignore[attr-defined]

    rows = [
        {"chosen": f"{a} + {b} = {a + b}", "rejected": f"{a} + {b} = {a + b + 1}"}
        for a in range(4)
        for b in range(4)
    ]
    data = Dataset.from_list(rows)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1)
    model.config.pad_token_id = tokenizer.pad_token_id
    trainer = RewardTrainer(
        model=model,
        args=RewardConfig(**_common(out), max_length=64),
        train_dataset=data,
        eval_dataset=data.select(range(8)),
        processing_class=tokenizer,
    )
    trainer.train()
    return _trainer_state(out, trainer)


def _length_reward(completions: list[str], **_: Any) -> list[float | None]:
    """A reward GRPO can compute without a reward model: closeness to 8 characters."""
    return [-abs(len(c) - 8) / 8 for c in completions]


def grpo_log(model_dir: Path, out: Path) -> Path:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer  # type: ignore[attr-defined]

    data = Dataset.from_list([{"prompt": f"Question: {a} + 1 ="} for a in range(16)])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    common = _common(out) | {"eval_strategy": "no"}
    args = GRPOConfig(
        **common, num_generations=4, max_completion_length=8, beta=0.04, generation_batch_size=8
    )
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        reward_funcs=_length_reward,
        args=args,
        train_dataset=data,
        processing_class=tokenizer,
    )
    trainer.train()
    return _trainer_state(out, trainer)


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Word-level Levenshtein distance over the reference word count, summed over pairs."""
    errors = words = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        r, h = ref.split(), hyp.split()
        row = list(range(len(h) + 1))
        for i, rw in enumerate(r, 1):
            prev, row[0] = row[0], i
            for j, hw in enumerate(h, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
        errors += row[len(h)]
        words += len(r)
    return errors / max(words, 1)


def seq2seq_log(model_dir: Path, out: Path) -> Path:
    """A random tiny T5 trained to copy numbers, evaluated with generation and WER."""
    import numpy as np
    from datasets import Dataset
    from transformers import (
        AutoTokenizer,
        DataCollatorForSeq2Seq,
        Seq2SeqTrainer,
        Seq2SeqTrainingArguments,
        T5Config,
        T5ForConditionalGeneration,
    )

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_heads=2,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,  # type: ignore[call-arg]
    )
    model = T5ForConditionalGeneration(config)
    texts = [f"{a} plus {a + 1}" for a in range(24)]
    data = Dataset.from_dict(
        {
            "input_ids": [tokenizer(t)["input_ids"] for t in texts],
            "labels": [tokenizer(t)["input_ids"] for t in texts],
        }
    )

    def compute_metrics(prediction: Any) -> dict[str, float]:
        predicted, labels = prediction
        labels = np.where(labels < 0, tokenizer.pad_token_id, labels)
        predicted = np.where(predicted < 0, tokenizer.pad_token_id, predicted)
        hyp = tokenizer.batch_decode(predicted, skip_special_tokens=True)
        ref = tokenizer.batch_decode(labels, skip_special_tokens=True)
        return {"wer": word_error_rate(ref, hyp)}

    args = Seq2SeqTrainingArguments(
        **_common(out), predict_with_generate=True, generation_max_length=12
    )
    trainer = Seq2SeqTrainer(
        model=model,
        args=args,
        train_dataset=data,
        eval_dataset=data.select(range(8)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, model=model),
        compute_metrics=compute_metrics,
        processing_class=tokenizer,
    )
    trainer.train()
    return _trainer_state(out, trainer)


if __name__ == "__main__":  # print what each trainer logs: python -m tests.trainer_logs DIR
    import sys

    root = Path(sys.argv[1])
    model = tiny_model(root)
    makers = {"dpo": dpo_log, "grpo": grpo_log, "seq2seq": seq2seq_log, "rm": reward_model_log}
    for name, make in makers.items():
        path = make(model, root / name)
        history = json.loads(path.read_text())["log_history"]
        print(name, sorted({k for entry in history for k in entry}))
