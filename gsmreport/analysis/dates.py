"""When a run ran, as far as its files say: beside an estimated cost, a reader must see that a
2026 list price was applied to a 2024 run.

In order: run.yaml's started_at (our own runs, or an importer that read it), then the
timestamp the logging tool put in the imported source's name: W&B's run folder
`run-YYYYMMDD_HHMMSS-<id>`, TensorBoard's `events.out.tfevents.<unix seconds>.<host>`. The
metric rows' wall_time cannot say it: importers store it relative to the run's start.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from gsmreport.core.runs import RunRecord

_WANDB = re.compile(r"(?:^|[-_])run-(\d{8})_\d{6}-")
_TFEVENTS = re.compile(r"events\.out\.tfevents\.(\d{9,11})\.")


@dataclass(frozen=True)
class RunDate:
    date: str  # ISO date, YYYY-MM-DD
    source: str  # where it was read, in words


def run_date(record: RunRecord) -> RunDate | None:
    if record.started_at:
        try:
            day = dt.datetime.fromisoformat(record.started_at).date().isoformat()
            return RunDate(day, "run.yaml started_at")
        except ValueError:
            pass
    source = record.source
    if source is None:
        return None
    for text in (Path(source.path).name, Path(source.read).name, source.path):
        if match := _WANDB.search(text):
            try:
                day = dt.datetime.strptime(match.group(1), "%Y%m%d").date().isoformat()
            except ValueError:
                continue
            return RunDate(day, "the W&B run folder's name")
        if match := _TFEVENTS.search(text):
            stamp = dt.datetime.fromtimestamp(int(match.group(1)), tz=dt.UTC)
            return RunDate(stamp.date().isoformat(), "the TensorBoard event file's name")
    return None
