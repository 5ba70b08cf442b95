"""W&B system metrics and console: a real run keeps them on import, and its report states
peak GPU memory and mean utilisation (oracles read from W&B's own reader, not our code)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from gsmreport.analysis.system import system_usage
from gsmreport.core.settings import Dirs
from gsmreport.ingest import wandb_run
from gsmreport.ingest.schema import SCHEMA
from tests.conftest import shared_data
from tests.test_cli import gsm

RAJA = ("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project", "wandb")


def _run_dir() -> Path:
    return next(shared_data(*RAJA).glob("run-*"))


def _leet_stats(wandb_file: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(wandb_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    records = [json.loads(line) for line in out.splitlines() if '"type":"stats"' in line[:64]]
    return [r["stats"]["item"] for r in records]


def test_real_run_keeps_gpu_metrics_and_console_and_reports_peak_memory(
    tmp_path: Path, dirs: Dirs
) -> None:
    run_dir = tmp_path / "wandb" / _run_dir().name
    shutil.copytree(_run_dir(), run_dir)
    stats = _leet_stats(next(run_dir.glob("*.wandb")))
    peak = max(
        float(v)  # type: ignore[arg-type]
        for item in stats
        for k, v in item.items()
        if k.startswith("gpu.") and k.endswith(".memoryAllocatedBytes")
    )
    samples = [item["gpu.0.gpu"] for item in stats if "gpu.0.gpu" in item]

    proc = gsm("ingest", str(run_dir), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (run_id,) = [p.name for p in dirs.runs.iterdir()]
    frame = pl.read_parquet(dirs.runs / run_id / "metrics.parquet")
    system = frame.filter(pl.col("split") == "system")
    gpu0 = system.filter(pl.col("metric") == "gpu.0.gpu").sort("step")
    assert gpu0["value"].to_list() == [float(v) for v in samples]  # type: ignore[arg-type]
    assert gpu0["step"].to_list() == list(range(len(samples)))
    assert gpu0["wall_time"].is_sorted() and gpu0["wall_time"].min() > 0  # type: ignore[operator]
    assert not system["metric"].str.contains(r"^cpu\.\d+\.cpu_percent$").any()
    assert frame.filter(pl.col("split") == "train").height > 0  # history is still there

    console = (dirs.runs / run_id / "logs" / "console.log").read_text()
    assert console == (run_dir / "files" / "output.log").read_text()

    assert gsm("render", run_id, cwd=tmp_path).returncode == 0
    report = (dirs.reports / run_id / "report.md").read_text()
    assert f"peak memory {peak / 2**30:.2f} GiB" in report
    assert "2 GPU(s)" in report and "mean utilisation" in report


def test_a_wandb_file_alone_keeps_its_console_from_the_log(tmp_path: Path) -> None:
    alone = tmp_path / "run-vxmvktnt.wandb"
    shutil.copy(next(_run_dir().glob("*.wandb")), alone)
    data = wandb_run.read(alone)
    assert data.console is not None and "use_cache=True" in data.console
    assert data.frame.schema == pl.Schema(SCHEMA)


def test_system_usage_by_hand() -> None:
    def row(metric: str, step: int, value: float) -> dict[str, object]:
        return {"split": "system", "metric": metric, "step": step, "value": value}

    frame = pl.DataFrame(
        [
            row("gpu.0.memoryAllocatedBytes", 0, 2.0e9),
            row("gpu.0.memoryAllocatedBytes", 1, 6.0e9),
            row("gpu.1.memoryAllocatedBytes", 0, 4.0e9),
            row("gpu.0.gpu", 0, 90.0),
            row("gpu.0.gpu", 1, 70.0),
            row("gpu.1.gpu", 0, 0.0),
            row("gpu.1.gpu", 1, math.nan),  # a bad sample is left out, not averaged
            row("cpu", 0, 55.0),
        ]
    )
    usage = system_usage(frame)
    assert usage is not None
    assert (usage.n_gpus, usage.peak_memory_bytes, usage.peak_memory_pct) == (2, 6.0e9, None)
    assert usage.mean_utilisation_pct == pytest.approx(160 / 3)
    assert usage.n_samples == 3
    assert system_usage(frame.filter(pl.col("metric") == "cpu")) is None
