"""Read runs/<id>/metrics.jsonl, the crash-safe log our own TrainerCallback appends to.

Each line: {"step": int, "epoch": float, "wall_time": float, "logs": {<HF on_log dict>}},
or a machine sample {"step": int, "wall_time": float, "system": {<W&B-style name>: number}}
(jobs/callbacks.SystemMetricsCallback), read as `split = system` rows.
Python's json writes bare NaN/Infinity and the stdlib parser reads them back, so
non-finite losses survive. A crash can cut the last line short; that line is skipped.
A corrupt line in the middle is skipped too but counted, so the caller can say so.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from gsmreport.core.errors import GsmReportError
from gsmreport.ingest.schema import frame_from_rows, json_number, rows_from_log

SOURCE = "metrics_jsonl"
SYSTEM_SPLIT = "system"
Row = dict[str, Any]


@dataclass(frozen=True)
class ReadResult:
    frame: pl.DataFrame
    warnings: tuple[str, ...] = ()


def _as_float(value: Any) -> float | None:
    return json_number(value)


def _system_rows(event: dict[str, Any], system: dict[str, Any], run_id: str) -> list[Row]:
    """One `system` row per numeric value of a machine sample; none without a step."""
    step = _as_float(event.get("step"))
    if step is None or not math.isfinite(step):
        return []
    wall = _as_float(event.get("wall_time"))
    return [
        {
            "run_id": run_id,
            "source": SOURCE,
            "step": int(step),
            "epoch": None,
            "split": SYSTEM_SPLIT,
            "metric": name,
            "value": value,
            "wall_time": wall,
        }
        for name, raw in system.items()
        if isinstance(name, str) and (value := _as_float(raw)) is not None
    ]


def parse_lines(lines: Iterable[str], run_id: str, *, origin: str = SOURCE) -> ReadResult:
    """Rows from metrics.jsonl lines; `origin` only labels the warnings."""
    rows: list[dict[str, Any]] = []
    bad: list[int] = []
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    for n, line in numbered:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            bad.append(n)
            continue
        if not isinstance(event, dict):
            bad.append(n)
            continue
        system = event.get("system")
        if isinstance(system, dict) and "logs" not in event:
            rows.extend(_system_rows(event, system, run_id))
            continue
        # Older writers put the HF dict at the top level; accept both shapes.
        logs = event.get("logs", event)
        if not isinstance(logs, dict):
            bad.append(n)
            continue
        step = event.get("step", logs.get("step"))
        rows.extend(
            rows_from_log(
                logs,
                run_id=run_id,
                source=SOURCE,
                step=_as_float(step),
                epoch=_as_float(event.get("epoch", logs.get("epoch"))),
                wall_time=_as_float(event.get("wall_time")),
            )
        )
    warnings: list[str] = []
    last = numbered[-1][0] if numbered else 0
    if bad and bad[-1] == last:
        bad.pop()
        warnings.append(f"{origin}: last line {last} is cut off (run stopped mid-write); skipped")
    if bad:
        shown = ", ".join(str(n) for n in bad[:5]) + (" …" if len(bad) > 5 else "")
        warnings.append(f"{origin}: {len(bad)} unreadable line(s) skipped (line {shown})")
    return ReadResult(frame_from_rows(rows), tuple(warnings))


def read_metrics_jsonl(path: Path, run_id: str) -> ReadResult:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise GsmReportError(f"{path}: cannot read metrics log ({exc.strerror or exc})") from exc
    return parse_lines(text.splitlines(), run_id, origin=str(path))
