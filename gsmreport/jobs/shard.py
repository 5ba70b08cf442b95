"""Data-parallel evaluation: which batches a rank generates, and rank 0's merge.

Under `accelerate launch` every rank runs the eval job on the whole sample. Each computes
the one-process batch plan and generates whole batches of it, round-robin (rank r: batches
r, r+N, ...), never a re-batched slice of the problems: a batch is then padded exactly as a
one-process run pads it, so greedy decoding writes the same text, problem for problem.
The rows travel to rank 0 through torch.distributed's gather_object over gloo, which moves
Python objects through the CPU on CPU and CUDA machines alike (no NCCL, no device to pick).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gsmreport.jobs.common import rank, world_size

# A rank that finished its share waits in the gather for the slowest rank; round-robin
# batches keep that wait to about one batch, but a slow first model load counts too.
GATHER_TIMEOUT = dt.timedelta(hours=6)


def my_batches(
    plan: list[list[int]], r: int | None = None, world: int | None = None
) -> list[list[int]]:
    """This rank's batches of the plan, in plan order."""
    r = rank() if r is None else r
    world = world_size() if world is None else world
    return plan[r::world]


def plan_line(plan: list[list[int]], n_docs: int) -> str:
    """What rank 0 says before generating: the split and why some ranks may idle."""
    world = world_size()
    counts = [len(my_batches(plan, r, world)) for r in range(world)]
    line = (
        f"[gsmreport] evaluating {n_docs} problems in {world} processes: "
        f"{len(plan)} batches, {'/'.join(map(str, counts))} per rank"
    )
    if len(plan) < world:
        line += " (fewer batches than processes: a smaller --batch-size would use them all)"
    return line


def merge(parts: list[dict[int, dict[str, Any]]], n_docs: int) -> list[dict[str, Any]]:
    """Every rank's {prompt index: row} as one list in doc order; each problem exactly once."""
    rows: dict[int, dict[str, Any]] = {}
    for part in parts:
        twice = rows.keys() & part.keys()
        if twice:
            raise RuntimeError(f"problem {min(twice)} was evaluated by two ranks")
        rows.update(part)
    missing = sorted(set(range(n_docs)) - rows.keys())
    if missing:
        raise RuntimeError(f"{len(missing)} problem(s) evaluated by no rank, e.g. {missing[0]}")
    return [rows[i] for i in range(n_docs)]


def merge_on_main(part: dict[int, dict[str, Any]], n_docs: int) -> list[dict[str, Any]] | None:
    """All rows in doc order on rank 0 (the only rank that writes files); None elsewhere."""
    world = world_size()
    if world == 1:
        return merge([part], n_docs)
    import torch.distributed as dist

    # Joined only now, after generation: no rank waits in a collective while it generates.
    dist.init_process_group("gloo", timeout=GATHER_TIMEOUT)
    try:
        main = rank() == 0
        parts: list[Any] | None = [None] * world if main else None
        dist.gather_object(part, parts, dst=0)
    finally:
        dist.destroy_process_group()
    if parts is None:
        return None
    return merge([p for p in parts if p is not None], n_docs)
