"""`accelerate launch`: the argv that runs a job in N processes, and the checks before it.

gsmreport does no distribution of its own: above one process the job goes through
accelerate's launcher, which starts torchrun (DDP), FSDP or DeepSpeed as a config file says.
Building the argv is pure; the checks read the config file and, for the GPU count, ask a
short-lived child interpreter, so this process never imports torch.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gsmreport.core.config import LaunchSettings, read_yaml
from gsmreport.core.errors import ConfigError, GsmReportError, NotFoundError, UsageError

LAUNCHER = ("-m", "accelerate.commands.launch")


def uses_accelerate(launch: LaunchSettings) -> bool:
    """One process and no accelerate config: the plain `python -m` child is enough."""
    return launch.num_processes > 1 or launch.accelerate_config is not None or launch.nodes > 1


def launch_args(launch: LaunchSettings) -> list[str]:
    """The launcher's own flags for one machine (the SLURM script adds the multi-node ones)."""
    args: list[str] = []
    if launch.accelerate_config is not None:
        # The file names the strategy (DDP, FSDP, DeepSpeed); one process in our settings
        # means "not set", so the file's own num_processes stays in force.
        args += ["--config_file", launch.accelerate_config]
        if launch.num_processes > 1:
            args += ["--num_processes", str(launch.num_processes)]
        return args
    # `--multi_gpu` is accelerate's torchrun launcher. It is also the one that starts N
    # processes on a CPU machine: `--cpu` runs a single process unless MPI is set up. The
    # job asks for the CPU itself (TrainingArguments.use_cpu), so the ranks join over gloo.
    # Port 0 lets accelerate pick a free port, so two runs on one machine do not collide.
    return [
        "--multi_gpu",
        "--num_processes",
        str(launch.num_processes),
        "--num_machines",
        "1",
        "--main_process_port",
        "0",
        "--dynamo_backend",
        "no",
    ]


def accelerate_command(
    job_module: str, target: Path, launch: LaunchSettings, python: str
) -> list[str]:
    """`python -m accelerate.commands.launch FLAGS -m <job module> <target>`."""
    return [python, *LAUNCHER, *launch_args(launch), "-m", job_module, str(target)]


def require_accelerate() -> None:
    if importlib.util.find_spec("accelerate") is None:
        raise GsmReportError(
            "accelerate is not installed, and more than one process needs `accelerate launch`: "
            "pip install accelerate (or use --num-processes 1)"
        )


def read_accelerate_config(path: str) -> tuple[Path, dict[str, Any]]:
    """The config file, resolved, and its settings; a missing or non-YAML file is one line."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise NotFoundError(
            f"accelerate config not found: {path} (see configs/accelerate/ for examples, "
            "or write one with `accelerate config`)"
        )
    data = read_yaml(file, "accelerate config")
    if not isinstance(data, dict):
        raise ConfigError(
            f"{file}: an accelerate config must be a mapping of settings "
            "(like `accelerate config` writes), not a YAML "
            f"{type(data).__name__}"
        )
    return file.resolve(), data


def visible_gpus(python: str | None = None) -> int:
    """CUDA devices a child would see (CUDA_VISIBLE_DEVICES applies); 0 when none or unknown."""
    probe = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"
    try:
        out = subprocess.run(
            [python or sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return int(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return 0  # no verdict: let accelerate itself complain rather than block the run


def check_gpu_count(requested: int, gpus: int) -> None:
    """On a CUDA machine, more processes than GPUs would share devices or fail in NCCL."""
    if gpus > 0 and requested > gpus:
        raise UsageError(
            f"--num-processes {requested} is more than the {gpus} GPU(s) on this machine: "
            f"use --num-processes {gpus} or fewer (or --slurm for a cluster)"
        )


def resolve_launch(
    launch: LaunchSettings, *, slurm: bool = False, gpus: Callable[[], int] = visible_gpus
) -> LaunchSettings:
    """Check the launch settings before any run folder exists; the config file made absolute.

    `slurm`: the job runs on a cluster, so this machine's GPUs say nothing about it.
    """
    if not uses_accelerate(launch):
        return launch
    if launch.nodes > 1 and not slurm:
        raise UsageError(
            f"--nodes {launch.nodes} needs --slurm (a batch script that starts one launcher "
            "per node); on one machine use --num-processes"
        )
    require_accelerate()
    file_settings: dict[str, Any] = {}
    update: dict[str, Any] = {}
    if launch.accelerate_config is not None:
        path, file_settings = read_accelerate_config(launch.accelerate_config)
        update["accelerate_config"] = str(path)
    if not slurm and not file_settings.get("use_cpu", False):
        requested = launch.num_processes
        if requested == 1:
            try:
                requested = int(file_settings.get("num_processes", 1))
            except (TypeError, ValueError):
                requested = 1  # accelerate reports a malformed value in its own words
        if requested > 1:
            check_gpu_count(requested, gpus())
    return launch.model_copy(update=update)
