"""What a run's console log says about how it ended: the progress bar and the last exception.

W&B saves the process's stdout/stderr as `files/output.log`. HF's Trainer draws a tqdm bar
`829/1954 [28:49<39:13, 2.09s/it]` there, and a run stopped by Ctrl-C or an error ends with
its traceback. Both are facts the metric rows cannot carry: the bar counts optimizer steps
the trainer never logged, and its total is the planned number of steps even when the config
only says "1 epoch". Read-only and best effort: an unreadable log is treated as no log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gsmreport.core.runs import RunRecord

MAX_BYTES = 32 * 1024 * 1024  # a console log bigger than this is not read

# tqdm's "n/total [" (the bracket keeps "3/4" in ordinary text out); counts may carry commas.
_BAR = re.compile(r"(?<![\d/])(\d[\d,]*)/(\d[\d,]*) \[")
# The last line of a Python traceback: "KeyboardInterrupt", "torch.OutOfMemoryError: …".
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit))(?::\s*(.*))?$")


@dataclass(frozen=True)
class ConsoleEnd:
    path: Path
    step: int | None  # the training bar's last count
    total: int | None  # the training bar's total: the planned optimizer steps
    exception: str | None  # the last exception line, e.g. "KeyboardInterrupt"


def console_log(record: RunRecord) -> Path | None:
    """The console log beside an imported W&B run (`files/output.log`), when it is there."""
    source = record.source
    if source is None or source.kind != "wandb":
        return None
    read = Path(source.read)
    folder = read.parent if read.is_file() else read
    path = folder / "files" / "output.log"
    return path if path.is_file() else None


def parse_console(text: str, path: Path) -> ConsoleEnd:
    """The first progress bar is the training loop's (evaluation bars come later); its last
    count is how far training got. The last exception line says why it stopped."""
    bars = [(int(a.replace(",", "")), int(b.replace(",", ""))) for a, b in _BAR.findall(text)]
    step = total = None
    if bars:
        total = bars[0][1]
        step = max(n for n, t in bars if t == total)
    exception = None
    for raw in reversed(text.replace("\r", "\n").splitlines()):
        match = _EXCEPTION.match(raw.strip())
        if match:
            detail = (match.group(2) or "").strip()
            exception = f"{match.group(1)}: {detail[:120]}" if detail else match.group(1)
            break
    return ConsoleEnd(path, step, total, exception)


def read_console(record: RunRecord) -> ConsoleEnd | None:
    path = console_log(record)
    if path is None:
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_console(text, path)
