"""Read HF `trainer_state.json` (its `log_history`) into the metrics table.

HF writes it with Python's json, so bare `Infinity`/`NaN` tokens occur (e.g. an infinite
grad_norm after an fp16 overflow); the stdlib parser accepts them, strict JSON tools do not.
Entries have no type field: train, eval and the final summary are told apart by their keys,
and an eval entry may share its step with a train entry. TRL's SFT/DPO/GRPO trainers add
their own keys (`mean_token_accuracy`, `rewards/chosen`, `kl`, …); they pass through by name.

A user may point at the file, at a checkpoint folder, or at the output folder that holds
several `checkpoint-N/`: each checkpoint's state repeats the whole history up to N, so the
newest one (or the output folder's own, written at the end) is the only one worth reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import not_
from pathlib import Path
from typing import Any, Final

import polars as pl

from gsmreport.ingest import hf_config
from gsmreport.ingest.files import SourceError, load_json
from gsmreport.ingest.metrics_jsonl import ReadResult
from gsmreport.ingest.numeric_logs import frame_from_numeric_logs
from gsmreport.ingest.schema import SeriesLayout, checked_frame, frame_from_logs, rows_from_log
from gsmreport.ingest.source import SourceData

SOURCE: Final = "trainer_state"
STATE_FILE = "trainer_state.json"
MAX_STEP = 2**63  # the step column is Int64

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
# Only the final entry Trainer logs after the loop carries these; their presence also shows
# that training ended normally rather than being killed.
_SUMMARY_KEYS = frozenset({"train_runtime", "train_loss", "train_samples_per_second"})
_CONFIG_KEYS = (
    "global_step",
    "max_steps",
    "num_train_epochs",
    "train_batch_size",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "best_metric",
    "best_global_step",
    "best_model_checkpoint",
)


@dataclass
class _History:
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # entries without a step or without any metric
    step_entries: int = 0  # entries with rows that are not the final summary
    summary: dict[str, Any] | None = None
    summary_index: int = -1
    frame: pl.DataFrame | None = None  # set by the column-wise path instead of `rows`
    layout: SeriesLayout | None = None  # the frame's, when its build knows it

    def table(self, path: Path | str) -> pl.DataFrame:
        return self.frame if self.frame is not None else checked_frame(self.rows, path)

    @property
    def empty(self) -> bool:
        return (self.frame.height == 0) if self.frame is not None else not self.rows


def _placeable(entry: dict[str, Any]) -> bool:
    """False for a step the Int64 step column cannot hold (a corrupt or hand-edited file)."""
    step = entry.get("step", entry.get("global_step"))
    return not isinstance(step, int | float) or 0 <= step < MAX_STEP


def _is_summary(entry: dict[str, Any]) -> bool:
    return not _SUMMARY_KEYS.isdisjoint(entry)


def _log_history(state: Any, origin: str) -> list[Any]:
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise SourceError(f"{origin}: not a trainer_state.json (no `log_history` list)")
    history: list[Any] = state["log_history"]
    return history


def _collect(history: list[Any], run_id: str) -> _History:
    fast = _collect_fast(history, run_id)
    return fast if fast is not None else _collect_rows(history, run_id)


def _collect_fast(history: list[Any], run_id: str) -> _History | None:
    """Column-wise build (numbers only: in polars; else schema.frame_from_logs); None for
    irregular histories."""
    built = frame_from_numeric_logs(history, source=SOURCE, run_id=run_id)
    if built is None:
        built = frame_from_logs(history, source=SOURCE, run_id=run_id)
    if built is None:
        return None
    frame, with_rows, layout, shapes = built
    out = _History(frame=frame, skipped=len(history) - len(with_rows), layout=layout)
    summaries = [i for i in _summary_candidates(history, shapes) if i in with_rows]
    out.step_entries = len(with_rows) - len(summaries)
    if summaries:
        out.summary_index = max(summaries)
        out.summary = history[out.summary_index]
    return out


def _summary_candidates(
    history: list[Any], shapes: dict[tuple[str, ...], list[int]] | None
) -> list[int]:
    """The indices of the entries holding a summary key (one, as a rule), in order. From the
    build's key shapes when it grouped the entries so: a test per shape rather than per entry
    (~0.35 ms of a 2,000-entry history); else by C-level maps over every entry."""
    if shapes is not None:
        found = (rows for shape, rows in shapes.items() if not _SUMMARY_KEYS.isdisjoint(shape))
        return sorted(chain.from_iterable(found))
    has_summary_keys = map(not_, map(_SUMMARY_KEYS.isdisjoint, history))
    return list(compress(range(len(history)), has_summary_keys))


def _collect_rows(history: list[Any], run_id: str) -> _History:
    out = _History()
    for entry in history:
        if not isinstance(entry, dict):
            out.skipped += 1
            continue
        rows = rows_from_log(entry, run_id=run_id, source=SOURCE) if _placeable(entry) else []
        if not rows:
            out.skipped += 1
            continue
        out.rows.extend(rows)
        if _is_summary(entry):
            out.summary = entry
        else:
            out.step_entries += 1
    return out


def _skipped_warning(origin: str, skipped: int) -> list[str]:
    if not skipped:
        return []
    return [f"{origin}: {skipped} log_history entr(y/ies) without a step or metrics skipped"]


def parse_trainer_state(state: Any, run_id: str, *, origin: str = SOURCE) -> ReadResult:
    """The table of an already-parsed state; an empty history gives an empty table.

    Kept lenient for our own run folders (a run stopped before its first log is not an
    error there); `read` is the strict entry point for importing someone else's log.
    """
    collected = _collect(_log_history(state, origin), run_id)
    warnings = _skipped_warning(origin, collected.skipped)
    return ReadResult(collected.table(origin), tuple(warnings))


def read_trainer_state(path: Path, run_id: str) -> ReadResult:
    return parse_trainer_state(load_json(path), run_id, origin=str(path))


# --- finding the state a path means ------------------------------------------------------


def _checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, state file) of each `checkpoint-N/` that has a state, oldest first."""
    try:
        children = list(folder.iterdir())
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from exc
    found = []
    for child in children:
        match = _CHECKPOINT_RE.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child / STATE_FILE))
    return sorted(found)


def _global_step(state: Any) -> int | None:
    step = state.get("global_step") if isinstance(state, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _top_state(top: Path, fallback: bool, warnings: list[str]) -> Any | None:
    """The output folder's own state, or None (with a warning) when it is broken and
    `fallback` says there are checkpoints to read instead."""
    if not top.is_file():
        return None
    try:
        return load_json(top)
    except SourceError as err:
        if not fallback:
            raise
        warnings.append(f"{err}; read the checkpoints instead")
        return None


def _pick_in_folder(folder: Path) -> tuple[Path, Any, list[str]]:
    """The state file to read in an output/checkpoint folder, its parsed JSON, and warnings."""
    checkpoints = _checkpoints(folder)
    warnings: list[str] = []
    top = folder / STATE_FILE
    state = _top_state(top, bool(checkpoints), warnings)
    newest = checkpoints[-1][0] if checkpoints else -1
    # The top-level state is written at the end (or by a checkpoint save in place): prefer it
    # unless a checkpoint is further along, as when training was killed after a save.
    if state is not None and (_global_step(state) or 0) >= newest:
        return top, state, []
    if not checkpoints:
        raise SourceError(
            f"{folder}: no {STATE_FILE} here or in a checkpoint-*/ folder; "
            "point at the file or at the training output folder"
        )
    step, newest_path = checkpoints[-1]
    if len(checkpoints) > 1:
        warnings.append(
            f"{folder}: {len(checkpoints)} checkpoints, read the newest (checkpoint-{step})"
        )
    return newest_path, load_json(newest_path), warnings


def locate(path: Path) -> tuple[Path, Any, list[str]]:
    """Resolve a file or folder to (state file, parsed state, warnings); SourceError if none."""
    if path.is_dir():
        return _pick_in_folder(path)
    return path, load_json(path), []


# --- the SourceData ------------------------------------------------------------------------


def _state_config(state: dict[str, Any]) -> dict[str, Any]:
    return {k: state[k] for k in _CONFIG_KEYS if state.get(k) is not None}


def _status(data: SourceData, state: dict[str, Any], summary: dict[str, Any] | None) -> None:
    step, max_steps = _global_step(state), state.get("max_steps")
    if step is None or not isinstance(max_steps, int) or step >= max_steps:
        return
    if summary is not None:  # e.g. early stopping: the loop ended on purpose, before max_steps
        data.warnings.append(
            f"{data.path}: ended at step {step} of max_steps {max_steps} but logged its final "
            "summary (early stopping?); counted as completed"
        )
        return
    data.status = "interrupted"
    data.warnings.append(
        f"{data.path}: step {step} of max_steps {max_steps}: this state was saved before the "
        "end of training (a mid-run checkpoint, or the run was stopped); status interrupted"
    )


def _runtime(summary: dict[str, Any] | None) -> float | None:
    runtime = summary.get("train_runtime") if summary else None
    if isinstance(runtime, bool) or not isinstance(runtime, int | float):
        return None
    return float(runtime)


def _from_state(state_path: Path, state: Any, warnings: list[str]) -> SourceData:
    history = _log_history(state, str(state_path))
    if not history:
        raise SourceError(f"{state_path}: no log entries (empty log_history): nothing to import")
    collected = _collect(history, run_id="")
    if collected.empty:
        raise SourceError(
            f"{state_path}: none of the {len(history)} log_history entries has a step and a "
            "numeric metric: nothing to import"
        )
    warnings = warnings + _skipped_warning(str(state_path), collected.skipped)
    if collected.step_entries == 0:
        warnings.append(
            f"{state_path}: log_history holds only the final summary, no per-step metrics "
            "(logging_steps larger than the run?); imported the summary alone"
        )
    data = SourceData(
        kind=SOURCE,
        path=state_path,
        frame=collected.table(state_path),
        layout=collected.layout,
        warnings=warnings,
        config=_state_config(state),
        runtime_s=_runtime(collected.summary),
    )
    _status(data, state, collected.summary)
    return data


def read(path: Path) -> SourceData:
    """A trainer_state.json (any file name), a checkpoint folder, or an output folder."""
    state_path, state, warnings = locate(path)
    data = _from_state(state_path, state, warnings)
    hf_config.apply(data, hf_config.read_beside(state_path.parent))
    return data
