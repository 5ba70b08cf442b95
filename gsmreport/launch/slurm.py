"""A SLURM batch script that runs a training run on `nodes` x `num_processes` GPUs.

One task per node; each runs `accelerate launch`, which starts the node's GPU processes.
The nodes meet at the first node of the allocation (MASTER_ADDR:MASTER_PORT). Pure: the
text is returned, and the caller decides whether to print it or write it into the run.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from gsmreport.core.config import LaunchSettings
from gsmreport.core.errors import UsageError
from gsmreport.launch.accelerate import LAUNCHER

SCRIPT_NAME = "slurm.sbatch"
DEFAULT_TIME = "24:00:00"
CPUS_PER_GPU = 8
# Every form `sbatch --time` accepts: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
_TIME_RE = re.compile(r"\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}")


@dataclass(frozen=True)
class SlurmOptions:
    time: str = DEFAULT_TIME
    """Wall-clock limit (`#SBATCH --time`), e.g. 24:00:00 or 2-00:00:00."""
    cpus_per_task: int | None = None
    """CPU cores per node's task; default 8 per GPU (data loading and tokenisation)."""


def check_time(value: str) -> str:
    if not _TIME_RE.fullmatch(value):
        raise UsageError(
            f"--time {value!r} is not a SLURM time limit: use e.g. 90 (minutes), 04:00:00 "
            "or 2-00:00:00"
        )
    return value


def sbatch_script(
    run_dir: Path,
    launch: LaunchSettings,
    options: SlurmOptions | None = None,
    *,
    python: str | None = None,
) -> str:
    """The script text for `sbatch`; `run_dir` and `python` must be valid on the cluster."""
    opts = options or SlurmOptions()
    gpus = launch.num_processes
    cpus = opts.cpus_per_task or CPUS_PER_GPU * gpus
    run_dir = run_dir.resolve()
    env = {
        "GSMREPORT_PYTHON": python or sys.executable,
        "GSMREPORT_RUN_DIR": str(run_dir),
    }
    if launch.accelerate_config is not None:
        env["GSMREPORT_ACCELERATE_CONFIG"] = launch.accelerate_config
        strategy = ['--config_file "$GSMREPORT_ACCELERATE_CONFIG"']
    else:
        # torchrun's launcher; accelerate refuses it for a single process in total.
        strategy = ["--multi_gpu"] if launch.nodes * gpus > 1 else []
    flags = [
        *strategy,
        '--num_machines "$SLURM_NNODES"',
        '--machine_rank "$SLURM_NODEID"',
        '--main_process_ip "$MASTER_ADDR"',
        '--main_process_port "$MASTER_PORT"',
        f'--num_processes "$((SLURM_NNODES * {gpus}))"',
        '-m gsmreport.jobs.train "$GSMREPORT_RUN_DIR"',
    ]
    launch_line = " \\\n    ".join([f'exec "$GSMREPORT_PYTHON" {" ".join(LAUNCHER)}', *flags])
    exports = "\n".join(f"export {name}={shlex.quote(value)}" for name, value in env.items())
    log = shlex.quote(str(run_dir / "logs" / "slurm-%j.out"))
    return f"""#!/bin/bash
# gsmreport training run {run_dir.name}: {launch.nodes} node(s) x {gpus} GPU(s).
# Submit with: sbatch {shlex.quote(str(run_dir / SCRIPT_NAME))}
#SBATCH --job-name=gsmreport-{run_dir.name}
#SBATCH --nodes={launch.nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node={gpus}
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={opts.time}
#SBATCH --output={log}
# Site-specific lines (partition, account, QoS) go here, e.g. #SBATCH --partition=gpu

# No pipefail: `head -n1` closes the pipe early and scontrol's SIGPIPE is not an error.
set -eu

{exports}
export PYTHONUNBUFFERED=1
export TOKENIZERS_PARALLELISM=false
# The first node of the allocation hosts the rendezvous; a port derived from the job id
# keeps two jobs that share a node apart.
MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n1)"
export MASTER_ADDR="${{MASTER_ADDR:?scontrol named no node in $SLURM_JOB_NODELIST}}"
export MASTER_PORT="${{MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}}"

# Single quotes on purpose: $SLURM_NODEID must be read on each node by the shell that
# srun starts there, not once here on the first node.
srun --kill-on-bad-exit=1 bash -c '{launch_line}'
"""
