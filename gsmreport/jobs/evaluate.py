"""The evaluation child process: `python -m gsmreport.jobs.evaluate EVAL_DIR`.

Greedy, batched, left-padded generation on a seeded sample of GSM8K problems; both lm-eval
filters; one samples.jsonl row per problem (lm-eval compatible fields plus ours) and a
results.json written last, so its presence means the evaluation completed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from gsmreport.config import EvalConfig
from gsmreport.datasets.gsm8k import load_split, sample
from gsmreport.fsutil import atomic_write_json, atomic_write_text
from gsmreport.jobs.common import hardware, install_signal_handlers, run_guarded, versions
from gsmreport.runs import RunStore, now_iso
from gsmreport.scoring import counts_and_metrics, sample_row

INSTRUCTION = (
    "You are a helpful math assistant. Please provide a step-by-step derivation and end your "
    "answer with the final numerical result in the format '#### <number>'."
)
# GSM8K train[0], the one-shot example the gemma-2b-it study used.
ONE_SHOT_Q = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?"
)
ONE_SHOT_A = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
    "altogether in April and May.\n#### 72"
)


def build_prompt(cfg: EvalConfig, question: str, tokenizer: Any) -> str:
    if getattr(tokenizer, "chat_template", None):
        messages: list[dict[str, str]] = []
        if cfg.prompt_style == "one-shot":
            messages += [
                {"role": "user", "content": f"{INSTRUCTION}\n\n{ONE_SHOT_Q}"},
                {"role": "assistant", "content": ONE_SHOT_A},
            ]
        messages.append({"role": "user", "content": question})
        return str(
            tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        )
    prompt = cfg.prompt_template.format(question=question)
    if cfg.prompt_style == "one-shot":
        shot = cfg.prompt_template.format(question=ONE_SHOT_Q) + " " + ONE_SHOT_A
        prompt = f"{INSTRUCTION}\n\n{shot}\n\n{prompt}"
    return prompt


def _evaluate(eval_dir: Path, cfg: EvalConfig) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(cfg.adapter or cfg.model)
    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model: Any = AutoModelForCausalLM.from_pretrained(cfg.model)
    if cfg.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.adapter)
    if torch.cuda.is_available():
        model = model.to("cuda")
    model.eval()
    docs = sample(load_split(cfg.data, cfg.split), cfg.n, cfg.seed)
    rows: list[dict[str, Any]] = []
    n_batches = (len(docs) + cfg.batch_size - 1) // cfg.batch_size
    for b in range(n_batches):
        batch = docs[b * cfg.batch_size : (b + 1) * cfg.batch_size]
        prompts = [build_prompt(cfg, d["question"], tokenizer) for d in batch]
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=True)
        enc = {k: v.to(model.device) for k, v in enc.items()}
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=cfg.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        for doc, prompt, ids in zip(batch, prompts, new, strict=True):
            tokens = [int(t) for t in ids if int(t) != tokenizer.pad_token_id]
            ended = tokenizer.eos_token_id in tokens
            n_tokens = tokens.index(tokenizer.eos_token_id) + 1 if ended else len(tokens)
            text = str(tokenizer.decode(tokens[:n_tokens], skip_special_tokens=True))
            rows.append(
                sample_row(
                    doc, prompt, text, n_tokens, not ended and n_tokens >= cfg.max_new_tokens
                )
            )
        print(f"[gsmreport] eval batch {b + 1}/{n_batches}", flush=True)
    return _write(eval_dir, cfg, rows, time.monotonic() - started)


def _write(
    eval_dir: Path, cfg: EvalConfig, rows: list[dict[str, Any]], runtime: float
) -> dict[str, Any]:
    n = len(rows)
    counts, metrics = counts_and_metrics(rows)
    atomic_write_text(eval_dir / "samples.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
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
        "max_new_tokens": cfg.max_new_tokens,
        "results": {"gsm8k": metrics},
        "counts": counts,
        "runtime_s": round(runtime, 3),
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
        store.set_status(record.id, "running", hardware=hardware(), versions=versions())
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
