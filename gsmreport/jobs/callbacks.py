"""TrainerCallbacks of the training job: metrics.jsonl, and a line per saved checkpoint.

Flushing and fsyncing per line is what makes metrics.jsonl crash-safe: a SIGKILL loses at
most the line being written, and ingest skips a cut-off last line.
"""

from __future__ import annotations

import json
import math
import os
import time
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


class CheckpointLineCallback(TrainerCallback):
    """Says when a checkpoint is on disk: from then on an interrupted run can be resumed."""

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        if state.is_world_process_zero:
            print(f"[gsmreport] saved checkpoint-{state.global_step}", flush=True)
