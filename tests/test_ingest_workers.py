"""The workers of a parallel import start early, with one polars thread each: forked from
the importing process where that is safe, else from a fork server started early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gsmreport.ingest.workers import worker_context

pytestmark = pytest.mark.skipif(
    worker_context().get_start_method() != "forkserver" or not Path("/proc").is_dir(),
    reason="needs a fork server (not on Windows) and /proc (Linux) to see its processes",
)

# In a fresh interpreter: start the server, list this process's children at once, then ask
# a worker forked from that server for its POLARS_MAX_THREADS.
_PROBE = """
import json, os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from gsmreport.ingest.workers import start_worker_server, worker_context

def children():
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                out.append((stat.parent / "cmdline").read_bytes().decode(errors="replace"))
        except (OSError, IndexError, ValueError):
            pass
    return out

before = children()
start_worker_server()
after = children()
here = os.environ.get("POLARS_MAX_THREADS")
with ProcessPoolExecutor(1, mp_context=worker_context()) as pool:
    worker = pool.submit(os.getenv, "POLARS_MAX_THREADS").result()
print(json.dumps({"before": before, "after": after, "here": here, "worker": worker}))
"""


def _probe(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_the_server_starts_at_once_and_its_workers_run_one_polars_thread() -> None:
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    seen = _probe(env)
    assert not any("forkserver" in str(c) for c in seen["before"])  # type: ignore[attr-defined]
    assert any("forkserver" in str(c) for c in seen["after"])  # type: ignore[attr-defined]
    assert seen["here"] is None  # this process's environment is left as it was
    assert seen["worker"] == "1"


def test_a_users_setting_is_restored_here() -> None:
    seen = _probe({**os.environ, "POLARS_MAX_THREADS": "3"})
    assert seen["here"] == "3"
    assert seen["worker"] == "1"  # as before: an import's workers run one thread each


def test_chunks_hand_out_every_job_once_in_order_and_shrink_to_one() -> None:
    from gsmreport.ingest.importer import _Chunks

    jobs: list[Any] = list(range(1000))  # any items will do
    chunks = _Chunks(jobs, 2)
    taken: list[list[Any]] = []
    while chunks:
        taken.append(chunks.take())
    assert [job for chunk in taken for job in chunk] == jobs
    sizes = [len(chunk) for chunk in taken]
    assert sizes == sorted(sizes, reverse=True)  # never larger than the one before
    assert sizes[0] == 1000 // 16 and sizes[-8:] == [1] * 8


# In a fresh interpreter set up as the CLI is for `ingest -j 2` (POLARS_MAX_THREADS=1, polars
# and numpy imported): may it fork, then after each thing that makes forking unsafe?
_FORK_PROBE = """
import json, os, threading
import numpy, polars as pl
from gsmreport.ingest.workers import can_fork_here
seen = {"imported": can_fork_here()}
os.environ["POLARS_MAX_THREADS"] = "2"
seen["other polars threads"] = can_fork_here()
os.environ["POLARS_MAX_THREADS"] = "1"
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
seen["python thread"] = can_fork_here()
stop.set(); thread.join()
pl.DataFrame({"a": range(1000)}).sort("a")
seen["after a query"] = can_fork_here()
print(json.dumps(seen))
"""


def test_forking_here_is_allowed_only_before_any_query_or_thread() -> None:
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _FORK_PROBE], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {
        "imported": True,  # fails if polars or numpy start threads of a kind not vetted
        "other polars threads": False,
        "python thread": False,
        "after a query": False,  # its compute pool is running
    }


# In a fresh interpreter: 70 runs imported on two processes, the worker forked from this one.
# Patches made before the fork are the worker's too: each job notes the process it ran in.
_FORKED_IMPORT = """
import gc, json, os, sys
from pathlib import Path
from gsmreport.ingest import importer

logs, runs, pids = (Path(p) for p in sys.argv[1:4])
real_job, real_fork = importer.run_job, importer.forked_workers
forked = []

def job(j):
    with pids.open("a") as handle:
        handle.write(f"{os.getpid()} {gc.get_freeze_count()}\\n")
    return real_job(j)

def fork(processes):
    pool = real_fork(processes)
    forked.append(pool is not None)
    return pool

importer.run_job, importer.forked_workers = job, fork
outcomes = importer.import_paths(runs, [logs], recursive=True, jobs=2)
frozen = gc.get_freeze_count()
print(json.dumps({"forked": forked, "ok": sum(o.ok for o in outcomes), "parent": os.getpid(),
                  "frozen after": frozen}))
"""


def test_an_import_on_workers_forked_here_equals_one_on_a_single_process(
    tmp_path: Path,
) -> None:
    from gsmreport.ingest.importer import import_paths
    from tests.run_fixtures import assert_same_runs, write_trainer_state

    logs = tmp_path / "logs"
    for i in range(70):  # past _EARLY_START_FROM: the workers start before discovery
        history = [{"step": s, "loss": 3.0 / s + i, "epoch": s / 5} for s in range(1, 6)]
        write_trainer_state(logs / f"run-{i:02d}", history)
    serial = import_paths(tmp_path / "serial", [logs], recursive=True, jobs=1)
    pids = tmp_path / "pids.txt"
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    command = [sys.executable, "-c", _FORKED_IMPORT, str(logs), str(tmp_path / "forked"), str(pids)]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen["forked"] == [True] and seen["ok"] == 70
    ran_in = dict(line.split() for line in pids.read_text().splitlines())  # pid: frozen objects
    assert len(pids.read_text().splitlines()) == 70
    assert len(ran_in) == 2 and str(seen["parent"]) in ran_in  # this process and the worker
    [worker] = set(ran_in) - {str(seen["parent"])}
    # The worker's collections leave the objects it was forked with alone; here, after the
    # fork, they are collected again.
    assert int(ran_in[worker]) > 10_000 and seen["frozen after"] == 0
    assert_same_runs([o.run_id for o in serial], tmp_path / "serial", tmp_path / "forked")
