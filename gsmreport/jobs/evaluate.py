"""The evaluation child process: `python -m gsmreport.jobs.evaluate EVAL_DIR`.

Greedy, batched, left-padded generation that stops at the stop strings; both lm-eval
filters; the teacher-forced loss of each gold solution; one samples.jsonl row per problem
(lm-eval compatible fields plus ours) and a results.json written last, so its presence means
the evaluation completed. Reads top to bottom: select problems, build prompts, load the
model, then per batch generate, score and print one progress line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from gsmreport.core.config import EvalConfig
from gsmreport.core.errors import ConfigError
from gsmreport.core.fsutil import atomic_write_json, atomic_write_text
from gsmreport.core.liveness import process_facts
from gsmreport.core.runs import Hardware, RunStore, now_iso
from gsmreport.datasets import sampling
from gsmreport.datasets.gsm8k import load_split, sample
from gsmreport.gsm8k.prompts import (
    ChatRenderer,
    Doc,
    build_prompt,
    fewshot_exemplars,
    gold_continuation,
    n_shots,
)
from gsmreport.gsm8k.scoring import counts_and_metrics, sample_row
from gsmreport.jobs import shard
from gsmreport.jobs.common import (
    hardware,
    install_signal_handlers,
    is_main_process,
    run_guarded,
    versions,
    world_size,
)
from gsmreport.jobs.generation import chat_renderer, generate, gold_losses, load_model

# --- problems and prompts (no torch) ------------------------------------------------------


def select_docs(cfg: EvalConfig) -> list[Doc]:
    """The problems to evaluate, in doc id order.

    `validation` recreates the run's held-out share exactly as the train job split it (same
    sample, seed and fraction), so doc ids are indices into the train file, as in training.
    """
    if cfg.split != "validation":
        docs = sample(load_split(cfg.data, cfg.split), cfg.n, cfg.seed)
    else:
        rows = sample(load_split(cfg.data, "train"), cfg.data.max_samples, cfg.data.seed)
        _, held = sampling.train_val_split(rows, cfg.data.val_fraction, cfg.data.seed)
        if not held:
            raise ConfigError(
                "split validation: the run holds out no problems (data.val_fraction is 0); "
                "evaluate --split test instead"
            )
        # not gsm8k.sample: it would renumber doc ids, which must stay the train file's
        docs = sampling.sample(held, cfg.n, cfg.seed)
    return sorted(docs, key=lambda d: int(d["doc_id"]))


def build_prompts(cfg: EvalConfig, docs: list[Doc], chat: ChatRenderer | None) -> list[str]:
    k = n_shots(cfg.prompt_style)
    exemplars: dict[int, list[Doc]] = {}
    if k:
        pool = load_split(cfg.data, "train")
        ids = [int(d["doc_id"]) for d in docs]
        same = cfg.split != "test"  # train and validation problems come from the pool
        exemplars = fewshot_exemplars(pool, ids, k, cfg.fewshot_seed, same_split=same)
    return [
        build_prompt(
            cfg.prompt_style,
            d["question"],
            template=cfg.prompt_template,
            chat=chat,
            exemplars=exemplars.get(int(d["doc_id"]), []),
        )
        for d in docs
    ]


# --- the loop -----------------------------------------------------------------------------


def _eta(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def plan_batches(tokenizer: Any, prompts: list[str], batch_size: int) -> list[list[int]]:
    """The batches of one evaluation, as prompt indices: prompts of similar length together
    (longest first, so memory runs out at once if at all), which wastes less compute on
    padding than the sample's order would. Ties keep doc order (a stable sort), so every
    rank of a data-parallel evaluation computes the very same plan."""
    lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    order = sorted(range(len(prompts)), key=lambda i: -lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def evaluate_docs(
    model: Any,
    tokenizer: Any,
    cfg: EvalConfig,
    docs: list[Doc],
    prompts: list[str],
    on_line: Callable[[str], None] | None = None,
    batches: list[list[int]] | None = None,
) -> list[dict[str, Any]]:
    """One samples.jsonl row per problem of `batches` (default: plan_batches of all), in
    doc order."""
    if batches is None:
        batches = plan_batches(tokenizer, prompts, cfg.batch_size)
    rows = evaluate_batches(model, tokenizer, cfg, docs, prompts, batches, on_line)
    return [rows[i] for i in sorted(rows)]


def evaluate_batches(
    model: Any,
    tokenizer: Any,
    cfg: EvalConfig,
    docs: list[Doc],
    prompts: list[str],
    batches: list[list[int]],
    on_line: Callable[[str], None] | None = None,
) -> dict[int, dict[str, Any]]:
    """{prompt index: samples.jsonl row} for the problems of `batches`."""
    rows: dict[int, dict[str, Any]] = {}
    total = sum(len(idx) for idx in batches)
    started = time.monotonic()
    for b, idx in enumerate(batches):
        batch = [prompts[i] for i in idx]
        outs = generate(model, tokenizer, batch, cfg)
        losses: list[float | None] = [None] * len(idx)
        if cfg.gold_loss:
            golds = [gold_continuation(prompts[i], docs[i]["answer"]) for i in idx]
            losses = list(gold_losses(model, tokenizer, batch, golds))
        for i, out, loss in zip(idx, outs, losses, strict=True):
            rows[i] = sample_row(docs[i], prompts[i], out.text, out.n_tokens, out.truncated, loss)
        done, elapsed = len(rows), time.monotonic() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = _eta((total - done) / rate) if rate else "?"
        line = (
            f"[gsmreport] eval batch {b + 1}/{len(batches)}: {done}/{total} problems, "
            f"{rate:.2f} problems/s, ETA {eta}"
        )
        if on_line is not None:
            on_line(line)
    return rows


def _evaluate(eval_dir: Path, cfg: EvalConfig) -> dict[str, Any]:
    started = time.monotonic()
    docs = select_docs(cfg)
    model, tokenizer = load_model(cfg)
    # Every rank builds every prompt and the whole batch plan (cheap next to generation;
    # the plan sorts by every prompt's length), then generates its own share of the batches.
    prompts = build_prompts(cfg, docs, chat_renderer(tokenizer))
    plan = plan_batches(tokenizer, prompts, cfg.batch_size)
    mine = shard.my_batches(plan)
    say = print_line if is_main_process() else None
    if world_size() > 1 and say is not None:
        say(shard.plan_line(plan, len(docs)))
    part = evaluate_batches(model, tokenizer, cfg, docs, prompts, mine, say)
    merged = shard.merge_on_main(part, len(docs))
    if merged is None:  # not rank 0: its rows are with rank 0 now, which writes the files
        return {}
    return _write(eval_dir, cfg, merged, time.monotonic() - started)


def eval_hardware(cfg: EvalConfig) -> Hardware:
    """The devices this evaluation holds: one per process, or, for a model spread with
    device_map, every visible GPU (accelerate's "auto" balances the layers over all of
    them), so that the cost counts each one."""
    facts = hardware()
    if cfg.device_map is not None and facts.device == "cuda":
        import torch

        return facts.model_copy(update={"count": torch.cuda.device_count()})
    return facts


def print_line(line: str) -> None:
    print(line, flush=True)


def _write(
    eval_dir: Path, cfg: EvalConfig, rows: list[dict[str, Any]], runtime: float
) -> dict[str, Any]:
    n = len(rows)
    counts, metrics = counts_and_metrics(rows)
    atomic_write_text(eval_dir / "samples.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    losses = [r["loss"] for r in rows if "loss" in r]
    results = {
        "eval_id": eval_dir.name,
        "run_id": eval_dir.parent.parent.name,
        "model": cfg.model,
        "adapter": cfg.adapter,
        "n": n,
        "seed": cfg.seed,
        "split": cfg.split,
        "data": cfg.data.path or f"openai/gsm8k ({cfg.data.subset})",
        "prompt_style": cfg.prompt_style,
        "fewshot_seed": cfg.fewshot_seed if n_shots(cfg.prompt_style) else None,
        "stop": cfg.stop,
        "max_new_tokens": cfg.max_new_tokens,
        "batch_size": cfg.batch_size,
        "num_processes": world_size(),
        "device_map": cfg.device_map,
        "results": {"gsm8k": metrics},
        "counts": counts,
        "gold_loss_mean": sum(losses) / len(losses) if losses else None,
        "runtime_s": round(runtime, 3),
        "problems_per_s": round(n / runtime, 3) if runtime > 0 else None,
        "created_at": now_iso(),
        "hardware": eval_hardware(cfg).model_dump(),
        "versions": versions(),
    }
    atomic_write_json(eval_dir / "results.json", results)
    strict = counts["strict-match"]
    print(f"[gsmreport] exact match (strict) {strict['correct']}/{n}", flush=True)
    return {"runtime_s": round(runtime, 3)}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    eval_dir = Path(argv[0]).resolve()
    run_dir = eval_dir.parent.parent
    meta = yaml.safe_load((eval_dir / "eval.yaml").read_text(encoding="utf-8"))
    cfg = EvalConfig.model_validate(meta["config"])
    store = RunStore(run_dir.parent)
    record = store.read(run_dir.name)
    if record.kind == "eval":
        # An evaluation-only run: its status is the evaluation's status.
        if is_main_process():
            store.set_status(
                record.id,
                "running",
                hardware=eval_hardware(cfg),
                versions=versions(),
                **process_facts(),
            )
        return run_guarded(run_dir, lambda: _evaluate(eval_dir, cfg))
    install_signal_handlers()
    try:
        _evaluate(eval_dir, cfg)
    except KeyboardInterrupt:
        print("[gsmreport] evaluation interrupted; no results written", flush=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
