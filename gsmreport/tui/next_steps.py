"""What to do after a job ends: the daily loop's next step, offered on the live screen.

train completed → evaluate it, render its report; an evaluation completed → render the report;
a training interrupted or failed with a checkpoint → resume it (`gsmreport train --resume`).
No Textual here: the live screen turns these into keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gsmreport.core.errors import GsmReportError
from gsmreport.core.settings import Dirs

Step = Literal["evaluate", "report", "resume"]
KEYS: dict[Step, str] = {"evaluate": "e", "report": "r", "resume": "R"}
LABELS: dict[Step, str] = {
    "evaluate": "evaluate it",
    "report": "render the report",
    "resume": "resume from the last checkpoint",
}


@dataclass(frozen=True)
class Ended:
    """What the next steps depend on: the job's kind, how it ended, and its run."""

    kind: str  # "train" or "evaluate"
    status: str
    run_id: str


def next_steps(dirs: Dirs, job: Ended) -> tuple[Step, ...]:
    """The steps offered once `job` has ended, in the order the keys are listed."""
    if job.status == "completed":
        return ("evaluate", "report") if job.kind == "train" else ("report",)
    if job.kind == "train" and job.status in ("interrupted", "failed"):
        from gsmreport.pipeline import check_resumable

        try:
            check_resumable(dirs, job.run_id)
        except GsmReportError:
            return ()  # no checkpoint yet (or not a local run): nothing to resume from
        return ("resume",)
    return ()


def steps_line(steps: tuple[Step, ...]) -> str:
    """`next: e evaluate it · r render the report` (empty when there is nothing to offer)."""
    if not steps:
        return ""
    return "next: " + " · ".join(f"{KEYS[s]} {LABELS[s]}" for s in steps)
