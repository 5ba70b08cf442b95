"""The training child process: `python -m gsmreport.jobs.train RUN_DIR`.

Reads the resolved config from RUN_DIR/run.yaml, fine-tunes with TRL's SFTTrainer (LoRA via
peft, or full), appends every log event to metrics.jsonl, saves the model and
trainer_state.json, and records the outcome in run.yaml. Reads top to bottom on purpose.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from gsmreport.config import TrainConfig
from gsmreport.datasets.gsm8k import load_split, sample, train_val_split
from gsmreport.jobs.common import hardware, run_guarded, versions
from gsmreport.runs import RunStore


def _records(rows: list[dict[str, str]], cfg: TrainConfig, chat: bool) -> list[dict[str, Any]]:
    """Prompt/completion pairs: TRL then computes the loss on the completion only."""
    if chat:
        return [
            {
                "prompt": [{"role": "user", "content": r["question"]}],
                "completion": [{"role": "assistant", "content": r["answer"]}],
            }
            for r in rows
        ]
    return [
        {
            "prompt": cfg.prompt_template.format(question=r["question"]),
            "completion": " " + r["answer"],
        }
        for r in rows
    ]


def _train(run_dir: Path, cfg: TrainConfig) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed
    from trl import SFTConfig, SFTTrainer  # type: ignore[attr-defined]

    from gsmreport.jobs.callbacks import MetricsJsonlCallback

    t = cfg.training
    set_seed(t.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    rows = sample(load_split(cfg.data, "train"), cfg.data.max_samples, cfg.data.seed)
    train_rows, val_rows = train_val_split(rows, cfg.data.val_fraction, cfg.data.seed)
    chat = bool(getattr(tokenizer, "chat_template", None))
    train_ds = Dataset.from_list(_records(train_rows, cfg, chat))
    val_ds = Dataset.from_list(_records(val_rows, cfg, chat)) if val_rows else None

    cuda = torch.cuda.is_available()
    bf16 = t.precision == "bf16" or (
        t.precision == "auto" and cuda and torch.cuda.is_bf16_supported()
    )
    fp16 = t.precision == "fp16"
    steps_per_epoch = math.ceil(len(train_rows) / (t.batch_size * t.grad_accum))
    total = t.max_steps if t.max_steps > 0 else math.ceil(steps_per_epoch * t.epochs)
    eval_steps = t.eval_steps or max(1, total // 5)
    # transformers 5 folded warmup_ratio into warmup_steps (a float below 1 is a ratio).
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    warmup: dict[str, Any] = (
        {"warmup_ratio": t.warmup_ratio}
        if "warmup_ratio" in names
        else {"warmup_steps": t.warmup_ratio}
    )
    args = SFTConfig(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        weight_decay=t.weight_decay,
        logging_steps=t.logging_steps,
        eval_strategy="steps" if val_ds is not None else "no",
        eval_steps=eval_steps,
        save_strategy="no",
        report_to="none",
        max_length=t.max_length,
        seed=t.seed,
        bf16=bf16,
        fp16=fp16,
        use_cpu=not cuda,
        disable_tqdm=True,
        completion_only_loss=True,
        dataloader_num_workers=0,
        **warmup,
    )
    model = AutoModelForCausalLM.from_pretrained(cfg.model)
    peft_config = None
    if cfg.method == "lora":
        peft_config = LoraConfig(
            r=cfg.lora.r,
            lora_alpha=cfg.lora.alpha,
            lora_dropout=cfg.lora.dropout,
            bias=cfg.lora.bias,
            target_modules=cfg.lora.target_modules,
            task_type="CAUSAL_LM",
        )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[MetricsJsonlCallback(run_dir / "metrics.jsonl")],
    )
    print(
        f"[gsmreport] training {cfg.method} on {len(train_rows)} examples "
        f"({len(val_rows)} held out), {total} steps",
        flush=True,
    )
    started = time.monotonic()
    try:
        trainer.train()
    finally:
        # Written even on Ctrl-C, so an interrupted run still has its trainer state.
        trainer.state.save_to_json(str(run_dir / "trainer_state.json"))
    runtime = time.monotonic() - started
    trainer.save_model(str(run_dir / "model"))
    tokenizer.save_pretrained(str(run_dir / "model"))
    hw = hardware()
    device_hours = runtime / 3600 * hw.count
    cost = (
        device_hours * cfg.price_per_device_hour if cfg.price_per_device_hour is not None else None
    )
    return {
        "runtime_s": round(runtime, 3),
        "device_hours": device_hours,
        "cost_usd": cost,
        "n_train": len(train_rows),
        "n_val": len(val_rows),
        "total_steps": trainer.state.global_step,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    run_dir = Path(argv[0]).resolve()
    store = RunStore(run_dir.parent)
    record = store.read(run_dir.name)
    cfg = TrainConfig.model_validate(record.config)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    store.set_status(
        record.id, "running", hardware=hardware(), versions=versions(), pid=os.getpid()
    )
    return run_guarded(run_dir, lambda: _train(run_dir, cfg))


if __name__ == "__main__":
    sys.exit(main())
