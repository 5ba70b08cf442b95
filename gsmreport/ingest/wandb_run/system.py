"""W&B's system metrics (`stats` records) as `split = "system"` rows, and the run's console.

System metrics have no optimizer step: W&B samples them on a clock (every 10-15 s). A row's
`step` is therefore the sample's number (0, 1, 2 … per metric) and `wall_time` is when it was
taken, in seconds since the run started; the metric keeps W&B's name (`gpu.0.memoryAllocated`,
`gpu.0.gpu`, `gpu.0.powerWatts`, `cpu`, `proc.memory.rssMB` …), as unknown names do.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from gsmreport.ingest.wandb_run.records import WandbLog, number

SYSTEM_SPLIT = "system"
# One series per CPU core (128 on a large node) says nothing the process-wide `cpu` does not,
# and would outnumber every other row of the run.
_PER_CORE = re.compile(r"^cpu\.\d+\.cpu_percent$")
_CONSOLE_FILE = ("files", "output.log")


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        # W&B writes nanoseconds ("...13.577117016Z"); datetime takes at most microseconds.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
        return dt.datetime.fromisoformat(trimmed).timestamp()
    except ValueError:
        return None


def system_rows(log: WandbLog, source: str) -> list[dict[str, Any]]:
    """One row per sampled value; wall time from the run's start (else the first sample)."""
    times = [_seconds(stamp) for stamp, _ in log.stats]
    start = _seconds(log.start_time)
    if start is None:
        start = min((t for t in times if t is not None), default=None)
    counts: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for at, (_, item) in zip(times, log.stats, strict=True):
        for key, raw in item.items():
            value = number(raw)
            if value is None or _PER_CORE.match(key):
                continue
            sample = counts.get(key, 0)
            counts[key] = sample + 1
            rows.append(
                {
                    "run_id": "",
                    "source": source,
                    "step": sample,
                    "epoch": None,
                    "split": SYSTEM_SPLIT,
                    "metric": key,
                    "value": value,
                    "wall_time": at - start if at is not None and start is not None else None,
                }
            )
    return rows


def console_text(log: WandbLog, run_dir: Path | None) -> str | None:
    """The run's console: W&B's own `files/output.log` when the run folder has it (it is what
    W&B made of the raw stream), else the raw `output_raw` lines of the `.wandb` log."""
    if run_dir is not None:
        path = run_dir.joinpath(*_CONSOLE_FILE)
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass  # absent (a copied .wandb alone) or unreadable: the log's lines stand in
    return "".join(log.console) or None
