"""The run's console output for the run view: which file holds it, and its last lines.

A run trained here writes `logs/stdout.log`; an import keeps the source's console as
`logs/console.log` (W&B's output.log). No Textual import: tested on files alone.
"""

from __future__ import annotations

import os
from pathlib import Path

CONSOLE_FILES = ("logs/stdout.log", "logs/console.log")
TAIL_BYTES = 64 * 1024  # enough for the last screens of a log; a 1 GB log is never read whole


def console_path(run_dir: Path) -> Path | None:
    """The first console file the run has (our training log before an import's)."""
    return next((run_dir / n for n in CONSOLE_FILES if (run_dir / n).is_file()), None)


def _screen_line(raw: str) -> str:
    """What a terminal showed for one line: tqdm redraws it after `\\r`, the last draw wins."""
    parts = [p for p in raw.rstrip("\r").split("\r") if p.strip()]
    return parts[-1] if parts else ""


def tail(path: Path, lines: int = 40) -> list[str]:
    """The last `lines` lines as a terminal showed them; [] when the file cannot be read."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    rows = text.split("\n")
    if len(data) == TAIL_BYTES and size > TAIL_BYTES:
        rows = rows[1:]  # the first one is cut in the middle
    shown = [_screen_line(row) for row in rows]
    return [row for row in shown if row][-lines:]
