"""Run a job as a child process: it writes its own log, we tail it, and cancel on request.

The child writes straight into its log file rather than into a pipe we read: a pipe would
die with the parent (the child's next write gets SIGPIPE), and the TUI must be able to quit
while a training keeps going and keeps writing its run folder. We follow the file instead.

The child runs in its own session so that the parent decides what it receives: Ctrl-C in
the CLI and the TUI's cancel button both become one SIGINT to the child, which then
records `interrupted` itself. A second Ctrl-C escalates to SIGTERM. Closing the terminal
does not reach it either (no controlling terminal, so no SIGHUP).

Unless started `detached` (the TUI, whose "leave running" quits and keeps the job), the
child is supervised: a SIGTERM or SIGHUP to the parent (`kill`, systemd, SLURM preemption,
a CI timeout, a closed terminal) is passed on as SIGTERM and the parent waits for the
child to record its outcome; and on Linux the child gets SIGTERM itself if the parent dies
anyway (PR_SET_PDEATHSIG), so no training goes on unsupervised with PPID 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

LineSink = Callable[[str], None]

POLL_S = 0.1  # how often the log is read while the child runs; lines arrive this late at most


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("WANDB_MODE", "disabled")
    return env


class LogTail:
    """The complete lines appended to a file after `offset`, as they arrive."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self.offset = offset
        self._partial = b""

    def read(self, *, final: bool = False) -> list[str]:
        """New complete lines; with `final`, also a last line that has no newline."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except FileNotFoundError:
            chunk = b""
        self.offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        if final and self._partial:
            lines.append(self._partial)
            self._partial = b""
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]


def run_job(
    cmd: list[str],
    log_path: Path,
    *,
    on_line: LineSink | None = None,
    cancel: threading.Event | None = None,
    detached: bool = False,
) -> int:
    """Start `cmd` appending its output to `log_path`, stream its lines, return its exit code.

    `detached`: the child may outlive this process (a TUI that quits and leaves the job
    running): it owns its log file descriptor and records its own status in run.yaml.
    Otherwise it is tied to this process (see the module docstring).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        start = log.tell()  # the log may hold an earlier attempt's lines: skip them
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_child_env(),
            start_new_session=True,
            preexec_fn=None if detached else die_with_parent(os.getpid()),
        )
    tail = LogTail(log_path, start)
    stop_watch = threading.Event()
    if cancel is not None:
        threading.Thread(target=_watch_cancel, args=(proc, cancel, stop_watch), daemon=True).start()
    interrupts = 0
    with _forwarding(proc, enabled=not detached):
        while True:
            try:
                code = _follow(proc, tail, on_line)
                break
            except KeyboardInterrupt:
                interrupts += 1
                proc.send_signal(signal.SIGINT if interrupts == 1 else signal.SIGTERM)
    stop_watch.set()
    return code


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> Callable[[], None] | None:
    """A preexec_fn that has the kernel send the child SIGTERM when `parent` dies (Linux);
    None elsewhere. SIGTERM, not SIGKILL, so the job still records `interrupted`."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above: go now
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


@contextlib.contextmanager
def _forwarding(proc: subprocess.Popen[bytes], *, enabled: bool) -> Iterator[None]:
    """While the child runs, SIGTERM and SIGHUP to this process become SIGTERM to the child,
    and this process keeps waiting for it. Handlers can only be set in the main thread."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)

    saved = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _follow(proc: subprocess.Popen[bytes], tail: LogTail, on_line: LineSink | None) -> int:
    while True:
        try:
            code = proc.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            _emit(tail.read(), on_line)
            continue
        _emit(tail.read(final=True), on_line)
        return code


def _emit(lines: list[str], on_line: LineSink | None) -> None:
    if on_line is not None:
        for line in lines:
            on_line(line)


def _watch_cancel(
    proc: subprocess.Popen[bytes], cancel: threading.Event, stop: threading.Event
) -> None:
    while not stop.is_set():
        if cancel.wait(0.2):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            return
