"""Job command lines. Pure: no process is started here, so tests can inspect them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from gsmreport.core.config import LaunchSettings
from gsmreport.launch.accelerate import accelerate_command, uses_accelerate

Job = Literal["train", "evaluate"]


def job_command(job: Job, target: Path, *, python: str | None = None) -> list[str]:
    """The child's argv: `python -m gsmreport.jobs.<job> <run or eval folder>`."""
    return [python or sys.executable, "-m", f"gsmreport.jobs.{job}", str(target)]


def train_command(
    run_dir: Path, launch: LaunchSettings | None = None, *, python: str | None = None
) -> list[str]:
    """The training child: one plain process, or `accelerate launch` when scaled out.

    `launch` should have been through `accelerate.resolve_launch` (checked, paths absolute).
    """
    if launch is None or not uses_accelerate(launch):
        return job_command("train", run_dir, python=python)
    return accelerate_command("gsmreport.jobs.train", run_dir, launch, python or sys.executable)


def eval_command(
    eval_dir: Path, launch: LaunchSettings | None = None, *, python: str | None = None
) -> list[str]:
    """The evaluation child: one process, or N data-parallel ranks through `accelerate launch`
    (the same launcher flags as training; `launch` checked by `accelerate.resolve_launch`)."""
    if launch is None or not uses_accelerate(launch):
        return job_command("evaluate", eval_dir, python=python)
    return accelerate_command("gsmreport.jobs.evaluate", eval_dir, launch, python or sys.executable)
