"""Job command lines. Pure: no process is started here, so tests can inspect them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

Job = Literal["train", "evaluate"]


def job_command(job: Job, target: Path, *, python: str | None = None) -> list[str]:
    """The child's argv: `python -m gsmreport.jobs.<job> <run or eval folder>`."""
    return [python or sys.executable, "-m", f"gsmreport.jobs.{job}", str(target)]
