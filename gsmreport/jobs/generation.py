"""The model side of an evaluation: load it, generate greedily in batches, score gold answers.

Runs inside the eval job (the only place besides training that imports torch). Kept apart
from the job's bookkeeping so the throughput benchmark times exactly this code.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, NamedTuple

from gsmreport.core.config import EvalConfig
from gsmreport.gsm8k.prompts import ChatRenderer
from gsmreport.gsm8k.scoring import cut_at_stop


class Generated(NamedTuple):
    text: str  # decoded and cut at the first stop string
    n_tokens: int  # generated tokens before the end token (or all, when none came)
    truncated: bool  # hit max_new_tokens without an end token or a stop string


def load_model(cfg: EvalConfig) -> tuple[Any, Any]:
    """(model, tokenizer): a base or merged model folder or Hub id, plus a LoRA adapter;
    on one device (this rank's GPU, else the CPU) or spread by `cfg.device_map`."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # The job's output is a log (the CLI's --verbose, the TUI's live view): our own batch
    # lines say how far it is; "Loading weights" bars would only add noise.
    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(cfg.adapter or cfg.model)
    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow the prompt directly
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    # transformers 5 renamed torch_dtype to dtype; the old name still works before it.
    key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    placement: dict[str, Any] = {}
    if cfg.device_map is not None:
        # accelerate places the layers over every visible GPU (then the CPU) and moves the
        # activations between them itself: the model must not be moved again afterwards.
        placement["device_map"] = cfg.device_map
    model: Any = AutoModelForCausalLM.from_pretrained(cfg.model, **{key: dtype}, **placement)
    if cfg.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.adapter)
        # Fold the adapter into the base weights: the same function (up to rounding), without
        # a Python-level adapter call per wrapped module per token, which made LoRA evaluation
        # launch-bound on a GPU (benchmarks/eval_adapter.py measures the difference).
        model = model.merge_and_unload()
    if cuda and cfg.device_map is None:
        # Under `accelerate launch` each rank has its own GPU (LOCAL_RANK; 0 when alone).
        model = model.to(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")
    model.eval()
    return model, tokenizer


def chat_renderer(tokenizer: Any) -> ChatRenderer | None:
    if not getattr(tokenizer, "chat_template", None):
        return None

    def render(messages: list[dict[str, str]]) -> str:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return str(text)

    return render


def _end_ids(model: Any, tokenizer: Any) -> set[int]:
    """Token ids that end an answer: the tokenizer's EOS and the model's (e.g. <end_of_turn>)."""
    ids = {tokenizer.eos_token_id}
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos])
    return {int(i) for i in ids if i is not None}


def _answer_length(ids: list[int], end: set[int], pad: int) -> tuple[int, bool]:
    """(answer tokens, ended): the tokens before the first end token; generate() fills a row
    that a stop string ended with pad tokens, so a pad token ends it too."""
    for i, token in enumerate(ids):
        if token in end or token == pad:
            return i, True
    return len(ids), False


def _add_special_tokens(tokenizer: Any, prompts: list[str]) -> bool:
    """False when the prompts already start with BOS (chat templates write it themselves):
    a second BOS is a prompt the model never saw in training."""
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and all(p.startswith(bos) for p in prompts))


def _keep_last(model: Any, keep: int) -> dict[str, int]:
    """The forward() argument that computes logits for the last `keep` positions only
    (transformers >= 4.50: logits_to_keep; 4.45-4.49: num_logits_to_keep)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return {name: keep}
    return {}


def generate(model: Any, tokenizer: Any, prompts: list[str], cfg: EvalConfig) -> list[Generated]:
    """Greedy continuations of one batch; transformers stops each row at a stop string."""
    import torch

    special = _add_special_tokens(tokenizer, prompts)
    enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=special).to(
        model.device
    )
    stops = [s for s in cfg.stop if s]
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=cfg.max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            stop_strings=stops or None,
            tokenizer=tokenizer,  # stop_strings needs it to map strings to token sequences
        )
    end, pad = _end_ids(model, tokenizer), int(tokenizer.pad_token_id)
    results: list[Generated] = []
    for row in out[:, enc["input_ids"].shape[1] :].tolist():
        n, ended = _answer_length(row, end, pad)
        full = str(tokenizer.decode(row[:n], skip_special_tokens=True))
        # transformers matches stop strings on the tokens; the text is cut where lm-eval cuts
        text = cut_at_stop(full, stops)
        stopped = ended or text != full
        results.append(Generated(text, n, not stopped and n >= cfg.max_new_tokens))
    return results


def gold_losses(model: Any, tokenizer: Any, prompts: list[str], golds: list[str]) -> list[float]:
    """Mean NLL per token of each gold continuation given its prompt, in one forward pass.

    Prompt and continuation are tokenized apart so that exactly the continuation's tokens are
    scored. Rows are left-padded with explicit position ids, so every row's continuation
    ends at the last column and only the last columns' logits are computed (a 256k vocabulary
    times a 5-shot prompt would not fit otherwise).
    """
    import torch

    special = _add_special_tokens(tokenizer, prompts)
    pairs = [
        (
            tokenizer(p, add_special_tokens=special)["input_ids"],
            tokenizer(g, add_special_tokens=False)["input_ids"],
        )
        for p, g in zip(prompts, golds, strict=True)
    ]
    width = max(len(p) + len(g) for p, g in pairs)
    keep = max(len(g) for _, g in pairs) + 1
    ids = torch.full((len(pairs), width), int(tokenizer.pad_token_id), dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, (p, g) in enumerate(pairs):
        row = p + g
        ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
        labels[i, width - len(g) :] = torch.tensor(g)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    device = model.device
    with torch.no_grad():
        logits = model(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=positions.to(device),
            **_keep_last(model, keep),
        ).logits[:, -keep:]
    gold = labels[:, width - keep + 1 :].to(device)
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].float().transpose(1, 2), gold, ignore_index=-100, reduction="none"
    )
    counted = (gold != -100).sum(-1)
    return [float(x) for x in (nll.sum(-1) / counted).tolist()]
