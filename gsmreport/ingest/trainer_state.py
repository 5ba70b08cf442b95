"""Read HF `trainer_state.json` (its `log_history`) into the metrics table.

HF writes it with Python's json, so bare `Infinity`/`NaN` tokens occur (e.g. an infinite
grad_norm after an fp16 overflow); the stdlib parser accepts them, strict JSON tools do not.
Entries have no type field: train, eval and the final summary are told apart by their keys,
and an eval entry may share its step with a train entry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gsmreport.errors import GsmReportError
from gsmreport.ingest.metrics_jsonl import ReadResult
from gsmreport.ingest.schema import frame_from_rows, rows_from_log

SOURCE = "trainer_state"


def parse_trainer_state(state: Any, run_id: str, *, origin: str = SOURCE) -> ReadResult:
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise GsmReportError(f"{origin}: not a trainer_state.json (no `log_history` list)")
    rows: list[dict[str, Any]] = []
    skipped = 0
    for entry in state["log_history"]:
        entry_rows = (
            rows_from_log(entry, run_id=run_id, source=SOURCE) if isinstance(entry, dict) else []
        )
        if not entry_rows:
            skipped += 1
        rows.extend(entry_rows)
    warnings = (
        (f"{origin}: {skipped} log_history entr(y/ies) without a step or metrics skipped",)
        if skipped
        else ()
    )
    return ReadResult(frame_from_rows(rows), warnings)


def read_trainer_state(path: Path, run_id: str) -> ReadResult:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GsmReportError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise GsmReportError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GsmReportError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc
    return parse_trainer_state(state, run_id, origin=str(path))
