"""The fork server of a parallel import starts early, with one polars thread per worker."""

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
    reason="needs a fork server (not on Windows) and /proc to see its process",
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
