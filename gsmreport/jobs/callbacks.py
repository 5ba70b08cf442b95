"""TrainerCallbacks of the training job: metrics.jsonl, and a line per saved checkpoint.

Flushing and fsyncing per line is what makes metrics.jsonl crash-safe: a SIGKILL loses at
most the line being written, and ingest skips a cut-off last line.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return value  # json.dumps writes NaN / Infinity tokens; ingest reads them back
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class MetricsJsonlCallback(TrainerCallback):
    def __init__(self, path: Path, *, echo: bool = True, wall_offset: float = 0.0) -> None:
        """`wall_offset`: seconds already spent before a resume, so wall_time keeps rising."""
        self.path = path
        self.echo = echo
        self.t0 = time.monotonic() - wall_offset
        self.max_steps = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self.max_steps = state.max_steps

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        event = {
            "step": int(state.global_step),
            "epoch": None if state.epoch is None else float(state.epoch),
            "wall_time": round(time.monotonic() - self.t0, 3),
            "logs": {k: _jsonable(v) for k, v in logs.items()},
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if self.echo:
            self._print(event)

    def _print(self, event: dict[str, Any]) -> None:
        logs = event["logs"]
        parts = [f"step {event['step']}/{self.max_steps}"]
        for key in ("loss", "eval_loss", "mean_token_accuracy", "learning_rate", "train_runtime"):
            if key in logs and isinstance(logs[key], float | int):
                parts.append(f"{key} {logs[key]:.4g}")
        print("[gsmreport] " + "  ".join(parts), flush=True)


class StartLineCallback(TrainerCallback):
    """Announces the run with the Trainer's own planned steps (`state.max_steps`, known once
    training begins), the figure the TUI's progress bar reads. An estimate made beforehand
    from the example count can be off: TRL drops examples whose labels truncation masked
    fully, and packing changes what a batch is."""

    def __init__(self, line: str) -> None:
        self.line = line  # with a `{steps}` field

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if state.is_world_process_zero:
            print(self.line.format(steps=state.max_steps), flush=True)


class CheckpointLineCallback(TrainerCallback):
    """Says when a checkpoint is on disk: from then on an interrupted run can be resumed."""

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if state.is_world_process_zero:
            print(f"[gsmreport] saved checkpoint-{state.global_step}", flush=True)


def system_sample() -> dict[str, float]:
    """One sample of this machine, in W&B's metric names (analysis/system.py reads them).

    CPU and memory from psutil (a dependency of accelerate, always there). GPUs through NVML
    when nvidia-ml-py is installed: every device, memory in use and utilisation, without
    touching CUDA; else through torch, only the device this process uses (asking torch about
    the others would open a CUDA context on each) and without utilisation, which needs NVML.
    """
    import psutil
    import torch

    proc = psutil.Process()
    sample: dict[str, float] = {
        "cpu": proc.cpu_percent(),  # this process, % of one core, since the previous call
        "memory_percent": psutil.virtual_memory().percent,
        "proc.memory.rssMB": proc.memory_info().rss / 2**20,
        "proc.memory.percent": proc.memory_percent(),
    }
    if not torch.cuda.is_available():
        return sample
    try:
        import pynvml  # type: ignore[import-not-found, unused-ignore]

        pynvml.nvmlInit()
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            sample[f"gpu.{index}.memoryAllocatedBytes"] = float(memory.used)
            sample[f"gpu.{index}.memoryAllocated"] = 100.0 * memory.used / memory.total
            sample[f"gpu.{index}.gpu"] = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        return sample
    except Exception:  # no NVML library or driver mismatch: torch's view of our device
        pass
    index = torch.cuda.current_device()
    free, total = torch.cuda.mem_get_info(index)
    sample[f"gpu.{index}.memoryAllocatedBytes"] = float(total - free)
    sample[f"gpu.{index}.memoryAllocated"] = 100.0 * (total - free) / total
    sample[f"gpu.{index}.torchPeakBytes"] = float(torch.cuda.max_memory_allocated(index))
    return sample


def _nothing() -> dict[str, float]:
    return {}


class SystemMetricsCallback(TrainerCallback):
    """GPU/CPU memory and utilisation into metrics.jsonl, as `{"system": {...}}` lines that
    ingest reads as `split = system` rows: at every log event, and between them every
    `interval_s` seconds, so a run with sparse logging still shows its memory over time."""

    def __init__(
        self,
        path: Path,
        *,
        interval_s: float = 15.0,
        wall_offset: float = 0.0,
        sample: Callable[[], dict[str, float]] = system_sample,
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self.t0 = time.monotonic() - wall_offset
        self.sample = sample
        self.last = -math.inf

    def _write(self, state: TrainerState) -> None:
        if not state.is_world_process_zero:
            return
        now = time.monotonic()
        try:
            values = self.sample()
        except Exception as exc:  # a metric we cannot read must never stop the training
            print(f"[gsmreport] system metrics off: {exc}", flush=True)
            self.sample = _nothing
            return
        self.last = now
        if not values:
            return
        event = {
            "step": int(state.global_step),
            "wall_time": round(now - self.t0, 3),
            "system": {k: round(v, 4) for k, v in values.items() if math.isfinite(v)},
        }
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(event) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self._write(state)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        self._write(state)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if time.monotonic() - self.last >= self.interval_s:
            self._write(state)
