"""Machine samples of our own training: written by the callback, read back as system rows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
from transformers import TrainerControl, TrainerState, TrainingArguments

from gsmreport.analysis.series import run_series
from gsmreport.ingest.metrics_jsonl import read_metrics_jsonl
from gsmreport.jobs.callbacks import SystemMetricsCallback, system_sample
from tests.run_fixtures import write_metrics_jsonl


def test_a_sample_of_this_machine_has_cpu_and_memory() -> None:
    sample = system_sample()
    assert {"cpu", "memory_percent", "proc.memory.rssMB", "proc.memory.percent"} <= set(sample)
    assert sample["proc.memory.rssMB"] > 10  # this Python process, torch loaded
    assert 0 < sample["memory_percent"] <= 100


def test_callback_lines_are_read_as_system_rows_beside_the_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    path = write_metrics_jsonl(run_dir)
    callback = SystemMetricsCallback(path, interval_s=3600.0)
    state, control = TrainerState(), TrainerControl()
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    state.global_step = 0
    callback.on_train_begin(args, state, control)
    state.global_step = 5
    callback.on_step_end(args, state, control)  # within interval_s of the last sample: none
    state.global_step = 10
    time.sleep(0.01)
    callback.on_log(args, state, control, logs={"loss": 1.0})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    samples = [line for line in lines if "system" in line]
    assert [line["step"] for line in samples] == [0, 10]
    assert samples[1]["wall_time"] >= samples[0]["wall_time"]

    frame = read_metrics_jsonl(path, "r").frame
    system = frame.filter(pl.col("split") == "system")
    assert set(system["metric"]) >= {"cpu", "memory_percent", "proc.memory.rssMB"}
    assert sorted(set(system["step"])) == [0, 10]
    assert system["wall_time"].null_count() == 0
    # The training rows are untouched: no `wall_time` or `system` metric leaks into train.
    train = frame.filter(pl.col("split") == "train")
    assert not {"wall_time", "system"} & set(train["metric"])
    # ...and the run view draws them, after the training panels.
    titles = [p.title for p in run_series(frame).panels]
    assert titles[0] == "loss" and "system/proc.memory.rssMB" in titles
    assert titles.index("system/proc.memory.rssMB") > titles.index("learning_rate")


def test_a_sampler_that_fails_switches_itself_off(tmp_path: Path) -> None:
    def broken() -> dict[str, float]:
        raise RuntimeError("NVML gone")

    path = tmp_path / "metrics.jsonl"
    callback = SystemMetricsCallback(path, sample=broken)
    state = TrainerState()
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to=[])
    callback.on_train_begin(args, state, TrainerControl())
    callback.on_log(args, state, TrainerControl(), logs={"loss": 1.0})
    assert not path.exists()  # nothing written, training goes on
