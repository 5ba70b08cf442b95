"""Problems/s of our batched GSM8K evaluation, as ratios to two baselines (same model, same
problems, same greedy decoding and stop strings).

  measured   gsmreport's eval loop (jobs.evaluate.evaluate_docs): batches of --batch-size,
             left-padded, length-sorted; once without and once with the gold loss
  naive      model.generate on one problem at a time
  lm-eval    lm-evaluation-harness `simple_evaluate(model="hf")` on the same problems, zero-shot
             (skipped, with the reason, when `lm_eval` is not importable)

The model is a random-init Llama built locally (--hidden, --layers; tokenizer trained on the
generated problems), or --model PATH. A random model never writes EOS or a stop string, so
every problem runs to --max-new-tokens: no early finishers, which neither favours nor hurts
batching. Times exclude loading the model; threads are pinned (--threads) for steadiness.
Target (issue 3): measured / naive >= 4x at batch 16 on 64 problems; lm-eval >= 1x.
Usage: python benchmarks/eval_throughput.py [--problems 64] [--batch-size 16]
       [--max-new-tokens 64] [--hidden 512] [--layers 8] [--model PATH] [--threads 2]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from gsmreport.core.config import DataConfig, EvalConfig
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.evaluate import build_prompts, evaluate_docs, select_docs
from gsmreport.jobs.generation import chat_renderer, generate, load_model
from gsmreport.jobs.tiny_model import build_tiny_model


def naive(model: Any, tok: Any, prompts: list[str], cfg: EvalConfig) -> tuple[float, list[str]]:
    """One `generate` call per problem (what a first script does); same decoding settings."""
    one = cfg.model_copy(update={"batch_size": 1})
    t0 = time.perf_counter()
    texts = [generate(model, tok, [p], one)[0].text for p in prompts]
    return time.perf_counter() - t0, texts


def measured(
    model: Any, tok: Any, cfg: EvalConfig, docs: list[dict[str, str]], prompts: list[str]
) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    rows = evaluate_docs(model, tok, cfg, docs, prompts)
    return time.perf_counter() - t0, [r["resps"][0][0] for r in rows]


def lm_eval_seconds(model: Any, tok: Any, cfg: EvalConfig, data: Path, n: int) -> float:
    """lm-eval's hf backend on the same local problems through a task file of ours (its
    gsm8k task, zero-shot, pointed at local jsonl). It wraps the model already loaded, so,
    as for ours, the load is not timed; HFLM would otherwise default to CUDA, even on CPU."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    lm = HFLM(pretrained=model, tokenizer=tok, batch_size=cfg.batch_size, device=str(model.device))

    task_dir = Path(tempfile.mkdtemp(prefix="gsmreport-lmeval-"))
    stops = ", ".join(f'"{s}"' for s in cfg.stop)
    (task_dir / "gsm8k_local.yaml").write_text(
        "task: gsm8k_local\ndataset_path: json\n"
        f"dataset_kwargs: {{data_files: {{train: {data / 'train.jsonl'}, "
        f"test: {data / 'test.jsonl'}}}}}\n"
        "output_type: generate_until\ntraining_split: train\nfewshot_split: train\n"
        'test_split: test\ndoc_to_text: "Question: {{question}}\\nAnswer:"\n'
        'doc_to_target: "{{answer}}"\n'
        f"generation_kwargs: {{until: [{stops}], do_sample: false, "
        f"max_gen_toks: {cfg.max_new_tokens}}}\n"
        "num_fewshot: 0\nmetric_list: [{metric: exact_match}]\n"
    )
    try:
        t0 = time.perf_counter()
        lm_eval.simple_evaluate(
            model=lm,
            tasks=["gsm8k_local"],
            task_manager=TaskManager(include_path=str(task_dir)),
            limit=n,
        )
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(task_dir, ignore_errors=True)


def _line(label: str, seconds: float, n: int) -> str:
    return f"{label:<38} {seconds:8.2f} s  {n / seconds:8.2f} problems/s"


def add_workload_args(parser: argparse.ArgumentParser, *, hidden: int) -> None:
    """The problems and the random model every evaluation benchmark here builds."""
    parser.add_argument("--problems", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=hidden)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)


def workload(root: Path, args: argparse.Namespace, model: Path | None = None) -> EvalConfig:
    """Write the problems under `root`, build the model (unless given) and pin the threads;
    the evaluation settings, without gold loss (timed separately where it matters)."""
    import torch

    torch.set_num_threads(args.threads)
    data = write_gsm8k_folder(root / "data", n_train=200, n_test=args.problems, seed=5)
    model_dir = model or build_tiny_model(
        root / "model", data / "train.jsonl", hidden_size=args.hidden, layers=args.layers
    )
    return EvalConfig(
        model=str(model_dir),
        data=DataConfig(path=str(data)),
        n=args.problems,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        gold_loss=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workload_args(parser, hidden=512)
    parser.add_argument("--model", type=Path, help="a local model folder instead of a built one")
    args = parser.parse_args()

    import torch

    root = Path(tempfile.mkdtemp(prefix="gsmreport-evalbench-"))
    try:
        cfg = workload(root, args, args.model)
        data = Path(str(cfg.data.path))
        model, tok = load_model(cfg)
        params = sum(p.numel() for p in model.parameters())
        docs = select_docs(cfg)
        prompts = build_prompts(cfg, docs, chat_renderer(tok))
        device = "cuda" if torch.cuda.is_available() else f"cpu ({args.threads} threads)"
        print(
            f"model {params / 1e6:.1f} M parameters on {device}; {len(docs)} problems, "
            f"max_new_tokens {args.max_new_tokens}, batch {args.batch_size}"
        )
        generate(model, tok, prompts[:2], cfg)  # warm-up: first-call allocations
        t_ours, ours = measured(model, tok, cfg, docs, prompts)
        with_loss = cfg.model_copy(update={"gold_loss": True})
        t_loss, _ = measured(model, tok, with_loss, docs, prompts)
        t_naive, theirs = naive(model, tok, prompts, cfg)
        same = sum(a == b for a, b in zip(ours, theirs, strict=True))
        n = len(docs)
        print(_line("measured  batched eval, no gold loss", t_ours, n))
        print(_line("measured  batched eval + gold loss", t_loss, n))
        print(_line("naive     generate, one at a time", t_naive, n))
        print(f"same text as naive: {same}/{n} problems")
        print(f"ratio     naive / measured   {t_naive / t_ours:6.2f}x   (target >= 4x)")
        if importlib.util.find_spec("lm_eval") is None:
            print(
                "lm-eval   skipped: the lm_eval package is not importable here "
                "(pip install lm-eval to compare against its hf backend)"
            )
        else:
            t_lm = lm_eval_seconds(model, tok, cfg, data, n)
            print(_line("lm-eval   hf backend, same model", t_lm, n))
            print(f"ratio     lm-eval / measured {t_lm / t_ours:6.2f}x   (target >= 1x)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
