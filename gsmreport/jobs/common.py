"""What both child jobs share: status bookkeeping, signals, hardware and version facts.

Under `accelerate launch` every rank runs the same job module. Only rank 0 writes run.yaml;
a failing peer leaves a one-line marker in logs/ so that rank 0, which the launcher then
stops with SIGTERM, records `failed` with the peer's reason rather than `interrupted`.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from gsmreport.core.fsutil import atomic_write_text
from gsmreport.core.runs import Hardware, RunStore, Status


def rank() -> int:
    """Global rank: torchrun (and so `accelerate launch`) sets RANK; a lone process is 0."""
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True in a single-process job and in rank 0 of an `accelerate launch`/torchrun job.

    Only the main process writes run.yaml, metrics.jsonl and the saved model; the others
    train and stay quiet.
    """
    return rank() == 0


def set_status(run_dir: Path, status: Status, **fields: Any) -> None:
    """RunStore.set_status from rank 0 only; the other ranks' view of the run is the same."""
    if is_main_process():
        RunStore(run_dir.parent).set_status(run_dir.name, status, **fields)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_signal_handlers() -> None:
    """SIGTERM (a cluster scheduler, `kill`) ends the job like Ctrl-C: status `interrupted`."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)


def hardware() -> Hardware:
    """The devices this job uses in all: one per process under a multi-process launch."""
    import torch

    count = world_size()
    if torch.cuda.is_available():
        return Hardware(device="cuda", device_name=torch.cuda.get_device_name(0), count=count)
    return Hardware(device="cpu", device_name=f"CPU ({os.cpu_count()} cores)", count=count)


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("gsmreport", "torch", "transformers", "trl", "peft", "accelerate"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def _marker(run_dir: Path, r: int) -> Path:
    return run_dir / "logs" / f"rank-{r}.failed"


def _peer_failures(run_dir: Path, *, consume: bool) -> list[str]:
    """One line per peer that failed in this launch, read from (and then removed from) logs/."""
    lines = []
    for path in sorted((run_dir / "logs").glob("rank-*.failed")):
        try:
            lines.append(path.read_text(encoding="utf-8").strip())
            if consume:
                path.unlink()
        except OSError:
            continue
    return lines


def run_guarded(run_dir: Path, body: Callable[[], dict[str, Any]]) -> int:
    """Run `body`, then record completed / interrupted / failed in run.yaml; return exit code.

    `body` returns the fields to store on success. A traceback goes to stdout (which the
    parent tees into logs/stdout.log); run.yaml gets the one-line reason, from rank 0 only.
    """
    main, me = is_main_process(), rank()
    if main:
        # Markers left by an earlier attempt of this run (before a --resume) are stale.
        _peer_failures(run_dir, consume=True)
    install_signal_handlers()
    try:
        fields = body()
    except KeyboardInterrupt:
        peers = _peer_failures(run_dir, consume=True) if main else []
        if peers:  # the launcher stopped us because a peer died: that is a failure
            set_status(run_dir, "failed", error=peers[0][:500])
            print(f"[gsmreport] failed: {peers[0]}", flush=True)
            return 1
        set_status(run_dir, "interrupted", error="interrupted by signal (Ctrl-C or SIGTERM)")
        if main:
            print("[gsmreport] interrupted; metrics written so far are kept", flush=True)
        return 130
    except Exception as exc:  # the job must record *any* failure before it dies
        traceback.print_exc(file=sys.stdout)
        line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if main:
            set_status(run_dir, "failed", error=line[:500])
        else:
            atomic_write_text(_marker(run_dir, me), f"rank {me}: {line}\n")
        print(f"[gsmreport] failed{'' if main else f' (rank {me})'}: {line}", flush=True)
        return 1
    set_status(run_dir, "completed", **fields)
    return 0
