"""What every reader returns: the metrics table plus what the log says about the run.

Readers know nothing about run folders; `gsmreport.ingest.importer` turns a `SourceData`
into an imported run. Keeping that split lets each reader be tested on a file alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from gsmreport.ingest.schema import SeriesLayout

SourceKind = Literal[
    "trainer_state",
    "wandb",
    "tensorboard",
    "llamafactory",
    "lm_eval",
    "csv",
    "mlflow",
    "predictions",
]


@dataclass(frozen=True)
class ImportedEval:
    """One evaluation found in the source, in our evals/<eval_id>/ format.

    `samples` are samples.jsonl rows (DESIGN.md "Evaluation rows"), `results` is the
    results.json object (with `counts` per filter and `results.gsm8k` metrics).
    """

    eval_id: str
    samples: list[dict[str, Any]]
    results: dict[str, Any]


def iso_time(epoch_seconds: float | None) -> str | None:
    """A Unix time as the ISO-8601 UTC string run.yaml holds; None stays None."""
    if epoch_seconds is None or not epoch_seconds > 0:
        return None
    try:
        return dt.datetime.fromtimestamp(epoch_seconds, dt.UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return None


@dataclass
class SourceData:
    """A log read into our terms. `frame` follows ingest.schema.SCHEMA (run_id filled in later)."""

    kind: SourceKind
    path: Path  # the file or folder actually read (e.g. the newest checkpoint-*)
    frame: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # hyper-parameters found with the log
    model: str | None = None
    method: str | None = None  # lora | qlora | full, when the log says
    status: Literal["completed", "interrupted", "failed"] = "completed"
    hardware: dict[str, Any] | None = None  # {"device", "device_name", "count"}
    runtime_s: float | None = None
    started_at: str | None = None  # ISO time the source says the run began, when it says
    finished_at: str | None = None
    name: str | None = None  # the source's own run name, if it has one
    evals: list[ImportedEval] = field(default_factory=list)
    console: str | None = None  # the run's console output, kept as logs/console.log
    # Which series each row of `frame` belongs to, when the reader's build knows it (the
    # numpy build does): the headline summary at import then groups by it. A reader that
    # changes `frame` afterwards must drop it (series_stats also checks that it fits).
    layout: SeriesLayout | None = None
