"""Where runs and reports live: CLI option, else environment variable, else ./runs, ./reports."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

RUNS_ENV = "GSMREPORT_RUNS_DIR"
REPORTS_ENV = "GSMREPORT_REPORTS_DIR"


@dataclass(frozen=True)
class Dirs:
    runs: Path
    reports: Path


def resolve_dirs(runs: Path | None = None, reports: Path | None = None) -> Dirs:
    """Explicit arguments win over the environment, which wins over the defaults."""
    runs_dir = runs or Path(os.environ.get(RUNS_ENV) or "runs")
    reports_dir = reports or Path(os.environ.get(REPORTS_ENV) or "reports")
    return Dirs(runs=runs_dir, reports=reports_dir)
