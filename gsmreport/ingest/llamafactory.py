"""Read LLaMA-Factory's `trainer_log.jsonl` into the metrics table.

LLaMA-Factory's LogCallback writes one line per HF log event, copying a few keys of the
Trainer's last log entry: `loss`, `eval_loss`, `predict_loss`, `reward`, `accuracy` (TRL's
`rewards/accuracies`), the learning rate as `lr` (newer) or `learning_rate` (older), and
progress as `current_steps`/`total_steps`/`percentage` with times formatted by `timedelta`
("0:08:23", "1 day, 0:08:23"). Absent values are written as null by some versions.

Every process of a multi-GPU run may write the file, so each step can appear twice and the
steps go out of order; the rows are de-duplicated (last line wins) and sorted.
The line without any metric at the last step is the Trainer's end-of-training summary (its
`train_loss` is not one of the copied keys): it marks a run that ended normally.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gsmreport.ingest import hf_config
from gsmreport.ingest.files import SourceError, read_text
from gsmreport.ingest.schema import checked_frame, json_number, rows_from_log
from gsmreport.ingest.source import SourceData

SOURCE: Final = "llamafactory"
LOG_FILE = "trainer_log.jsonl"

# Progress fields, not measurements.
_POSITION = frozenset(
    {"current_steps", "total_steps", "epoch", "percentage", "elapsed_time", "remaining_time"}
)
# Their names → the Trainer's names, so the table matches trainer_state.json of the same run.
# `predict_loss` is the test-set loss after training: the test split, apart from eval's `loss`.
_RENAMES = {
    "accuracy": "rewards/accuracies",
    "predict_loss": "test_loss",
    "total_tokens": "num_tokens",
    "throughput": "tokens_per_second",
}
# Older versions write these even when tokens are not counted (always 0 / "0.00").
_TOKEN_KEYS = ("total_tokens", "throughput")
# elapsed_time falling back by more than this (and by half) is a restart, not process skew.
_RESTART_S = 60.0
_MAX_STEP = 2**63
_DURATION_RE = re.compile(r"^(?:(-?\d+) days?, )?(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_duration(text: Any) -> float | None:
    """Seconds in `str(timedelta)` text ("0:08:23", "1 day, 0:08:23"); None if not one."""
    match = _DURATION_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _integer(value: Any) -> int | None:
    """A whole, non-negative number the Int64 step column can hold, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value != int(value) or not 0 <= value < _MAX_STEP:
        return None
    return int(value)


def _metric_value(key: str, value: Any) -> float | None:
    if key == "throughput" and isinstance(value, str):  # older versions format it as text
        try:
            return float(value)
        except ValueError:
            return None
    return json_number(value)  # None for null (value not logged this time) or text


def _metrics(line: dict[str, Any]) -> dict[str, float]:
    """The measurements of one line under the Trainer's key names."""
    counts_tokens = bool(_metric_value("total_tokens", line.get("total_tokens")))
    out: dict[str, float] = {}
    for key, raw in line.items():
        if key in _POSITION or (key in _TOKEN_KEYS and not counts_tokens):
            continue
        value = _metric_value(key, raw)
        if value is not None:
            out[_RENAMES.get(key, key)] = value
    return out


@dataclass
class _Clock:
    """Turns `elapsed_time`, which restarts at 0:00:00 when a run is resumed, into one clock.

    A resumed session continues from the time the earlier session had reached, so wall_time
    counts the time spent training; the pause between sessions is not in the log.
    Two processes writing the same file can be minutes apart, hence the tolerance.
    """

    offset: float = 0.0
    session_max: float = 0.0
    resumes: list[tuple[int, int]] = field(default_factory=list)  # (line, step)

    def wall_time(self, elapsed: float | None, number: int, step: int) -> float | None:
        if elapsed is None:
            return None
        if elapsed < 0.5 * self.session_max and self.session_max - elapsed > _RESTART_S:
            self.offset += self.session_max
            self.session_max = 0.0
            self.resumes.append((number, step))
        self.session_max = max(self.session_max, elapsed)
        return self.offset + elapsed

    @property
    def total(self) -> float | None:
        spent = self.offset + self.session_max
        return spent if spent > 0 else None


@dataclass
class _Parsed:
    rows: list[dict[str, Any]] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)  # line numbers that are not a log line
    lines: int = 0
    last_line: int = 0
    duplicates: int = 0
    decreases: int = 0
    last_step: int | None = None  # the highest step seen
    total_steps: int | None = None
    ended: bool = False  # the end-of-training summary line was written
    clock: _Clock = field(default_factory=_Clock)
    seen: set[tuple[int, frozenset[str]]] = field(default_factory=set)
    previous_step: int | None = None


def _track(parsed: _Parsed, step: int, line: dict[str, Any], metrics: dict[str, float]) -> None:
    """Count repeats and step decreases, and keep what the status needs."""
    key = (step, frozenset(metrics))
    parsed.duplicates += key in parsed.seen
    parsed.seen.add(key)
    parsed.decreases += parsed.previous_step is not None and step < parsed.previous_step
    parsed.previous_step = step
    if parsed.last_step is None or step >= parsed.last_step:
        parsed.last_step = step
        parsed.total_steps = _integer(line.get("total_steps"))
        parsed.ended = parsed.ended or (not metrics and "epoch" in line)


def _add_line(parsed: _Parsed, number: int, text: str) -> None:
    try:
        line = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        line = None
    step = _integer(line.get("current_steps")) if isinstance(line, dict) else None
    if not isinstance(line, dict) or step is None:
        parsed.bad.append(number)
        return
    metrics = _metrics(line)
    _track(parsed, step, line, metrics)
    elapsed = parse_duration(line.get("elapsed_time"))
    parsed.rows.extend(
        rows_from_log(
            metrics,
            run_id="",
            source=SOURCE,
            step=step,
            epoch=_metric_value("epoch", line.get("epoch")),
            wall_time=parsed.clock.wall_time(elapsed, number, step),
        )
    )


def _parse(text: str) -> _Parsed:
    parsed = _Parsed()
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            parsed.lines += 1
            parsed.last_line = number
            _add_line(parsed, number, line)
    return parsed


def _line_warnings(path: Path, parsed: _Parsed) -> list[str]:
    warnings: list[str] = []
    bad = list(parsed.bad)
    if bad and bad[-1] == parsed.last_line:
        bad.pop()
        warnings.append(
            f"{path}: last line {parsed.last_line} is cut off (run stopped mid-write); skipped"
        )
    if bad:
        shown = ", ".join(str(n) for n in bad[:5]) + (" …" if len(bad) > 5 else "")
        warnings.append(f"{path}: {len(bad)} unreadable line(s) skipped (line {shown})")
    if parsed.duplicates:
        warnings.append(
            f"{path}: {parsed.duplicates} duplicate line(s) dropped (a step logged again, by "
            "another process of a multi-GPU run or after a resume; the last one kept)"
        )
    if parsed.decreases:
        warnings.append(f"{path}: steps go backwards {parsed.decreases} time(s); sorted by step")
    for number, step in parsed.clock.resumes:
        warnings.append(
            f"{path}: elapsed_time restarts at line {number} (step {step}): the run was "
            "resumed; wall_time goes on from the earlier session's time, without the pause"
        )
    return warnings


def _status(data: SourceData, parsed: _Parsed) -> None:
    step, total = parsed.last_step, parsed.total_steps
    if step is None or total is None or step >= total:
        return
    if parsed.ended:  # HF can end one step short of its own max_steps estimate
        data.warnings.append(
            f"{data.path}: ended at step {step} of total_steps {total} but logged its final "
            "summary; counted as completed"
        )
        return
    data.status = "interrupted"
    data.warnings.append(
        f"{data.path}: last step {step} of total_steps {total} and no end-of-training line: "
        "the run stopped early; status interrupted"
    )


def _log_path(path: Path) -> Path:
    return path / LOG_FILE if path.is_dir() else path


def read(path: Path) -> SourceData:
    """A `trainer_log.jsonl` (or the output folder holding one), plus its side files."""
    log_path = _log_path(path)
    parsed = _parse(read_text(log_path))
    if not parsed.rows:
        what = "no readable line" if len(parsed.bad) == parsed.lines else "no metric in any line"
        raise SourceError(
            f"{log_path}: {what} of {parsed.lines} (expected LLaMA-Factory lines with "
            "current_steps and loss/eval_loss): nothing to import"
        )
    data = SourceData(
        kind=SOURCE,
        path=log_path,
        frame=checked_frame(parsed.rows, log_path),
        warnings=_line_warnings(log_path, parsed),
        config={"total_steps": parsed.total_steps} if parsed.total_steps is not None else {},
        runtime_s=parsed.clock.total,
    )
    _status(data, parsed)
    hf_config.apply(data, hf_config.read_beside(log_path.parent))
    return data
