"""The signals a real lab sends a training, for real on the tiny model (issue 16): Ctrl-C,
SIGTERM to the CLI (kill, systemd, SLURM preemption, a CI timeout), kill -9 of the job, and
kill -9 of the whole tree (a power cut, the OOM killer). Each is followed by `gsmreport runs`
and `train --resume`: the run is interrupted, resumes to completion with no (step, metric)
row twice, and no training process is left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

MAX_STEPS = 24
SAVE_STEPS = 4


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the child inherits it; the machine is shared


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    data = write_gsm8k_folder(root / "data", n_train=80, n_test=10, seed=5)
    model = build_tiny_model(root / "model", data / "train.jsonl")
    cfg: dict[str, Any] = {
        "model": str(model),
        "data": {"path": str(data)},
        "training": {
            "max_steps": MAX_STEPS,
            "save_steps": SAVE_STEPS,
            "eval_steps": SAVE_STEPS,
            "logging_steps": 1,
            "learning_rate": 0.005,
            "batch_size": 8,
            "max_length": 160,
        },
    }
    path = root / "c.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def _start(config: Path, cwd: Path) -> subprocess.Popen[str]:
    """`gsmreport train` as a user starts it, in its own process group (as a shell would)."""
    return subprocess.Popen(
        [sys.executable, "-m", "gsmreport", "train", str(config), "--run-id", "f"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_checkpoint(dirs: Dirs, timeout: float = 240) -> int:
    """The job's pid once its first checkpoint is on disk (resumable from then on)."""
    log = dirs.runs / "f" / "logs" / "stdout.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.is_file() and f"saved checkpoint-{SAVE_STEPS}" in log.read_text(errors="replace"):
            return int((RunStore(dirs.runs).read("f").model_extra or {})["pid"])
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint within {timeout} s:\n{log.read_text(errors='replace')}")


def _gone(pid: int) -> bool:
    """No such process, or only a zombie left for init to reap: nothing is training."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        assert time.monotonic() < deadline, f"training process {pid} still runs (orphaned)"
        time.sleep(0.1)


def _sigint(cli: subprocess.Popen[str], job: int) -> None:
    cli.send_signal(signal.SIGINT)  # what Ctrl-C delivers to the CLI


def _sigterm(cli: subprocess.Popen[str], job: int) -> None:
    cli.send_signal(signal.SIGTERM)


def _kill_job(cli: subprocess.Popen[str], job: int) -> None:
    os.kill(job, signal.SIGKILL)


def _kill_tree(cli: subprocess.Popen[str], job: int) -> None:
    os.kill(job, signal.SIGKILL)  # the job first: nothing left to record the outcome
    os.kill(cli.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("send", "cli_code"),
    [(_sigint, 130), (_sigterm, 130), (_kill_job, 130), (_kill_tree, -signal.SIGKILL)],
    ids=["sigint-cli", "sigterm-cli", "kill9-job", "kill9-tree"],
)
def test_signal_then_runs_then_resume(
    tmp_path: Path,
    dirs: Dirs,
    config: Path,
    send: Callable[[subprocess.Popen[str], int], None],
    cli_code: int,
) -> None:
    cli = _start(config, tmp_path)
    job = _wait_for_checkpoint(dirs)
    send(cli, job)
    _, err = cli.communicate(timeout=120)
    assert cli.returncode == cli_code, err
    _wait_gone(job)  # no orphan: the job ended with (or before) its CLI

    listed = run_cli("runs", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith("f "))
    assert "interrupted" in row.split()
    record = RunStore(dirs.runs).read("f")
    assert record.status == "interrupted", record.error

    resumed = run_cli("train", "--resume", "f", cwd=tmp_path, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert RunStore(dirs.runs).read("f").status == "completed"
    table = pl.read_parquet(dirs.runs / "f" / "metrics.parquet")
    loss = table.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    assert loss.get_column("step").to_list() == list(range(1, MAX_STEPS + 1))
    assert table.select("step", "split", "metric").is_duplicated().sum() == 0
    events = (dirs.runs / "f" / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in events if '"loss"' in line]
    assert steps == sorted(set(steps))  # the log itself holds no replayed step either


def test_resume_trains_the_moved_copy_only(tmp_path: Path, dirs: Dirs, config: Path) -> None:
    """Item 9: a run moved to another runs folder resumes there; the original is untouched."""
    cli = _start(config, tmp_path)
    job = _wait_for_checkpoint(dirs)
    _sigint(cli, job)
    cli.communicate(timeout=120)
    moved = tmp_path / "elsewhere" / "runs"
    shutil.copytree(dirs.runs, moved)
    before = (dirs.runs / "f" / "metrics.jsonl").read_bytes()
    resumed = run_cli(
        "train", "--resume", "f", cwd=tmp_path, timeout=600, env={"GSMREPORT_RUNS_DIR": str(moved)}
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert RunStore(moved).read("f").status == "completed"
    assert RunStore(dirs.runs).read("f").status == "interrupted"
    assert (dirs.runs / "f" / "metrics.jsonl").read_bytes() == before
