"""Where a run's training can be resumed from: its newest complete checkpoint.

A file check on the run folder, kept out of jobs/ so that the pipeline can answer it without
importing the training code (which imports torch).
"""

from __future__ import annotations

import re
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoints/checkpoint-N (one cut off mid-save has no state file)."""
    folder = run_dir / "checkpoints"
    found = [
        (int(m.group(1)), p)
        for p in (folder.iterdir() if folder.is_dir() else [])
        if (m := _CHECKPOINT.match(p.name)) and (p / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None
