"""The training child process: `python -m gsmreport.jobs.train RUN_DIR [--resume]`.

Reads the resolved config from RUN_DIR/run.yaml, fine-tunes with TRL's SFTTrainer (LoRA or
QLoRA via peft, or full), appends every log event to metrics.jsonl, keeps checkpoints for
`--resume`, saves the (best) model and trainer_state.json, and records the outcome in
run.yaml. Under `accelerate launch` every rank runs this; only rank 0 writes run files.
Reads top to bottom on purpose: check the machine, load data, build the trainer, train.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import logging
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from gsmreport.core.checkpoints import newest_checkpoint
from gsmreport.core.config import TrainConfig
from gsmreport.core.errors import ConfigError, GsmReportError
from gsmreport.core.liveness import process_facts
from gsmreport.core.runs import Hardware, RunStore
from gsmreport.jobs.common import (
    hardware,
    is_main_process,
    run_guarded,
    set_status,
    versions,
    world_size,
)


def cut_metrics(path: Path, step: int) -> float:
    """Drop metrics.jsonl events after `step` (a resume replays them); return the last wall time.

    Also drops a line cut off by a crash. The file is replaced atomically.
    """
    from gsmreport.core.fsutil import atomic_write_text

    if not path.is_file():
        return 0.0
    kept: list[str] = []
    wall = 0.0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and int(event.get("step", 0)) <= step:
            kept.append(line)
            wall = max(wall, float(event.get("wall_time") or 0.0))
    atomic_write_text(path, "".join(f"{line}\n" for line in kept))
    return wall


@dataclasses.dataclass(frozen=True)
class Machine:
    """What this machine allows, decided before any model is loaded."""

    cuda: bool
    bf16: bool
    fp16: bool
    optimizer: str  # the optimizer actually used
    warnings: tuple[str, ...]
    hw: Hardware  # recorded in run.yaml at the start and priced at the end


def check_machine(cfg: TrainConfig) -> Machine:
    """Refuse what cannot run here (ConfigError); fall back, with a warning, where one can."""
    import importlib.util

    import torch

    cuda = torch.cuda.is_available()
    bnb = cuda and importlib.util.find_spec("bitsandbytes") is not None
    if cfg.method == "qlora" and not bnb:
        # Seen on an H100 without bitsandbytes: the CPU advice alone would mislead there.
        fix = "pip install bitsandbytes" if cuda else "use method: lora on a CPU"
        raise ConfigError(f"method qlora needs a CUDA GPU and bitsandbytes; {fix}")
    t, warnings = cfg.training, []
    optimizer = t.optimizer
    if optimizer == "adamw_bnb_8bit" and not bnb:
        optimizer = "adamw_torch"
        warnings.append(
            "optimizer adamw_bnb_8bit needs a CUDA GPU and bitsandbytes; using adamw_torch"
        )
    bf16 = t.precision == "bf16" or (
        t.precision == "auto" and cuda and torch.cuda.is_bf16_supported()
    )
    return Machine(cuda, bf16, t.precision == "fp16", optimizer, tuple(warnings), hardware())


def _logging(run_dir: Path, cfg: TrainConfig) -> list[str]:
    """Point W&B and TensorBoard at the run folder (both read env vars); return report_to."""
    log, report = cfg.logging, []
    os.environ["WANDB_MODE"] = log.wandb
    if log.wandb != "disabled":
        os.environ["WANDB_DIR"] = str(run_dir / "logs")
        os.environ["WANDB_PROJECT"] = log.wandb_project
        # A stable id per run folder, so a --resume continues the same W&B run.
        digest = hashlib.sha1(str(run_dir).encode()).hexdigest()[:8]
        os.environ.setdefault("WANDB_RUN_ID", f"{run_dir.name}-{digest}")
        os.environ.setdefault("WANDB_RESUME", "allow")
        os.environ.setdefault("WANDB_CONSOLE", "off")  # our stdout is already teed to a log
        report.append("wandb")
    if log.tensorboard:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(run_dir / "logs" / "tensorboard")
        report.append("tensorboard")
    return report


def parameter_counts(model: Any) -> tuple[int, int]:
    """(trainable, all) parameters of the model as trained: PEFT's own count for an adapter
    (it counts a 4-bit weight's packed halves as the parameters they hold), else requires_grad
    over every parameter (a full fine-tune trains them all). Counted before training wraps
    the model; a parameter DeepSpeed ZeRO-3 has already partitioned holds its size in
    `ds_numel` (its own numel() is then 0), as PEFT's count also reads it."""
    counted = getattr(model, "get_nb_trainable_parameters", None)
    if callable(counted):
        trainable, total = counted()
        return int(trainable), int(total)
    sizes = [
        (getattr(p, "ds_numel", None) or p.numel(), p.requires_grad) for p in model.parameters()
    ]
    return sum(n for n, grad in sizes if grad), sum(n for n, _ in sizes)


def planned_steps(
    n_train: int, batch_size: int, grad_accum: int, world: int, epochs: float, max_steps: int
) -> int:
    """The optimizer steps the HF Trainer will run, by its own rule (Trainer.
    set_initial_training_values): each process's dataloader has ceil(ceil(n / batch) / world)
    batches (accelerate deals whole batches out to the processes, evened up), an epoch
    ceil(batches / grad_accum) updates, and the run ceil(epochs × that).
    Rounding per epoch, not over the whole run: 360 examples, batch 16, 15 epochs is 23 × 15
    = 345 steps, not ceil(337.5) = 338.

    Made before the Trainer exists, for the default evaluation cadence only: TRL may then
    drop examples (fully masked after truncation) and packing changes the count, so the
    announced step count is the Trainer's own (callbacks.StartLineCallback)."""
    if max_steps > 0:
        return max_steps
    batches = math.ceil(math.ceil(n_train / batch_size) / max(world, 1))
    per_epoch = max(math.ceil(batches / grad_accum), 1)
    return math.ceil(epochs * per_epoch)


def _sft_config(run_dir: Path, cfg: TrainConfig, m: Machine, n_train: int, has_val: bool) -> Any:
    """Every TrainingSettings knob as SFTConfig arguments."""
    from trl import SFTConfig  # type: ignore[attr-defined]

    t = cfg.training
    total = planned_steps(n_train, t.batch_size, t.grad_accum, world_size(), t.epochs, t.max_steps)
    eval_steps = t.eval_steps or (t.save_steps if t.load_best_model_at_end else None)
    eval_steps = eval_steps or max(1, total // 5)
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    extra: dict[str, Any] = {}
    # transformers 5 folded warmup_ratio into warmup_steps (a float below 1 is a ratio).
    extra["warmup_ratio" if "warmup_ratio" in names else "warmup_steps"] = t.warmup_ratio
    if t.lr_scheduler == "cosine_with_min_lr":
        extra["lr_scheduler_kwargs"] = {"min_lr": t.min_lr}
    # transformers 5.2x renamed gradient_checkpointing to activation_checkpointing.
    ckpt = "activation" if "activation_checkpointing" in names else "gradient"
    extra[f"{ckpt}_checkpointing"] = t.gradient_checkpointing
    if t.gradient_checkpointing:
        extra[f"{ckpt}_checkpointing_kwargs"] = {"use_reentrant": False}
    if has_val:
        extra.update(
            eval_strategy="steps",
            eval_steps=eval_steps,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
            load_best_model_at_end=t.load_best_model_at_end,
        )
    args = SFTConfig(
        output_dir=str(run_dir / "checkpoints"),
        run_name=run_dir.name,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.lr_scheduler,
        weight_decay=t.weight_decay,
        optim=m.optimizer,
        max_length=t.max_length,
        packing=t.packing,
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps or eval_steps,
        save_total_limit=t.save_total_limit,
        report_to=_logging(run_dir, cfg) or "none",
        seed=t.seed,
        bf16=m.bf16,
        fp16=m.fp16,
        use_cpu=not m.cuda,
        disable_tqdm=True,
        completion_only_loss=True,
        dataloader_num_workers=0,
        **extra,
    )
    return args


def _model(cfg: TrainConfig, m: Machine) -> tuple[Any, Any]:
    """The base model (4-bit for QLoRA) and the peft LoraConfig, or None for a full fine-tune."""
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {}
    if cfg.method == "qlora":  # CUDA only (check_machine); not reachable on a CPU test machine
        import torch
        from transformers import BitsAndBytesConfig

        dtype = torch.bfloat16 if m.bf16 else torch.float16
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=dtype,
            bnb_4bit_use_double_quant=True,
        )
        kwargs["dtype"] = dtype
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
    model = AutoModelForCausalLM.from_pretrained(cfg.model, **kwargs)
    if cfg.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=cfg.training.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    if cfg.method == "full":
        return model, None
    lora = cfg.lora
    return model, LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        bias=lora.bias,
        target_modules=lora.target_modules,
        modules_to_save=lora.modules_to_save,
        task_type="CAUSAL_LM",
    )


def _price(cfg: TrainConfig, hw: Hardware) -> dict[str, Any]:
    """The price per device-hour in force when the run trained, and where it came from: the
    config's price, else the dated default table. Only the price is stored: device-hours
    and cost are decided by the run's analysis (analysis.run), never written here, so that
    no surface can read a second, stale copy of them.
    """
    from gsmreport.analysis.cost import default_price

    entry = default_price(hw.device_name)
    price: float | None
    if cfg.price_per_device_hour is not None:
        price, source = cfg.price_per_device_hour, "config (price_per_device_hour)"
    elif entry is not None:
        price = entry.usd_per_device_hour
        where = f", {entry.url}" if entry.url else ""
        source = f"default table, {entry.name}: {entry.source}{where}; as of {entry.as_of}"
    else:
        price = None
        source = f"no price known for {hw.device_name}; set price_per_device_hour in the config"
    return {
        "price_per_device_hour": price,
        "price_source": source,
    }


MISSING_KEYS = "There were missing keys in the checkpoint model loaded: "


def tied_parameter_names(model: Any) -> set[str]:
    """Names of parameters that share their tensor with another one (lm_head.weight of a
    model with tied word embeddings): a checkpoint stores such a tensor once, under one name."""
    by_tensor: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        by_tensor.setdefault(param.data_ptr(), []).append(name)
    return {name for names in by_tensor.values() if len(names) > 1 for name in names}


class TiedKeysFilter(logging.Filter):
    """Drops the Trainer's "missing keys" warning when loading the best checkpoint finds only
    tied parameters missing: they were not saved because they are the embedding matrix
    itself, and loading that restores them. Seen at the end of every run of a model with
    tied embeddings (the demo's, SmolLM2, Gemma); any other missing key is still reported."""

    def __init__(self, tied: set[str]) -> None:
        super().__init__()
        self.tied = tied

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if not message.startswith(MISSING_KEYS):
            return True
        try:
            keys = ast.literal_eval(message.removeprefix(MISSING_KEYS).rstrip("."))
        except (ValueError, SyntaxError):
            return True
        return not (isinstance(keys, list) and keys and set(keys) <= self.tied)


def _train(run_dir: Path, cfg: TrainConfig, m: Machine, resume: bool) -> dict[str, Any]:
    from datasets import Dataset
    from transformers import AutoTokenizer, EarlyStoppingCallback, PrinterCallback, set_seed
    from transformers.utils import logging as hf_logging
    from trl import SFTTrainer  # type: ignore[attr-defined]

    from gsmreport.datasets.formats import to_record, training_split
    from gsmreport.jobs.callbacks import (
        CheckpointLineCallback,
        MetricsJsonlCallback,
        StartLineCallback,
        SystemMetricsCallback,
    )

    main, t = is_main_process(), cfg.training
    # stdout is a log file (the TUI's live view, logs/stdout.log): "Writing model shards"
    # progress bars would only add carriage-return noise to it.
    hf_logging.disable_progress_bar()
    set_seed(t.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_ex, val_ex = training_split(cfg.data, cfg.prompt_template)
    chat = bool(getattr(tokenizer, "chat_template", None))
    train_ds = Dataset.from_list([to_record(e, chat) for e in train_ex])
    val_ds = Dataset.from_list([to_record(e, chat) for e in val_ex]) if val_ex else None
    args = _sft_config(run_dir, cfg, m, len(train_ex), val_ds is not None)

    checkpoint, wall_offset = None, 0.0
    if resume:
        checkpoint = newest_checkpoint(run_dir)
        if checkpoint is None:
            raise ConfigError(f"{run_dir}: no checkpoint to resume from")
        done = int(checkpoint.name.split("-")[1])
        if main:  # replayed steps would otherwise appear twice
            wall_offset = cut_metrics(run_dir / "metrics.jsonl", done)
            set_status(run_dir, "running", resumed_from=checkpoint.name)
    callbacks: list[Any] = [
        MetricsJsonlCallback(run_dir / "metrics.jsonl", wall_offset=wall_offset),
        SystemMetricsCallback(run_dir / "metrics.jsonl", wall_offset=wall_offset),
        CheckpointLineCallback(),
    ]
    if main:
        line = (
            f"[gsmreport] training {cfg.method} on {len(train_ex)} examples ({len(val_ex)} held "
            f"out, {'chat template' if chat else 'plain prompts'}), {{steps}} steps"
            + (f", resuming from {checkpoint.name}" if checkpoint else "")
        )
        callbacks.append(StartLineCallback(line))
    if t.early_stopping_patience is not None and val_ds is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    model, peft_config = _model(cfg, m)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    # With tqdm off the Trainer prints every log as a raw dict; MetricsJsonlCallback already
    # prints the same values as one readable line (and keeps them in metrics.jsonl).
    trainer.remove_callback(PrinterCallback)
    trainable, total_params = parameter_counts(trainer.model)
    logging.getLogger("transformers.trainer").addFilter(TiedKeysFilter(tied_parameter_names(model)))
    started = time.monotonic()
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    finally:
        if main:  # written even on Ctrl-C, so an interrupted run still has its trainer state
            trainer.state.save_to_json(str(run_dir / "trainer_state.json"))
    runtime = time.monotonic() - started + wall_offset
    trainer.save_model(str(run_dir / "model"))  # the best model when load_best_model_at_end
    if main:
        tokenizer.save_pretrained(str(run_dir / "model"))
    state = trainer.state
    return {
        "runtime_s": round(runtime, 3),
        **_price(cfg, m.hw),
        "n_train": len(train_ex),
        "n_val": len(val_ex),
        "trainable_params": trainable,
        "total_params": total_params,
        "total_steps": state.global_step,
        "stopped_early": 0 < state.global_step < state.max_steps,
        "best_step": state.best_global_step,
        "best_eval_loss": state.best_metric,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    run_dir = Path(argv[0]).resolve()
    resume = "--resume" in argv[1:]
    record = RunStore(run_dir.parent).read(run_dir.name)
    cfg = TrainConfig.model_validate(record.config)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        machine = check_machine(cfg)
    except GsmReportError as exc:
        # A setting this machine cannot run: one line, the usage exit code, nothing loaded.
        set_status(run_dir, "failed", error=str(exc))
        if is_main_process():
            print(f"error: {exc}", flush=True)
        return exc.exit_code
    if is_main_process():
        for warning in machine.warnings:
            print(f"[gsmreport] warning: {warning}", flush=True)
    set_status(
        run_dir,
        "running",
        hardware=machine.hw,
        versions=versions(),
        **process_facts(),
        optimizer=machine.optimizer,
        warnings=list(dict.fromkeys([*record.warnings, *machine.warnings])),
    )
    return run_guarded(run_dir, lambda: _train(run_dir, cfg, machine, resume))


if __name__ == "__main__":
    sys.exit(main())
