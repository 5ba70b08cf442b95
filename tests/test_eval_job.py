"""The evaluation job on a real tiny model: prompt styles through the CLI, stop strings, gold
loss, the validation split, `--all`, and `--from-lm-eval` against lm-eval's own scores."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gsmreport import pipeline
from gsmreport.core.config import DataConfig, EvalConfig, TrainConfig
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.formats import load_examples
from gsmreport.datasets.sampling import sample, train_val_split
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.gsm8k.answers import LM_EVAL_FILTERS
from gsmreport.gsm8k.prompts import gold_continuation
from gsmreport.jobs.evaluate import build_prompts, select_docs
from gsmreport.jobs.generation import chat_renderer, gold_losses, load_model
from gsmreport.jobs.tiny_model import build_tiny_model
from tests.conftest import run_cli, shared_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    data = write_gsm8k_folder(root / "data", n_train=120, n_test=40, seed=3)
    return build_tiny_model(root / "model", data / "train.jsonl"), data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny: tuple[Path, Path]) -> Dirs:
    """One real TRL full fine-tune (a few seconds of steps): learns the answers' wording."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    model, data = tiny
    root = tmp_path_factory.mktemp("trained")
    dirs = Dirs(runs=root / "runs", reports=root / "reports")
    cfg = root / "full.yaml"
    cfg.write_text(
        f"model: {model}\nmethod: full\n"
        f"data: {{path: {data}, seed: 7, max_samples: 100, val_fraction: 0.1}}\n"
        "training: {epochs: 2, learning_rate: 0.02, batch_size: 8, max_length: 192}\n"
    )
    record = pipeline.train(dirs, cfg, run_id="t-full")
    assert record.status == "completed", record.error
    return dirs


def _rows(eval_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (eval_dir / "samples.jsonl").read_text().splitlines()]


def _config(model: Path, data: Path, **settings: Any) -> EvalConfig:
    return EvalConfig(model=str(model), data=DataConfig(path=str(data)), **settings)


def _shuffled(answer: str) -> str:
    words = answer.split(" ")
    random.Random(0).shuffle(words)
    return " ".join(words)


# --- gold loss -----------------------------------------------------------------------------


def test_gold_loss_equals_a_direct_nll_per_problem(tiny: tuple[Path, Path]) -> None:
    """Batched, left-padded, last-columns-only loss == HF's own loss on each problem alone."""
    import torch
    from peft import LoraConfig, get_peft_model

    model_dir, data = tiny
    model, tok = load_model(_config(model_dir, data))
    torch.manual_seed(0)  # LoRA B initialised non-zero so the adapter changes the outputs
    lora = LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)
    for candidate in (model, get_peft_model(model, lora).eval()):
        cfg = _config(model_dir, data, n=6, prompt_style="5-shot")
        docs = select_docs(cfg)
        # mixed lengths in one batch: 5-shot and zero-shot prompts, so padding matters
        prompts = build_prompts(cfg, docs[:3], None) + [
            f"Question: {d['question']}\nAnswer:" for d in docs[3:]
        ]
        golds = [gold_continuation(p, d["answer"]) for p, d in zip(prompts, docs, strict=True)]
        batched = gold_losses(candidate, tok, prompts, golds)
        for prompt, gold, loss in zip(prompts, golds, batched, strict=True):
            p_ids = tok(prompt)["input_ids"]
            g_ids = tok(gold, add_special_tokens=False)["input_ids"]
            ids = torch.tensor([p_ids + g_ids])
            labels = torch.tensor([[-100] * len(p_ids) + g_ids])
            with torch.no_grad():
                direct = float(candidate(input_ids=ids, labels=labels).loss)
            assert math.isfinite(loss)
            assert loss == pytest.approx(direct, rel=1e-4)


def test_a_runs_adapter_is_merged_and_computes_what_the_peft_wrapper_does(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    """load_model folds a LoRA adapter into the weights (faster generation); in fp32 the
    logits must match the unmerged peft model's, and the adapter must have changed them."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_dir, data = tiny
    torch.manual_seed(0)
    lora = LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False)
    get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir), lora).save_pretrained(
        str(tmp_path / "adapter")
    )
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(tmp_path / "adapter")
    merged, tok = load_model(_config(model_dir, data, adapter=str(tmp_path / "adapter")))
    assert not isinstance(merged, PeftModel)
    assert not any("lora_" in name for name, _ in merged.named_parameters())
    base, _ = load_model(_config(model_dir, data))
    ids = tok(["Question: Tom has 3 apples and buys 4 more.\nAnswer:"], return_tensors="pt")
    with torch.no_grad():
        plain = base(**ids).logits
        wrapped = PeftModel.from_pretrained(base, str(tmp_path / "adapter")).eval()(**ids).logits
        folded = merged(**ids).logits
    assert torch.allclose(folded, wrapped, atol=1e-4)
    assert not torch.allclose(folded, plain, atol=1e-3)


def test_gold_loss_is_lower_for_the_gold_than_for_a_shuffled_answer(
    trained: Dirs, tiny: tuple[Path, Path]
) -> None:
    _, data = tiny
    cfg = _config(trained.runs / "t-full" / "model", data, n=20)
    model, tok = load_model(cfg)
    docs = select_docs(cfg)
    prompts = build_prompts(cfg, docs, None)

    def losses(answer: Callable[[str], str]) -> list[float]:
        golds = [
            gold_continuation(p, answer(d["answer"])) for p, d in zip(prompts, docs, strict=True)
        ]
        return gold_losses(model, tok, prompts, golds)

    gold, mixed = losses(str), losses(_shuffled)
    assert sum(gold) / len(gold) < sum(mixed) / len(mixed)
    assert sum(g < m for g, m in zip(gold, mixed, strict=True)) >= 0.8 * len(gold)


CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def test_chat_template_prompts_get_one_bos(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    """A template that writes BOS itself: generation and gold loss must not add a second."""
    import torch
    from transformers import AutoTokenizer

    model_dir, data = tiny
    chat_dir = tmp_path / "chat-model"
    shutil.copytree(model_dir, chat_dir)
    tok = AutoTokenizer.from_pretrained(chat_dir)
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(chat_dir)
    cfg = _config(chat_dir, data, n=3, prompt_style="one-shot")
    model, tok = load_model(cfg)
    docs = select_docs(cfg)
    prompts = build_prompts(cfg, docs, chat_renderer(tok))
    assert prompts[0].startswith("<s><|user|>You are a helpful math assistant.")
    assert prompts[0].endswith(f"<|user|>{docs[0]['question']}\n<|assistant|>\n")
    golds = [gold_continuation(p, d["answer"]) for p, d in zip(prompts, docs, strict=True)]
    assert golds[0] == docs[0]["answer"]  # the opened turn ends in a newline: no space
    losses = gold_losses(model, tok, prompts, golds)
    for prompt, gold, loss in zip(prompts, golds, losses, strict=True):
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        assert p_ids.count(tok.bos_token_id) == 1
        g_ids = tok(gold, add_special_tokens=False)["input_ids"]
        labels = torch.tensor([[-100] * len(p_ids) + g_ids])
        with torch.no_grad():
            direct = float(model(input_ids=torch.tensor([p_ids + g_ids]), labels=labels).loss)
        assert loss == pytest.approx(direct, rel=1e-4)


# --- generation ----------------------------------------------------------------------------


def test_answer_length_counts_the_tokens_before_the_end() -> None:
    from gsmreport.jobs.generation import _answer_length

    assert _answer_length([5, 6, 2, 0], {2}, 0) == (2, True)  # EOS emitted, then padding
    assert _answer_length([5, 6, 0, 0], {2}, 0) == (2, True)  # a stop string ended the row
    assert _answer_length([5, 6, 7], {2}, 0) == (3, False)  # ran to max_new_tokens


def test_stop_strings_cut_each_answer(trained: Dirs, tiny: tuple[Path, Path]) -> None:
    from gsmreport.jobs.generation import generate

    _, data = tiny
    model_dir = trained.runs / "t-full" / "model"
    free = _config(model_dir, data, n=8, max_new_tokens=40, stop=[])
    model, tok = load_model(free)
    prompts = build_prompts(free, select_docs(free), None)
    unstopped = generate(model, tok, prompts, free)
    assert any("\n" in g.text for g in unstopped)  # the trained model writes several lines
    stopped = generate(model, tok, prompts, free.model_copy(update={"stop": ["\n"]}))
    assert all("\n" not in g.text for g in stopped)
    for before, after in zip(unstopped, stopped, strict=True):
        assert before.text.startswith(after.text)
        if "\n" in before.text:  # stopped at the line end: shorter and not truncated
            assert after.n_tokens < before.n_tokens and not after.truncated


def test_validation_split_is_the_runs_held_out_problems(trained: Dirs) -> None:
    run_id, eval_id = pipeline.evaluate(
        trained, run_id="t-full", split="validation", n=None, max_new_tokens=4, batch_size=8
    )
    record = RunStore(trained.runs).read(run_id)
    tcfg = TrainConfig.model_validate(record.config)
    # the held-out problems as the train job itself picks them
    examples = sample(load_examples(tcfg.data, tcfg.prompt_template), 100, 7)
    _, held = train_val_split(examples, 0.1, 7)
    rows = _rows(trained.runs / run_id / "evals" / eval_id)
    assert sorted(r["doc_id"] for r in rows) == sorted(int(e.doc_id) for e in held)
    assert len(rows) == record.model_extra["n_val"] == 10  # type: ignore[index]
    assert eval_id.startswith("validation-all-")
    assert all(math.isfinite(r["loss"]) for r in rows)
    for row, example in zip(rows, sorted(held, key=lambda e: int(e.doc_id)), strict=True):
        assert example.text == row["arguments"]  # same problem, same prompt as in training


def test_all_evaluates_every_problem(dirs: Dirs, tiny: tuple[Path, Path]) -> None:
    model, data = tiny
    rid, eval_id = pipeline.evaluate(
        dirs,
        model=str(model),
        eval_run_id="every",
        data=DataConfig(path=str(data)),
        n=None,
        max_new_tokens=2,
        gold_loss=False,
    )
    eval_dir = dirs.runs / rid / "evals" / eval_id
    rows = _rows(eval_dir)
    assert [r["doc_id"] for r in rows] == list(range(40))
    assert all("loss" not in r and r["n_tokens"] <= 2 for r in rows)
    results = json.loads((eval_dir / "results.json").read_text())
    assert results["n"] == 40 and results["gold_loss_mean"] is None
    assert eval_id.startswith("test-all-")


# --- the CLI -------------------------------------------------------------------------------


def gsm(*args: str, dirs: Dirs) -> subprocess.CompletedProcess[str]:
    env = {"GSMREPORT_RUNS_DIR": str(dirs.runs), "OMP_NUM_THREADS": "1"}
    return run_cli(*args, timeout=300, env=env)


@pytest.mark.parametrize(
    ("flags", "style", "questions"),
    [
        (["--prompt-style", "zero-shot"], "zero-shot", 1),
        (["--prompt-style", "one-shot"], "one-shot", 2),
        (["--one-shot"], "one-shot", 2),
        (["--prompt-style", "5-shot", "--fewshot-seed", "3"], "5-shot", 6),
        (["--prompt-style", "8-shot"], "8-shot", 9),
    ],
)
def test_cli_eval_with_each_prompt_style(
    dirs: Dirs, tiny: tuple[Path, Path], flags: list[str], style: str, questions: int
) -> None:
    model, data = tiny
    args = ["eval", "--model", str(model), "--data", str(data), "-n", "3", "--run-id", "cli"]
    proc = gsm(
        *args, "--max-new-tokens", "4", "--batch-size", "2", "--stop", "##", *flags, dirs=dirs
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[gsmreport] eval batch 2/2: 3/3 problems" in proc.stdout
    assert "problems/s, ETA" in proc.stdout
    (eval_dir,) = (dirs.runs / "cli" / "evals").iterdir()
    results = json.loads((eval_dir / "results.json").read_text())
    assert (results["prompt_style"], results["n"], results["stop"]) == (style, 3, ["##"])
    rows = _rows(eval_dir)
    assert all(r["arguments"].count("Question:") == questions for r in rows)
    assert all(r["arguments"].endswith(f"Question: {r['doc']['question']}\nAnswer:") for r in rows)
    assert all(math.isfinite(r["loss"]) for r in rows)


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--one-shot", "--prompt-style", "5-shot"], "--one-shot contradicts"),
        (["-n", "5", "--all"], "give -n N or --all, not both"),
        (["--prompt-style", "3-shot"], "3-shot"),
    ],
)
def test_cli_contradictions_are_one_line_errors(
    dirs: Dirs, tiny: tuple[Path, Path], flags: list[str], fragment: str
) -> None:
    proc = gsm("eval", "--model", str(tiny[0]), *flags, dirs=dirs)
    assert proc.returncode == 2
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert not dirs.runs.exists() or not any(dirs.runs.iterdir())


def test_cli_from_lm_eval_scores_equal_lm_evals_on_every_row(dirs: Dirs) -> None:
    files = sorted(shared_data("real-logs", "lm-eval").glob("*samples_gsm8k_*.jsonl"))
    proc = gsm("eval", "--from-lm-eval", *map(str, files), dirs=dirs)
    assert proc.returncode == 0, proc.stderr
    samples = sorted(dirs.runs.glob("*/evals/*/samples.jsonl"))
    assert len(samples) == len(files) == 2
    rows = [json.loads(line) for path in samples for line in path.read_text().splitlines()]
    assert len(rows) == 10 + 1
    for row in rows:
        for name in LM_EVAL_FILTERS:  # numeric-match is ours alone: lm-eval has no such score
            assert row["exact_match"][name] == row["lm_eval_exact_match"][name], row["doc_id"]
            raw = row["filtered_resps"][name]
            assert isinstance(raw, str)  # lm-eval's filtered string, "[invalid]" included

    # --run adds the evaluations to a run of ours instead of making new runs
    RunStore(dirs.runs).create(RunRecord(id="mine", kind="train", status="completed"))
    proc = gsm("eval", "--from-lm-eval", *map(str, files), "--run", "mine", dirs=dirs)
    assert proc.returncode == 0, proc.stderr
    assert len(list((dirs.runs / "mine" / "evals").iterdir())) == 2


def test_cli_from_lm_eval_refuses_other_logs(dirs: Dirs, tmp_path: Path) -> None:
    state = tmp_path / "trainer_state.json"
    state.write_text(json.dumps({"log_history": [{"step": 1, "loss": 1.0}], "global_step": 1}))
    proc = gsm("eval", "--from-lm-eval", str(state), dirs=dirs)
    assert proc.returncode == 2
    assert "not lm-eval's" in proc.stderr and "Traceback" not in proc.stderr
    assert not dirs.runs.exists() or not any(dirs.runs.iterdir())
