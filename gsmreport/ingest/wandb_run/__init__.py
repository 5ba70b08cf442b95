"""Read a Weights & Biases run into the metrics table: its `.wandb` log, its `files/`, or online.

The pieces: `locate` (which run folder and log a path means), `records` (W&B's own reader of
the `.wandb` log, in a subprocess), `legacy` (the plain files in `files/`), `terms` (rows,
model, method, hardware, status) and `system` (system metrics and the console). This module
holds the entry points.

`files/output.log` is never parsed for metrics: it is console text (tqdm bars, prints) whose
metric lines repeat what history already holds, in a format nobody guarantees. It is kept
as the run's console log.
"""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from urllib.parse import urlparse

from gsmreport.ingest.files import SourceError
from gsmreport.ingest.source import SourceData
from gsmreport.ingest.wandb_run.legacy import fill_gaps, flatten_config, log_from_legacy
from gsmreport.ingest.wandb_run.locate import LEGACY_FILES, find_runs, locate
from gsmreport.ingest.wandb_run.records import WandbLog, inspect_log, parse_records
from gsmreport.ingest.wandb_run.system import console_text
from gsmreport.ingest.wandb_run.terms import (
    Status,
    binary_status,
    hardware,
    method,
    model_name,
    runtime_seconds,
    source_data,
)

# The names tests and callers reach through this package (kept from the single module).
_binary_status = binary_status
_source_data = source_data


def read(path: Path) -> SourceData:
    """A `run-*.wandb` file, a W&B run folder, or a `wandb/` folder holding exactly one run.

    The `.wandb` log is the source; the run folder's `files/` fill what it lacks, and stand
    in for it (with a warning) when there is no log or W&B's reader cannot read it.
    """
    warnings: list[str] = []
    run_dir, wandb_file = locate(path, warnings)
    log = _read_binary(wandb_file, run_dir, warnings) if wandb_file else None
    if log is not None and wandb_file is not None:
        if run_dir is not None:
            fill_gaps(log, run_dir)
        status, note = binary_status(wandb_file, log)
        warnings.extend([note] if note else [])
        shown = wandb_file if path.is_file() or run_dir is None else run_dir
        data = source_data(shown, log, status, warnings)
    else:
        assert run_dir is not None  # locate gives a folder whenever it gives no file
        log = log_from_legacy(run_dir)
        warnings.append(
            f"{run_dir}: no readable .wandb log: exit status unknown, taken as completed"
        )
        data = source_data(run_dir, log, "completed", warnings)
    data.console = console_text(log, run_dir)
    return data


def _read_binary(wandb_file: Path, run_dir: Path | None, warnings: list[str]) -> WandbLog | None:
    try:
        return inspect_log(wandb_file)
    except SourceError as exc:
        if run_dir is None or not any((run_dir / "files" / n).is_file() for n in LEGACY_FILES):
            raise
        warnings.append(f"{exc}; read {run_dir / 'files'} instead")
        return None


def read_online(ref: str) -> SourceData:
    """An online run `entity/project/run_id` through `wandb.Api()`: every history row.

    `scan_history()` pages through all rows; `history()` would return a sample of 500.
    """
    parts = ref.strip().strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        raise SourceError(f"{ref}: expected an online run as entity/project/run_id")
    if not _have_credentials():
        raise SourceError(f"{ref}: set WANDB_API_KEY or run `wandb login` to read online runs")
    import wandb  # here, not at the top: importing wandb takes ~1 s and `--help` must be fast

    try:
        run = wandb.Api(timeout=60).run("/".join(parts))
        log = WandbLog(
            history=[dict(row) for row in run.scan_history()],
            summary=dict(run.summary_metrics or {}),
            config=dict(run.config or {}),  # the API unwraps {"value": ...} itself
            environment=dict(run.metadata or {}),
            name=run.name if isinstance(run.name, str) else None,
        )
        state = str(run.state)
    except Exception as exc:  # network, auth and not-found errors arrive as many types
        problem = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise SourceError(f"{ref}: cannot read the run from W&B ({problem})") from exc
    status, warnings = _online_status(ref, state)
    return source_data(Path(ref), log, status, warnings)


def _online_status(ref: str, state: str) -> tuple[Status, list[str]]:
    if state == "finished":
        return "completed", []
    if state == "failed":
        return "failed", [f"{ref}: W&B marks the run failed"]
    return "interrupted", [f"{ref}: W&B marks the run {state}; kept what was logged"]


def _have_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    netrc_path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    try:
        return netrc.netrc(netrc_path).authenticators(host or "api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


__all__ = [
    "WandbLog",
    "find_runs",
    "flatten_config",
    "hardware",
    "inspect_log",
    "method",
    "model_name",
    "parse_records",
    "read",
    "read_online",
    "runtime_seconds",
]
