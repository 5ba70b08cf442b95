"""What a running job has done so far, read from its output: no Textual, no clock of its own.

Progress comes from the lines the jobs print (`[gsmreport] step k/N …` while training,
`[gsmreport] eval batch b/N` while evaluating); the loss curve from the run's
metrics.jsonl, read incrementally because it only ever grows.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

_STEP = re.compile(r"^\[gsmreport\] (?:step|eval batch) (\d+)/(\d+)\b")
_PLANNED = re.compile(r"^\[gsmreport\] training .*, (\d+) steps$")

CURVE_METRICS = {"loss": "train loss", "eval_loss": "eval loss"}


@dataclass(frozen=True)
class Progress:
    """`done` of `total` units (optimizer steps or eval batches); the first sighting of a
    unit being done, kept for the ETA so that model loading does not count as speed."""

    done: int
    total: int
    first_done: int | None = None
    first_at: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0


def advance(progress: Progress | None, line: str, now: float) -> Progress | None:
    """`progress` after one more output line (unchanged when the line says nothing)."""
    planned = _PLANNED.match(line)
    if planned:
        total = int(planned.group(1))
        return Progress(done=progress.done if progress else 0, total=total)
    match = _STEP.match(line)
    if not match:
        return progress
    done, total = int(match.group(1)), int(match.group(2))
    if progress is None or progress.first_at is None or done < progress.done:
        return Progress(done, total, first_done=done, first_at=now)
    return Progress(done, total, progress.first_done, progress.first_at)


def eta_seconds(progress: Progress, now: float) -> float | None:
    """Remaining seconds at the pace since the first unit was seen; None until it is known."""
    if progress.first_at is None or progress.first_done is None:
        return None
    units = progress.done - progress.first_done
    if units <= 0 or now <= progress.first_at:
        return None
    per_unit = (now - progress.first_at) / units
    return max(0.0, (progress.total - progress.done) * per_unit)


def fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "ETA —"
    s = round(seconds)
    if s < 60:
        return f"ETA {s} s"
    if s < 3600:
        return f"ETA {s // 60} min {s % 60:02d} s"
    return f"ETA {s // 3600} h {s % 3600 // 60:02d} min"


class CurveTail:
    """Loss points (step, value) per curve name, from a metrics.jsonl that keeps growing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.series: dict[str, list[tuple[float, float]]] = {}

    def read(self) -> bool:
        """Take in the complete lines written since the last call; True if any point was new."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            return False
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next call
        self.offset += end
        added = False
        for raw in chunk[:end].splitlines():
            added |= self._take(raw)
        return added

    def _take(self, raw: bytes) -> bool:
        try:
            event = json.loads(raw)
            step, logs = float(event["step"]), event["logs"]
        except (ValueError, KeyError, TypeError):
            return False  # ingest reports broken lines; a live curve just skips them
        added = False
        for key, name in CURVE_METRICS.items():
            value = logs.get(key) if isinstance(logs, dict) else None
            if isinstance(value, int | float) and math.isfinite(value):  # NaN/inf cannot be drawn
                self.series.setdefault(name, []).append((step, float(value)))
                added = True
        return added
