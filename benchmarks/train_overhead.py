"""`gsmreport train` against a bare TRL SFTTrainer script: same tiny model, data and steps.

Builds the demo's tiny Llama and GSM8K-format data locally (no network), then times, each in
its own child process and interleaved so that drift on a shared machine hits both alike:

  measured   python -m gsmreport train CONFIG   (the CLI: run folder, job child process,
             metrics.jsonl, checkpoints, best model, ingest into metrics.parquet)
  baseline   a bare script: SFTTrainer with the same LoRA, steps, batch, eval and save cadence

and prints the medians of --repeats runs each and their ratio. Target (issue 3): <= 1.10x.
Usage: OMP_NUM_THREADS=1 python benchmarks/train_overhead.py [--steps 60] [--repeats 3]

On a CUDA machine, `--gpu` swaps the tiny model for a random ~90 M-parameter Llama of
SmolLM2-135M's width and depth (576 wide, 30 layers), batch 16, max length 512, bf16 for both
sides, and also prints training tokens/s (TRL's `num_tokens` over `train_runtime`): issue 3 asks
for bf16 tokens/s of a small LoRA run against the bare TRL script.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LR = 2e-4

BARE = """
import json, random, sys
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

model_dir, data_file, out_dir = sys.argv[1:4]
steps, every = int(sys.argv[4]), int(sys.argv[5])
tok = AutoTokenizer.from_pretrained(model_dir)
rows = [json.loads(line) for line in open(data_file)]
random.Random(0).shuffle(rows)
n_val = round(len(rows) * 0.1)
def rec(r):
    return {"prompt": f"Question: {r['question']}\\nAnswer:", "completion": " " + r["answer"]}
args = SFTConfig(
    output_dir=out_dir, max_steps=steps, per_device_train_batch_size=__BATCH__,
    per_device_eval_batch_size=__BATCH__, learning_rate=__LR__, logging_steps=1,
    eval_strategy="steps", eval_steps=every, save_strategy="steps", save_steps=every,
    save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="eval_loss",
    greater_is_better=False, max_length=__MAX_LENGTH__, report_to="none", use_cpu=not __GPU__,
    completion_only_loss=True, dataloader_num_workers=0, disable_tqdm=True, seed=42,
    # TRL's own defaults differ (bf16, gradient checkpointing, fused AdamW): match the config,
    # which picks bf16 on a GPU that supports it and fp32 on a CPU.
    bf16=__GPU__, gradient_checkpointing=False, optim="adamw_torch",
)
trainer = SFTTrainer(
    model=AutoModelForCausalLM.from_pretrained(model_dir), args=args,
    train_dataset=Dataset.from_list([rec(r) for r in rows[n_val:]]),
    eval_dataset=Dataset.from_list([rec(r) for r in rows[:n_val]]),
    processing_class=tok,
    peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules="all-linear",
                           task_type="CAUSAL_LM"),
)
out = trainer.train()
trainer.save_model(out_dir + "/model")
print("TRAIN_RUNTIME", out.metrics["train_runtime"])
tokens = [e["num_tokens"] for e in trainer.state.log_history if "num_tokens" in e]
print("NUM_TOKENS", tokens[-1] if tokens else 0)
"""


@dataclasses.dataclass(frozen=True)
class Shape:
    """Model and batch shape of one benchmark mode."""

    gpu: bool
    batch: int
    max_length: int
    hidden: int
    layers: int
    vocab: int


CPU_SHAPE = Shape(gpu=False, batch=8, max_length=192, hidden=64, layers=2, vocab=600)
GPU_SHAPE = Shape(gpu=True, batch=16, max_length=512, hidden=576, layers=30, vocab=4000)


def bare_script(shape: Shape) -> str:
    return (
        BARE.replace("__BATCH__", str(shape.batch))
        .replace("__LR__", repr(LR))
        .replace("__MAX_LENGTH__", str(shape.max_length))
        .replace("__GPU__", str(shape.gpu))
    )


def prepare(root: Path, steps: int, shape: Shape) -> tuple[Path, Path, Path, int]:
    """Model, data, our config and the bare script; returns them and the eval cadence."""
    from gsmreport.datasets.synthetic import write_gsm8k_folder
    from gsmreport.jobs.tiny_model import build_tiny_model

    data = write_gsm8k_folder(root / "data", n_train=2000 if shape.gpu else 400, n_test=10, seed=1)
    model = build_tiny_model(
        root / "model",
        data / "train.jsonl",
        vocab_size=shape.vocab,
        hidden_size=shape.hidden,
        layers=shape.layers,
    )
    every = max(1, steps // 5)
    config = root / "bench.yaml"
    config.write_text(
        f"model: {model}\nmethod: lora\ndata: {{path: {data}, val_fraction: 0.1}}\n"
        f"training: {{max_steps: {steps}, batch_size: {shape.batch}, "
        f"max_length: {shape.max_length}, "
        f"learning_rate: {LR}, logging_steps: 1, eval_steps: {every}, save_steps: {every}, "
        "save_total_limit: 2}\n",
        encoding="utf-8",
    )
    script = root / "bare_sft.py"
    script.write_text(bare_script(shape), encoding="utf-8")
    return model, data, config, every


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the child and everything it waited for) and its stdout.

    CPU seconds are printed beside the wall time because on a shared machine the wall time
    of the same command varies far more than the overhead being measured.
    """
    t0, c0 = time.perf_counter(), _cpu()
    proc = subprocess.run(
        cmd, check=True, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    return time.perf_counter() - t0, _cpu() - c0, proc.stdout


def _logged(root: Path, run_id: str, key: str) -> float:
    """The last value of `key` the trainer logged in our run's metrics.jsonl (0 if none)."""
    lines = (root / "runs" / run_id / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return next(
        (float(e["logs"][key]) for e in map(json.loads, reversed(lines)) if key in e["logs"]),
        0.0,
    )


def _printed(stdout: str, key: str) -> float:
    return float(stdout.split(key)[-1].split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    parser.add_argument(
        "--gpu", action="store_true", help="bf16 on CUDA with a ~90 M-parameter model"
    )
    args = parser.parse_args()
    shape = GPU_SHAPE if args.gpu else CPU_SHAPE
    root = args.keep or Path(tempfile.mkdtemp(prefix="gsmreport-train-bench-"))
    env = {**os.environ, "GSMREPORT_RUNS_DIR": str(root / "runs"), "WANDB_MODE": "disabled"}
    env.setdefault("OMP_NUM_THREADS", "1")
    # gsmreport's job sets this; the bare script gets it too so that both do the same work.
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        model, data, config, every = prepare(root, args.steps, shape)
        ours: list[float] = []
        bare: list[float] = []
        ours_cpu: list[float] = []
        bare_cpu: list[float] = []
        ours_in: list[float] = []
        bare_in: list[float] = []
        ours_tok: list[float] = []
        bare_tok: list[float] = []
        for i in range(args.repeats):
            run_id = f"bench-{i}"
            cli = [sys.executable, "-m", "gsmreport", "train", str(config), "--run-id", run_id]
            seconds, cpu, _ = _wall(cli, env)
            ours.append(seconds)
            ours_cpu.append(cpu)
            ours_in.append(_logged(root, run_id, "train_runtime"))
            ours_tok.append(_logged(root, run_id, "num_tokens") / ours_in[-1])
            out = root / f"bare-{i}"
            script = [sys.executable, str(root / "bare_sft.py"), str(model)]
            script += [str(data / "train.jsonl"), str(out), str(args.steps), str(every)]
            seconds, cpu, stdout = _wall(script, env)
            bare.append(seconds)
            bare_cpu.append(cpu)
            bare_in.append(_printed(stdout, "TRAIN_RUNTIME"))
            bare_tok.append(_printed(stdout, "NUM_TOKENS") / bare_in[-1])
        t_ours, t_bare = statistics.median(ours), statistics.median(bare)
        c_ours, c_bare = statistics.median(ours_cpu), statistics.median(bare_cpu)
        what = "bf16 LoRA on CUDA, ~90M-param Llama" if shape.gpu else "tiny LoRA on CPU"
        print(
            f"{what}, {args.steps} steps, batch {shape.batch}, max length {shape.max_length}, "
            f"eval+save every {every}, "
            f"OMP_NUM_THREADS={env['OMP_NUM_THREADS']}, {args.repeats} runs each (interleaved)"
        )
        for name, walls, cpus, inner, toks in (
            ("measured  gsmreport train (CLI)", ours, ours_cpu, ours_in, ours_tok),
            ("baseline  bare TRL SFTTrainer  ", bare, bare_cpu, bare_in, bare_tok),
        ):
            runs = ", ".join(f"{t:.2f}" for t in walls)
            print(
                f"{name}  median {statistics.median(walls):7.2f} s wall ({runs}); "
                f"{statistics.median(cpus):6.2f} s CPU; "
                f"inside trainer.train() {statistics.median(inner):6.2f} s, "
                f"{statistics.median(toks):,.0f} training tokens/s"
            )
        print(f"ratio     measured / baseline     {t_ours / t_bare:6.2f}x wall  (target <= 1.10x)")
        print(f"          measured / baseline     {c_ours / c_bare:6.2f}x CPU")
        tok_ratio = statistics.median(ours_tok) / statistics.median(bare_tok)
        print(f"          measured / baseline     {tok_ratio:6.2f}x training tokens/s")
        print(
            f"load      1-minute load average   {os.getloadavg()[0]:6.2f} on {os.cpu_count()} CPUs"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
