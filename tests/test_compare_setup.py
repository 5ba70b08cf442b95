"""The comparison report's set-up blocks (issue 14): one row per run, the evaluation set-up
(prompt, problems, seed), the eval-loss overlay, run ids that do not wrap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gsmreport.analysis.compare_runs import load_run
from gsmreport.analysis.stats import wilson_interval
from gsmreport.core.fmt import pct
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.report.compare_report import write_comparison
from gsmreport.report.compare_setup import RUN_COLUMNS, run_row, setup_context
from tests.run_fixtures import TRAIN, eval_log, jsonl_line, write_record
from tests.test_compare_report import PATTERNS, three_runs, train_run

STUDY_CONFIG = {  # as configs/studies/gemma-2b-it-gsm8k.yaml gives a LoRA run
    "model": "tiny-llama",
    "method": "lora",
    "lora": {"r": 16, "alpha": 32, "target_modules": ["q_proj", "v_proj"]},
    "training": {
        "learning_rate": 1e-5,
        "lr_scheduler": "cosine_with_min_lr",
        "min_lr": 1e-6,
        "warmup_ratio": 0.03,
        "optimizer": "adamw_bnb_8bit",
        "batch_size": 8,
        "grad_accum": 2,
    },
}


def _cells(md: str, run_id: str) -> dict[str, str]:
    line = next(x for x in md.splitlines() if x.startswith(f"| `{run_id}` |"))
    cells = [c.strip() for c in line.strip("|").split(" | ")]
    return dict(zip(RUN_COLUMNS, [cells[0].strip("`"), *cells[1:]], strict=True))


def test_one_row_per_run_from_each_runs_records(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    paths = write_comparison(RunStore(dirs.runs), ids, tmp_path / "out")
    md = paths.md.read_text()
    assert "| " + " | ".join(RUN_COLUMNS) + " |" in md
    lora, full, base = (_cells(md, rid) for rid in ids)
    # Only what run.yaml records: batch 8 × accum 4 on the 1 device its hardware names.
    assert lora["effective batch"] == "32 (8 × 4 accum × 1 device)"
    assert lora["optimizer"] == "not recorded" and lora["warm-up"] == "not recorded"
    assert lora["LoRA targets"] == "not recorded"
    assert lora["trainable parameters"] == "not recorded"
    assert full["LoRA targets"] == "— (full fine-tune)"
    assert lora["steps"] == str(TRAIN[-1][0])  # the last logged training step
    assert base["optimizer"] == "— (evaluation only)" and base["method"] == "none"
    correct, n = len(PATTERNS["lora-a"]), 10
    low, high = wilson_interval(correct, n)
    score = f"{pct(correct / n)} ({pct(low)} – {pct(high)}), n = {n}"
    assert lora["exact match (strict-match, 95 % CI)"] == score


def test_a_study_runs_optimizer_schedule_warmup_and_targets(tmp_path: Path, dirs: Dirs) -> None:
    run_dir = train_run(tmp_path, "lora-a")
    write_record(run_dir, method="lora", config=STUDY_CONFIG)
    row = dict(zip(RUN_COLUMNS, run_row(load_run(RunStore(dirs.runs), "lora-a")), strict=True))
    assert row["optimizer"] == "adamw_bnb_8bit"
    assert row["schedule"] == "lr 1e-05, cosine_with_min_lr to 1e-06"
    assert row["warm-up"] == "0.03 of steps"
    assert row["effective batch"] == "16 (8 × 2 accum × 1 device)"
    assert row["LoRA targets"] == "q_proj, v_proj"


def test_evaluation_setup_prompt_problems_and_seed(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    store = RunStore(dirs.runs)
    runs = [load_run(store, rid) for rid in ids]
    context = setup_context(runs)
    assert context["problems_note"] == (
        "Every run with samples answered the same 10 problems (same doc ids)."
    )
    assert context["eval_rows"][0] == (
        "lora-a",
        "e1",
        "test",
        "10",
        "not recorded",
        "zero-shot",
        "not recorded",
    )
    assert context["prompt_texts"] == []  # the fixture's samples keep no prompt

    # Prompts as lm-eval and our eval job write them (`arguments`), and a recorded seed.
    for rid in ("lora-a", "full-b"):
        eval_dir = dirs.runs / rid / "evals" / "e1"
        rows = [json.loads(x) for x in (eval_dir / "samples.jsonl").read_text().splitlines()]
        for row in rows:
            row["arguments"] = f"Question: {row['doc']['question']}\nAnswer:"
        (eval_dir / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        results = json.loads((eval_dir / "results.json").read_text())
        (eval_dir / "results.json").write_text(json.dumps(results | {"seed": 1234}))
    runs = [load_run(store, rid) for rid in ids]
    context = setup_context(runs)
    [prompt] = context["prompt_texts"]
    assert prompt.text == "Question: What is 0 + 10?\nAnswer:"
    assert prompt.run_ids == ("lora-a", "full-b")
    assert context["eval_rows"][1][4] == "1234"
    md = write_comparison(store, ids, tmp_path / "out").md.read_text()
    assert "Prompt of the first problem (lora-a, full-b), as the model saw it:" in md
    assert "Question: What is 0 + 10?" in md


def test_eval_loss_overlay_and_ids_that_do_not_wrap(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    metrics = dirs.runs / "lora-a" / "metrics.jsonl"
    extra = [jsonl_line(step, eval_log(step, loss, acc)) for step, loss, acc in [(30, 1.7, 0.6)]]
    metrics.write_text(metrics.read_text() + "\n".join(extra) + "\n")
    paths = write_comparison(RunStore(dirs.runs), ids, tmp_path / "out", html=True)
    md = paths.md.read_text()
    assert "![Eval loss of each run (as logged)](charts/eval_loss.png)" in md
    assert (tmp_path / "out" / "charts" / "eval_loss.png").read_bytes().startswith(b"\x89PNG")
    assert paths.html is not None
    html = paths.html.read_text()
    assert '<th class="run-id">lora-a</th>' in html
    assert ".run-id, table.compare thead th { white-space: nowrap; }" in html


def test_a_real_wandb_run_row_reads_its_config(tmp_path: Path, dirs: Dirs) -> None:
    """A real W&B run (HF Trainer names: optim, lr_scheduler_type, per_device_…), imported,
    compared with a helper run; each cell checked against the run's own config.yaml."""
    from gsmreport import pipeline
    from tests.conftest import shared_data
    from tests.test_ingest_wandb import RAJA, RAJA_RUN

    run = shared_data(*RAJA, RAJA_RUN)
    [outcome] = pipeline.import_logs(dirs, [run])
    assert outcome.error is None and outcome.run_id
    config = yaml.safe_load((run / "files" / "config.yaml").read_text())

    def value(key: str) -> Any:
        return config[key]["value"]

    train_run(tmp_path, "lora-a")
    ids = [outcome.run_id, "lora-a"]
    md = write_comparison(RunStore(dirs.runs), ids, tmp_path / "out").md.read_text()
    row = _cells(md, outcome.run_id)
    gpus = json.loads((run / "files" / "wandb-metadata.json").read_text())["gpu_count"]
    batch, accum = value("per_device_train_batch_size"), value("gradient_accumulation_steps")
    assert row["optimizer"] == value("optim")
    assert row["schedule"] == f"lr {float(value('learning_rate')):g}, {value('lr_scheduler_type')}"
    assert row["effective batch"] == (
        f"{batch * accum * gpus:g} ({batch:g} × {accum:g} accum × {gpus} devices)"
    )
    assert row["warm-up"] == "none"  # warmup_ratio 0 and warmup_steps 0 in its config
    assert row["trainable parameters"] == "not recorded"
    assert row["exact match (strict-match, 95 % CI)"] == "not measured"  # no evaluation
