"""The processes a parallel import runs on: how they start, and starting them early.

Two ways, the first where it is safe:

- forked from this very process, before it has run a polars query (`forked_workers`): the
  workers exist at once and import nothing this process has imported already;
- else forked from a fork server, a fresh process that imports WORKER_MODULES first
  (`worker_context`, `start_worker_server`): ~0.5 s before the first worker can start.

Kept apart from the importer, and free of its heavy imports (polars, numpy, pydantic): the
fork server preloads the importer, and needs nothing of this module but what it says here.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path

from gsmreport.core.polars_threads import POLARS_THREADS, one_polars_thread

# What a worker needs for the common sources, imported once by the fork server.
WORKER_MODULES = (
    "gsmreport.ingest.importer",
    "gsmreport.ingest.trainer_state",
    "gsmreport.analysis.summary_cache",
    "gsmreport.analysis.run",  # the headline's analysis: else each worker imports it anew
)


def worker_context() -> BaseContext:
    """Not fork: polars holds a thread pool, and forking a threaded process can hang.

    A fork server imports the reader modules once, in a fresh single-threaded process (polars
    starts its pool only at first use), and forks each worker from there: ~1.4 s less than
    spawning two workers that each import Python, numpy and polars again. Spawn where there
    is no fork server (Windows).
    """
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_MODULES))
    return context


def start_worker_server() -> None:
    """Start the fork server now rather than when the first worker is needed.

    It only spawns the process (a few ms here); the server imports WORKER_MODULES on its own
    while the caller discovers and plans, so the first worker starts sooner: 1,000 runs
    of benchmarks/ingest.py imported in 5.94 s against 6.17 s (medians of six alternating
    runs). Starting it earlier still, in the CLI before the importer is imported, gained
    nothing more (6.00 s). A server already running is kept; one that no worker ends up
    using exits with this process.
    """
    context = worker_context()
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    with one_polars_thread():  # the server's environment is its workers'
        forkserver.ensure_running()


# The threads that importing polars and numpy starts, idle until a query runs: jemalloc's
# background purgers and polars' out-of-core cleaner by name (Linux keeps 15 characters),
# OpenBLAS's workers under the process's own name. The fork server has them too, once it has
# imported WORKER_MODULES, and forks every worker with them; jemalloc and OpenBLAS register
# fork handlers for theirs. A polars query adds its compute pool (polars-N, tokio-rt-worker,
# async-executor-N), busy or holding locks at any moment: no fork after that.
_IMPORT_THREADS = frozenset({"jemalloc_bg_thd", "polars-ooc-clea"})


def _thread_names() -> list[str] | None:
    """The name of each of this process's threads; None where /proc cannot tell."""
    try:
        tasks = os.listdir("/proc/self/task")
        return [Path(f"/proc/self/task/{task}/comm").read_text().strip() for task in tasks]
    except OSError:  # not Linux, or a thread that ended while being listed
        return None


def can_fork_here() -> bool:
    """Whether workers can be forked from this process as safely as from the fork server.

    On Linux, with POLARS_MAX_THREADS=1 (polars read it at import, and a forked worker keeps
    what this process read), no Python thread but this one, and no other thread but those
    importing polars and numpy starts (_IMPORT_THREADS, or named as the process is). The CLI
    is in that state when it reaches the import; the TUI, which imports from a thread, and a
    process that has run a polars query are not, and use the fork server.
    """
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    if os.environ.get(POLARS_THREADS) != "1":
        return False
    names = _thread_names()
    if names is None:
        return False
    own = Path("/proc/self/comm").read_text().strip()
    return all(name == own or name in _IMPORT_THREADS for name in names)


def _preload() -> None:
    """A forked worker's first task: what its first run would import, while the parent
    discovers and plans."""
    for name in WORKER_MODULES:
        importlib.import_module(name)


def forked_workers(processes: int) -> ProcessPoolExecutor | None:
    """`processes` workers forked from this process now, or None where that is not safe
    (see can_fork_here; the caller then uses the fork server).

    Forked before discovery, they are ready when the first job is: 1,000 runs of
    benchmarks/ingest.py had their second process's first run at 0.51 s instead of 0.90 s,
    and took 5.35 s instead of 5.53 s (medians of three). The caller shuts the pool down.
    """
    if not can_fork_here():
        return None
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # else each worker would write this process's buffered output again
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() beside any thread; can_fork_here vetted these.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        pool = ProcessPoolExecutor(processes, mp_context=get_context("fork"))
        # Frozen, this process's objects are left out of the workers' collections, which
        # would otherwise write to every page holding one (copy-on-write: a private copy
        # each), as the gc module's documentation advises before a fork: 41,400 -> 38,500
        # page faults and 5.37 -> 5.29 s for 1,000 x 2,000 (three alternating runs each).
        gc.freeze()
        try:
            for _ in range(processes):
                pool.submit(_preload)  # the first submission forks every worker
        finally:
            gc.unfreeze()  # this process collects as before
    return pool
