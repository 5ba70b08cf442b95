"""Real training and evaluation of a tiny local model, in child processes, as users run them."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gsmreport import pipeline
from gsmreport.core.config import DataConfig
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    data = write_gsm8k_folder(root / "data", n_train=120, n_test=40, seed=3)
    model = build_tiny_model(root / "model", data / "train.jsonl")
    return model, data


def _config(tmp_path: Path, model: Path, data: Path, method: str, extra: str = "") -> Path:
    cfg = tmp_path / f"{method}.yaml"
    cfg.write_text(
        f"model: {model}\nmethod: {method}\ndata: {{path: {data}}}\n"
        "training: {epochs: 1, learning_rate: 0.005, batch_size: 16, max_length: 192, "
        "logging_steps: 1"
        f"{extra}}}\n"
    )
    return cfg


def test_lora_training_completes_and_changes_every_adapter(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    from safetensors.torch import load_file

    model, data = tiny
    record = pipeline.train(dirs, _config(tmp_path, model, data, "lora"), run_id="t-lora")
    assert record.status == "completed", record.error
    run_dir = dirs.runs / "t-lora"
    events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [e["step"] for e in events if "loss" in e.get("logs", {})]
    assert steps == list(range(1, len(steps) + 1))  # logging_steps 1: every optimizer step
    assert any("eval_loss" in e.get("logs", {}) for e in events)
    assert any("mean_token_accuracy" in e.get("logs", {}) for e in events)
    assert (run_dir / "trainer_state.json").is_file() and (run_dir / "metrics.parquet").is_file()
    weights = load_file(str(run_dir / "model" / "adapter_model.safetensors"))
    lora_b = [t for k, t in weights.items() if "lora_B" in k]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # B starts at zero: all were trained
    assert record.runtime_s and record.model_extra and record.model_extra["n_train"] == 108

    # evaluate the trained run: one row per problem, counts agree with the rows
    _, eval_id = pipeline.evaluate(dirs, run_id="t-lora", n=8, max_new_tokens=24, batch_size=4)
    eval_dir = run_dir / "evals" / eval_id
    rows = [json.loads(line) for line in (eval_dir / "samples.jsonl").read_text().splitlines()]
    results = json.loads((eval_dir / "results.json").read_text())
    assert len(rows) == 8 == results["n"]
    for f in ("strict-match", "flexible-extract"):
        assert results["counts"][f]["correct"] == sum(r["exact_match"][f] for r in rows)
    assert {r["doc_id"] for r in rows} <= set(range(40))
    assert results["adapter"] == str((run_dir / "model").resolve())


def test_base_model_eval_is_its_own_run(dirs: Dirs, tiny: tuple[Path, Path]) -> None:
    model, data = tiny
    rid, _ = pipeline.evaluate(
        dirs,
        model=str(model),
        eval_run_id="base",
        data=DataConfig(path=str(data)),
        n=6,
        max_new_tokens=16,
        batch_size=6,
        prompt_style="one-shot",
    )
    record = RunStore(dirs.runs).read(rid)
    assert (record.kind, record.status) == ("eval", "completed")


def test_cancel_interrupts_and_keeps_metrics(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    model, data = tiny
    cancel = threading.Event()

    def on_line(line: str) -> None:
        if line.startswith("[gsmreport] step 3/"):
            cancel.set()  # as the TUI's cancel button or Ctrl-C would

    cfg = _config(tmp_path, model, data, "full", extra=", max_steps: 400")
    record = pipeline.train(dirs, cfg, run_id="t-cancel", on_line=on_line, cancel=cancel)
    assert record.status == "interrupted"
    lines = (dirs.runs / "t-cancel" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) >= 3 and all(json.loads(line) for line in lines)
    assert (dirs.runs / "t-cancel" / "metrics.parquet").is_file()


def test_exception_in_job_marks_failed_with_traceback(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    model, _ = tiny
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train.jsonl").write_text('{"question": "q"}\n')
    record = pipeline.train(dirs, _config(tmp_path, model, bad, "lora"), run_id="t-fail")
    assert record.status == "failed"
    assert record.error and "expected an object with question and answer" in record.error
    assert "Traceback" in (dirs.runs / "t-fail" / "logs" / "stdout.log").read_text()
