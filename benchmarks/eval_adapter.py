"""Evaluating a LoRA run: adapter merged into the weights (what `gsmreport eval --run` does)
against the adapter left as a peft wrapper, on the same model, problems and greedy decoding.

  measured   load_model() with the run's adapter: PeftModel, then merge_and_unload()
  baseline   the same PeftModel, unmerged (every wrapped Linear calls its adapter per token)

The model is a random-init Llama built locally (--hidden, --layers) with a random LoRA adapter
(r 8 on every linear layer, B initialised non-zero so that it changes the outputs). Prints the
problems/s of both, their ratio, and on how many problems the two wrote the same text (bf16
rounding differs between merged and unmerged weights, so a few may differ on a GPU).
Usage: python benchmarks/eval_adapter.py [--problems 64] [--hidden 256] [--layers 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

# A sibling script: run as `python benchmarks/eval_adapter.py`, benchmarks/ is on sys.path.
from eval_throughput import add_workload_args, measured, workload

from gsmreport.jobs.evaluate import build_prompts, select_docs
from gsmreport.jobs.generation import chat_renderer, generate, load_model


def _adapter(model_dir: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    lora = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), lora)
    peft_model.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out)  # as a run's model/ has it
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_workload_args(parser, hidden=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from peft import PeftModel

    root = Path(tempfile.mkdtemp(prefix="gsmreport-adapterbench-"))
    try:
        base_cfg = workload(root, args)
        model_dir = Path(base_cfg.model)
        cfg = base_cfg.model_copy(update={"adapter": str(_adapter(model_dir, root / "adapter"))})
        merged, tok = load_model(cfg)
        base, _ = load_model(base_cfg)
        assert cfg.adapter is not None  # set two lines up
        unmerged = PeftModel.from_pretrained(base, cfg.adapter).eval()
        docs = select_docs(cfg)
        prompts = build_prompts(cfg, docs, chat_renderer(tok))
        device = "cuda" if torch.cuda.is_available() else f"cpu ({args.threads} threads)"
        print(
            f"{args.layers} layers x {args.hidden} wide, LoRA r 8 on every linear, on {device}; "
            f"{len(docs)} problems, max_new_tokens {args.max_new_tokens}, batch {args.batch_size}"
        )
        timings: dict[str, list[float]] = {"merged": [], "unmerged": []}
        texts: dict[str, list[str]] = {}
        models = {"merged": merged, "unmerged": unmerged}
        for model in models.values():
            generate(model, tok, prompts[:2], cfg)  # warm-up: first-call allocations
        # Interleaved repeats, best of each: drift on a shared machine hits both alike.
        for _ in range(args.repeats):
            for name, model in models.items():
                seconds, texts[name] = measured(model, tok, cfg, docs, prompts)
                timings[name].append(seconds)
        best = {name: min(times) for name, times in timings.items()}
        n = len(docs)
        for label, name in (
            ("measured  merged adapter ", "merged"),
            ("baseline  peft wrapper   ", "unmerged"),
        ):
            runs = ", ".join(f"{t:.2f}" for t in timings[name])
            print(f"{label} best {best[name]:7.2f} s ({runs})  {n / best[name]:7.2f} problems/s")
        same = sum(a == b for a, b in zip(texts["merged"], texts["unmerged"], strict=True))
        print(f"same text: {same}/{n} problems")
        print(f"ratio     unmerged / merged time  {best['unmerged'] / best['merged']:6.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
