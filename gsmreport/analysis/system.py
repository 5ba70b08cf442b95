"""GPU figures from a run's system metrics (`split = "system"` rows, W&B's names).

W&B samples each GPU on a clock: `gpu.N.memoryAllocatedBytes` (bytes in use),
`gpu.N.memoryAllocated` (% of the device's memory), `gpu.N.gpu` (% of time a kernel ran).
Peak memory is the largest sample of any GPU; utilisation is the mean over every sample of
every GPU, so an idle second GPU pulls it down, as it should.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SYSTEM_SPLIT = "system"
_GPU = r"^gpu\.(\d+)\."


@dataclass(frozen=True)
class SystemUsage:
    n_gpus: int
    peak_memory_bytes: float | None
    peak_memory_pct: float | None
    mean_utilisation_pct: float | None
    n_samples: int  # utilisation samples, all GPUs together


def _gpu_values(system: pl.DataFrame, field: str) -> pl.Series:
    return system.filter(pl.col("metric").str.contains(f"{_GPU}{field}$")).get_column("value")


def _finite(values: pl.Series) -> pl.Series:
    return values.filter(values.is_finite())


def system_usage(frame: pl.DataFrame) -> SystemUsage | None:
    """Peak GPU memory and mean GPU utilisation; None when no GPU metric was logged."""
    system = frame.filter((pl.col("split") == SYSTEM_SPLIT) & pl.col("metric").str.contains(_GPU))
    if system.height == 0:
        return None
    gpus = system.get_column("metric").str.extract(_GPU).n_unique()
    memory = _finite(_gpu_values(system, "memoryAllocatedBytes"))
    percent = _finite(_gpu_values(system, "memoryAllocated"))
    busy = _finite(_gpu_values(system, "gpu"))
    return SystemUsage(
        n_gpus=gpus,
        peak_memory_bytes=float(memory.max()) if memory.len() else None,  # type: ignore[arg-type]
        peak_memory_pct=float(percent.max()) if percent.len() else None,  # type: ignore[arg-type]
        mean_utilisation_pct=float(busy.mean()) if busy.len() else None,  # type: ignore[arg-type]
        n_samples=busy.len(),
    )
