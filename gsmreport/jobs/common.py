"""What both child jobs share: status bookkeeping, signals, hardware and version facts."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from gsmreport.runs import Hardware, RunStore


def is_main_process() -> bool:
    """True in a single-process job and in rank 0 of an `accelerate launch`/torchrun job.

    Only the main process writes run.yaml, metrics.jsonl and the saved model; the others
    train and stay quiet.
    """
    import os

    return os.environ.get("RANK", "0") == "0"


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install_signal_handlers() -> None:
    """SIGTERM (a cluster scheduler, `kill`) ends the job like Ctrl-C: status `interrupted`."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)


def hardware() -> Hardware:
    import os

    import torch

    if torch.cuda.is_available():
        count = int(os.environ.get("WORLD_SIZE", "1"))
        return Hardware(device="cuda", device_name=torch.cuda.get_device_name(0), count=count)
    return Hardware(device="cpu", device_name=f"CPU ({os.cpu_count()} cores)", count=1)


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": sys.version.split()[0]}
    for name in ("gsmreport", "torch", "transformers", "trl", "peft", "accelerate"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return out


def run_guarded(run_dir: Path, body: Callable[[], dict[str, Any]]) -> int:
    """Run `body`, then record completed / interrupted / failed in run.yaml; return exit code.

    `body` returns the fields to store on success. A traceback goes to stdout (which the
    parent tees into logs/stdout.log); run.yaml gets the one-line reason.
    """
    store, run_id = RunStore(run_dir.parent), run_dir.name
    install_signal_handlers()
    try:
        fields = body()
    except KeyboardInterrupt:
        store.set_status(run_id, "interrupted", error="interrupted by signal (Ctrl-C or SIGTERM)")
        print("[gsmreport] interrupted; metrics written so far are kept", flush=True)
        return 130
    except Exception as exc:  # the job must record *any* failure before it dies
        traceback.print_exc(file=sys.stdout)
        line = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        store.set_status(run_id, "failed", error=line[:500])
        print(f"[gsmreport] failed: {line}", flush=True)
        return 1
    store.set_status(run_id, "completed", **fields)
    return 0
