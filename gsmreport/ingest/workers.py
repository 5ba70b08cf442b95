"""The processes a parallel import runs on: how they start, and starting them early.

Kept apart from the importer, and free of its heavy imports (polars, numpy, pydantic): the
fork server preloads the importer, and needs nothing of this module but what it says here.
"""

from __future__ import annotations

from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext

from gsmreport.core.polars_threads import one_polars_thread

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
