"""Is the process that a `running` run.yaml names still there?

A job records its pid, the pid's start time and its host when it starts. A kill -9 of the
job (an OOM killer, a power cut, a preempted node) leaves `running` behind for ever; readers
use this to tell such a run from a live one. The start time guards against pid reuse; the
host against judging, from another node of a cluster, a process that runs elsewhere.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any


def _stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) from /proc; None where unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()  # the command name may hold spaces and ')'
    return (fields[0], fields[19]) if len(fields) > 19 else None


def process_facts(pid: int | None = None) -> dict[str, Any]:
    """What a job records about itself in run.yaml so that a reader can check on it."""
    pid = os.getpid() if pid is None else pid
    stat = _stat(pid)
    return {"pid": pid, "pid_start": stat[1] if stat else None, "host": socket.gethostname()}


def vanished(facts: dict[str, Any]) -> str | None:
    """Why the recorded process is known to be gone, or None: alive, or no way to tell."""
    pid, host, start = facts.get("pid"), facts.get("host"), facts.get("pid_start")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return None
    if host != socket.gethostname():
        return None  # another node (or a record from before hosts were kept): cannot see it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"process vanished (pid {pid} is gone)"
    except PermissionError:
        pass  # it exists, as another user's process: the start time below tells if it is ours
    stat = _stat(pid)
    if stat is None:
        return None
    state, now_start = stat
    if state in ("Z", "X"):  # dead, not yet reaped by its parent
        return f"process vanished (pid {pid} has exited)"
    if start is not None and str(start) != now_start:
        return f"process vanished (pid {pid} now belongs to another process)"
    return None
