"""Run a job as a child process: tee its output to a log, stream lines, cancel on request.

The child runs in its own session so that the parent decides what it receives: Ctrl-C in
the CLI and the TUI's cancel button both become one SIGINT to the child, which then
records `interrupted` itself. A second Ctrl-C escalates to SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

LineSink = Callable[[str], None]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("WANDB_MODE", "disabled")
    return env


def run_job(
    cmd: list[str],
    log_path: Path,
    *,
    on_line: LineSink | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Start `cmd`, append its output to `log_path`, return its exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env=_child_env(),
        start_new_session=True,
    )
    stop_watch = threading.Event()
    if cancel is not None:
        threading.Thread(target=_watch_cancel, args=(proc, cancel, stop_watch), daemon=True).start()
    interrupts = 0
    with log_path.open("a", encoding="utf-8") as log:
        while True:
            try:
                _pump(proc, log, on_line)
                break
            except KeyboardInterrupt:
                interrupts += 1
                proc.send_signal(signal.SIGINT if interrupts == 1 else signal.SIGTERM)
        code = proc.wait()
    stop_watch.set()
    return code


def _pump(proc: subprocess.Popen[str], log: TextIO, on_line: LineSink | None) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        log.write(line)
        log.flush()
        if on_line is not None:
            on_line(line.rstrip("\n"))


def _watch_cancel(
    proc: subprocess.Popen[str], cancel: threading.Event, stop: threading.Event
) -> None:
    while not stop.is_set():
        if cancel.wait(0.2):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            return
