"""The training job for real: tiny TRL trainings in child processes, a few seconds each.

Data families, the scheduler floor, the 8-bit fallback, early stopping with the best
checkpoint, W&B offline and TensorBoard files, SIGINT + --resume, SIGKILL, and QLoRA refused
on a CPU. No mocks: each test reads what the run folder holds afterwards.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from gsmreport import pipeline
from gsmreport.analysis.run_setup import training_setup
from gsmreport.core.config import TrainConfig, load_yaml_model
from gsmreport.core.errors import ConfigError, UsageError
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import generate, write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model
from gsmreport.jobs.train import planned_steps

pytestmark = pytest.mark.slow

QUICK = {"max_steps": 4, "learning_rate": 0.005, "batch_size": 8, "max_length": 160}


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the child inherits it; the machine is shared


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    data = write_gsm8k_folder(root / "data", n_train=80, n_test=10, seed=5)
    return build_tiny_model(root / "model", data / "train.jsonl"), data


@pytest.fixture(scope="module")
def chat_model(tiny: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a chat template, so the chat path of the job is exercised."""
    import shutil

    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("chat") / "model"
    shutil.copytree(tiny[0], out)
    tok = AutoTokenizer.from_pretrained(out)
    tok.chat_template = (
        "{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}"
        "{% if add_generation_prompt %}<s>assistant\n{% endif %}"
    )
    tok.save_pretrained(out)
    return out


def _config(path: Path, model: Path, data: dict[str, Any], **sections: Any) -> Path:
    cfg: dict[str, Any] = {"model": str(model), "data": data, **sections}
    cfg["training"] = {**QUICK, "logging_steps": 1, **sections.get("training", {})}
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def _events(run_dir: Path) -> list[dict[str, Any]]:
    """The trainer's log events (the machine samples between them left out)."""
    lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [event for event in map(json.loads, lines) if "logs" in event]


def _steps(run_dir: Path, key: str) -> list[int]:
    return [e["step"] for e in _events(run_dir) if key in e["logs"]]


def _family_data(tmp_path: Path, family: str) -> dict[str, Any]:
    problems = generate(40, seed=11)
    rows: list[dict[str, Any]]
    if family == "alpaca":
        rows = [
            {
                "instruction": p["question"],
                "input": "Show each step." if i % 2 else "",
                "output": p["answer"],
            }
            for i, p in enumerate(problems)
        ]
        path = tmp_path / "alpaca.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return {"source": "alpaca", "path": str(path)}
    if family == "messages":
        rows = [
            {
                "messages": [
                    {"role": "system", "content": "You solve word problems."},
                    {"role": "user", "content": p["question"]},
                    {"role": "assistant", "content": p["answer"]},
                ]
            }
            for p in problems
        ]
        path = tmp_path / "chat.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return {"source": "messages", "path": str(path)}
    folder = tmp_path / "custom"
    folder.mkdir()
    pl.DataFrame(
        {"problem": [p["question"] for p in problems], "solution": [p["answer"] for p in problems]}
    ).write_parquet(folder / "train.parquet")
    fields = {"prompt": "problem", "completion": "solution"}
    return {"source": "custom", "path": str(folder), "fields": fields}


@pytest.mark.parametrize(
    ("family", "chat"), [("alpaca", False), ("messages", True), ("custom", False)]
)
def test_each_data_family_trains(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path], chat_model: Path, family: str, chat: bool
) -> None:
    lines: list[str] = []
    model = chat_model if chat else tiny[0]
    cfg = _config(tmp_path / "c.yaml", model, _family_data(tmp_path, family))
    record = pipeline.train(dirs, cfg, run_id=f"f-{family}", on_line=lines.append)
    assert record.status == "completed", record.error
    assert record.model_extra and (record.model_extra["n_train"], record.model_extra["n_val"]) == (
        36,
        4,
    )
    assert any(("chat template" if chat else "plain prompts") in line for line in lines)
    # The job's output is one readable line per log, not the Trainer's raw dicts too, and no
    # progress-bar noise (it is a log file and the TUI's live view).
    assert sum(line.startswith("[gsmreport] step") for line in lines) >= 4
    assert not any(line.startswith("{'") or "Writing model shards" in line for line in lines)
    assert _steps(dirs.runs / f"f-{family}", "loss") == [1, 2, 3, 4]
    # The trainable parameters are the saved adapter's tensors, and the comparison's setup
    # table reads them from run.yaml.
    from safetensors import safe_open

    adapter = dirs.runs / f"f-{family}" / "model" / "adapter_model.safetensors"
    with safe_open(str(adapter), "pt") as tensors:
        saved = sum(math.prod(tensors.get_slice(k).get_shape()) for k in tensors.keys())  # noqa: SIM118
    extra = record.model_extra or {}
    assert extra["trainable_params"] == saved and extra["total_params"] > saved
    setup = training_setup(pipeline.analyse(dirs, f"f-{family}"))
    assert setup is not None and setup.trainable_params == saved
    assert record.data and family in record.data
    # The machine's memory and CPU during training, as system rows beside the log's.
    table = pl.read_parquet(dirs.runs / f"f-{family}" / "metrics.parquet")
    system = table.filter(pl.col("split") == "system")
    assert {"cpu", "proc.memory.rssMB"} <= set(system.get_column("metric").to_list())
    assert system.get_column("step").min() == 0 and system.get_column("step").max() == 4


def test_announced_steps_are_the_trainers_own(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    """The start line (the TUI's progress total) gives the Trainer's max_steps, whatever TRL
    did to the examples first: here it drops the ones truncation masked fully, so 36
    examples at batch 8 make 3 batches an epoch, and 1.5 epochs ceil(4.5) = 5 steps, where
    the example count alone says 8."""
    lines: list[str] = []
    training = {"max_steps": -1, "epochs": 1.5, "batch_size": 8}
    cfg = _config(tmp_path / "c.yaml", tiny[0], _family_data(tmp_path, "alpaca"), training=training)
    record = pipeline.train(dirs, cfg, run_id="planned", on_line=lines.append)
    assert record.status == "completed", record.error
    state = json.loads((dirs.runs / "planned" / "trainer_state.json").read_text())
    [start] = [line for line in lines if line.startswith("[gsmreport] training ")]
    assert start.endswith(f", {state['max_steps']} steps") and state["global_step"] > 0
    assert state["max_steps"] < planned_steps(36, 8, 1, 1, 1.5, -1)


def test_planned_steps_round_per_epoch_as_the_trainer_does() -> None:
    assert planned_steps(360, 16, 1, 1, 15, -1) == 345  # 23 batches x 15, not ceil(337.5)
    assert planned_steps(36, 8, 2, 1, 1.5, -1) == 5  # 5 batches -> 3 updates an epoch
    assert planned_steps(360, 16, 1, 2, 1, -1) == 12  # 23 batches dealt to 2 processes
    assert planned_steps(360, 16, 1, 1, 15, 40) == 40  # max_steps wins


def test_cosine_with_min_lr_stays_above_the_floor_and_8bit_falls_back(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    lines: list[str] = []
    training = {
        "max_steps": 8,
        "lr_scheduler": "cosine_with_min_lr",
        "min_lr": 0.001,
        "optimizer": "adamw_bnb_8bit",
    }
    cfg = _config(
        tmp_path / "c.yaml", tiny[0], {"path": str(tiny[1]), "val_fraction": 0.0}, training=training
    )
    record = pipeline.train(dirs, cfg, run_id="cos", on_line=lines.append)
    assert record.status == "completed", record.error
    warning = [line for line in lines if line.startswith("[gsmreport] warning:")]
    assert len(warning) == 1 and "adamw_bnb_8bit" in warning[0] and "adamw_torch" in warning[0]
    extra = record.model_extra or {}
    assert extra["optimizer"] == "adamw_torch" and "adamw_bnb_8bit" in record.warnings[0]
    lrs = [e["logs"]["learning_rate"] for e in _events(dirs.runs / "cos") if "loss" in e["logs"]]
    assert len(lrs) == 8 and min(lrs) >= 0.001
    assert lrs[-1] < 0.5 * lrs[0]  # it did decay towards the floor
    # cost: the CPU row of the dated table, with its source written beside it; the figures
    # themselves are the analysis's alone (run.yaml carries no second copy of them)
    assert "cost_usd" not in extra and "device_hours" not in extra
    assert record.price_per_device_hour == 0.0
    headline = pipeline.analyse(dirs, "cos").headline()
    assert headline.device_hours is not None and headline.device_hours > 0
    assert headline.cost_usd == 0.0
    assert record.price_source and "CPU" in record.price_source and "as of" in record.price_source


def test_wandb_offline_and_tensorboard_files_are_written(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    from gsmreport.ingest import tensorboard

    logging = {"wandb": "offline", "tensorboard": True, "wandb_project": "gsmreport-test"}
    cfg = _config(tmp_path / "c.yaml", tiny[0], {"path": str(tiny[1])}, logging=logging)
    record = pipeline.train(dirs, cfg, run_id="logs")
    assert record.status == "completed", record.error
    logs = dirs.runs / "logs" / "logs"
    assert list((logs / "wandb").glob("offline-run-*/run-*.wandb"))
    source = tensorboard.read(logs / "tensorboard")
    train = source.frame.filter((pl.col("metric") == "loss") & (pl.col("split") == "train"))
    assert sorted(train.get_column("step").to_list()) == [1, 2, 3, 4]
    assert (dirs.runs / "logs" / "metrics.jsonl").is_file()  # always, beside the others


def test_early_stopping_stops_before_max_steps_and_keeps_the_best_checkpoint(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    from safetensors.torch import load_file

    # A high learning rate on 8 examples: eval loss soon turns up, patience 1 stops it.
    training = {
        "max_steps": 60,
        "learning_rate": 0.05,
        "eval_steps": 2,
        "early_stopping_patience": 1,
        "save_total_limit": 1,
    }
    data = {"path": str(tiny[1]), "max_samples": 16, "val_fraction": 0.5}
    cfg = _config(tmp_path / "c.yaml", tiny[0], data, method="full", training=training)
    record = pipeline.train(dirs, cfg, run_id="es")
    assert record.status == "completed", record.error
    extra = record.model_extra or {}
    assert extra["stopped_early"] is True and extra["total_steps"] < 60
    evals = {
        e["step"]: e["logs"]["eval_loss"]
        for e in _events(dirs.runs / "es")
        if "eval_loss" in e["logs"]
    }
    best_step = min(evals, key=evals.__getitem__)
    assert (extra["best_step"], extra["best_eval_loss"]) == (
        best_step,
        pytest.approx(evals[best_step]),
    )
    best = dirs.runs / "es" / "checkpoints" / f"checkpoint-{best_step}"
    assert best.is_dir()
    saved = load_file(str(dirs.runs / "es" / "model" / "model.safetensors"))
    kept = load_file(str(best / "model.safetensors"))
    assert all(saved[k].equal(kept[k]) for k in kept)  # the run's model is the best one
    # A full fine-tune trains every parameter: the saved model's tensors, the tied lm_head
    # counted once in both.
    size = sum(t.numel() for t in saved.values())
    assert extra["trainable_params"] == extra["total_params"] == size
    # Loading the best checkpoint finds lm_head.weight "missing" (tied to the embeddings,
    # stored once): the Trainer's warning about it is dropped; nothing else is.
    log = (dirs.runs / "es" / "logs" / "stdout.log").read_text(encoding="utf-8")
    assert "[gsmreport] saved checkpoint" in log and "missing keys" not in log


def test_tied_keys_filter_drops_only_the_tied_missing_keys_warning(
    tiny: tuple[Path, Path],
) -> None:
    import logging

    from transformers import AutoModelForCausalLM

    from gsmreport.jobs.train import MISSING_KEYS, TiedKeysFilter, tied_parameter_names

    tied = tied_parameter_names(AutoModelForCausalLM.from_pretrained(tiny[0]))
    assert tied == {"lm_head.weight", "model.embed_tokens.weight"}
    keep = TiedKeysFilter(tied).filter

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("transformers.trainer", logging.WARNING, "", 0, message, (), None)

    assert not keep(record(MISSING_KEYS + "['lm_head.weight']."))
    assert keep(record(MISSING_KEYS + "['lm_head.weight', 'model.norm.weight']."))
    assert keep(record(MISSING_KEYS + "[]."))
    assert keep(record(MISSING_KEYS + "not a list"))
    assert keep(record("There were unexpected keys in the checkpoint model loaded: ['x']."))


def test_resume_after_sigint_continues_without_duplicated_steps(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    cancel = threading.Event()

    def on_line(line: str) -> None:
        if line == "[gsmreport] saved checkpoint-8":
            cancel.set()  # Ctrl-C in the CLI, or the TUI's cancel button

    training = {"max_steps": 16, "save_steps": 4, "eval_steps": 4}
    cfg = _config(tmp_path / "c.yaml", tiny[0], {"path": str(tiny[1])}, training=training)
    first = pipeline.train(dirs, cfg, run_id="rs", on_line=on_line, cancel=cancel)
    assert first.status == "interrupted"
    run_dir = dirs.runs / "rs"
    assert (run_dir / "checkpoints" / "checkpoint-8").is_dir()

    record = pipeline.resume(dirs, "rs")
    assert record.status == "completed", record.error
    assert (record.model_extra or {})["resumed_from"] == "checkpoint-8"
    assert _steps(run_dir, "loss") == list(range(1, 17))  # strictly increasing, none twice
    assert _steps(run_dir, "eval_loss") == [4, 8, 12, 16]
    walls = [e["wall_time"] for e in _events(run_dir) if "loss" in e["logs"]]
    assert walls == sorted(walls)
    table = pl.read_parquet(run_dir / "metrics.parquet").filter(
        (pl.col("metric") == "loss") & (pl.col("split") == "train")
    )
    assert table.get_column("step").to_list() == list(range(1, 17))
    with pytest.raises(UsageError, match="only an interrupted or failed training run"):
        pipeline.resume(dirs, "rs")


def test_resume_without_a_checkpoint_says_what_to_do(dirs: Dirs) -> None:
    store = RunStore(dirs.runs)
    store.create(RunRecord(id="nock", kind="train", status="interrupted"))
    with pytest.raises(UsageError, match=r"no checkpoint .* train it again under a new --run-id"):
        pipeline.resume(dirs, "nock")


def test_sigkill_loses_no_metrics_already_written(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    killed: list[int] = []

    def on_line(line: str) -> None:
        # The progress line is printed after its metrics line was fsynced.
        if line.startswith("[gsmreport] step 3/") and not killed:
            pid = int((RunStore(dirs.runs).read("kill").model_extra or {})["pid"])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    training = {"max_steps": 400}
    cfg = _config(tmp_path / "c.yaml", tiny[0], {"path": str(tiny[1])}, training=training)
    record = pipeline.train(dirs, cfg, run_id="kill", on_line=on_line)
    # Killed by a signal: an interruption (resumable), not a failure of the job's own.
    assert killed and record.status == "interrupted"
    assert record.error == "process vanished (killed by signal 9)"
    steps = _steps(dirs.runs / "kill", "loss")  # every line parses: json.loads above
    assert steps[:3] == [1, 2, 3]


def test_qlora_on_a_cpu_exits_2_with_one_line(
    tmp_path: Path, dirs: Dirs, tiny: tuple[Path, Path]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: qlora is allowed here, so there is no refusal to test")
    cfg = _config(tmp_path / "c.yaml", tiny[0], {"path": str(tiny[1])})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gsmreport",
            "train",
            str(cfg),
            "--run-id",
            "q",
            "--set",
            "method=qlora",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GSMREPORT_RUNS_DIR": str(dirs.runs)},
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: method qlora needs a CUDA GPU and bitsandbytes; use method: lora on a CPU"
    ]
    # Exit 2 is "bad input, nothing written" (issue 16 item 6): no failed run is left behind,
    # so the same --run-id works once the method is fixed.
    assert not (dirs.runs / "q").exists()


def test_cli_set_and_resume_mistakes_are_one_line_exit_2(tmp_path: Path, dirs: Dirs) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: org/m\n", encoding="utf-8")
    env = {**os.environ, "GSMREPORT_RUNS_DIR": str(dirs.runs)}
    for args, fragment in [
        (["train", str(cfg), "--set", "training.max_steps"], "expected KEY=VALUE"),
        (["train", "--resume", "x", str(cfg)], "--resume continues a run with its own saved"),
        (["train"], "give a run config (YAML), or --resume RUN_ID"),
        (["train", "--resume", "missing"], "run 'missing' not found"),
        (["train", "--resume", "x", "--dry-run"], "it takes no --dry-run, --slurm or --time"),
        (["train", "--resume", "x", "--slurm"], "it takes no --dry-run, --slurm or --time"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "gsmreport", *args], capture_output=True, text=True, env=env
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.splitlines() == [proc.stderr.strip()] and fragment in proc.stderr


def test_checkpoints_must_line_up_with_evaluations_for_the_best_model(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: m\ntraining: {save_steps: 6, eval_steps: 4}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"save_steps \(6\) must be a multiple of eval_steps"):
        load_yaml_model(cfg, TrainConfig)
    overrides = {"training.load_best_model_at_end": False}
    assert load_yaml_model(cfg, TrainConfig, overrides).training.save_steps == 6


def test_early_stopping_without_a_validation_split_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "model: m\ndata: {val_fraction: 0}\ntraining: {early_stopping_patience: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"needs data\.val_fraction > 0"):
        load_yaml_model(cfg, TrainConfig)
