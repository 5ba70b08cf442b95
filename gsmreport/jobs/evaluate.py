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
from gsmreport.core.runs import RunStore, now_iso
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
from gsmreport.jobs.common import hardware, install_signal_handlers, run_guarded, versions
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


def evaluate_docs(
    model: Any,
    tokenizer: Any,
    cfg: EvalConfig,
    docs: list[Doc],
    prompts: list[str],
    on_line: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """One samples.jsonl row per problem, in doc order.

    Batches group prompts of similar length (longest first, so memory runs out at once if at
    all), which wastes less compute on padding than the sample's order would.
    """
    lengths = [len(ids) for ids in tokenizer(prompts, add_special_tokens=False)["input_ids"]]
    order = sorted(range(len(docs)), key=lambda i: -lengths[i])
    rows: dict[int, dict[str, Any]] = {}
    n_batches = (len(order) + cfg.batch_size - 1) // cfg.batch_size
    started = time.monotonic()
    for b in range(n_batches):
        idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
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
        eta = _eta((len(docs) - done) / rate) if rate else "?"
        line = (
            f"[gsmreport] eval batch {b + 1}/{n_batches}: {done}/{len(docs)} problems, "
            f"{rate:.2f} problems/s, ETA {eta}"
        )
        if on_line is not None:
            on_line(line)
    return [rows[i] for i in range(len(docs))]


def _evaluate(eval_dir: Path, cfg: EvalConfig) -> dict[str, Any]:
    started = time.monotonic()
    docs = select_docs(cfg)
    model, tokenizer = load_model(cfg)
    prompts = build_prompts(cfg, docs, chat_renderer(tokenizer))
    rows = evaluate_docs(model, tokenizer, cfg, docs, prompts, lambda s: print(s, flush=True))
    return _write(eval_dir, cfg, rows, time.monotonic() - started)


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
        "results": {"gsm8k": metrics},
        "counts": counts,
        "gold_loss_mean": sum(losses) / len(losses) if losses else None,
        "runtime_s": round(runtime, 3),
        "problems_per_s": round(n / runtime, 3) if runtime > 0 else None,
        "created_at": now_iso(),
        "hardware": hardware().model_dump(),
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
        store.set_status(
            record.id, "running", hardware=hardware(), versions=versions(), **process_facts()
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
