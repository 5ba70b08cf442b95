"""One polars thread per process when several processes share the cores.

polars sizes its thread pool from POLARS_MAX_THREADS when it is first imported; later changes
to the variable do nothing in that process. A parallel import runs one process per core, each
building small tables, where a second polars thread per process only spins (sched_yield) and
takes CPU from the other processes. So the variable must be set before polars is imported:
by the CLI before it imports the importer, and for the worker processes when they start.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

POLARS_THREADS = "POLARS_MAX_THREADS"


def one_thread_per_process() -> bool:
    """Ask for one polars thread in this process and those it starts, unless the user set
    POLARS_MAX_THREADS; False when polars is imported already (too late for this process)."""
    os.environ.setdefault(POLARS_THREADS, "1")
    return "polars" not in sys.modules


@contextlib.contextmanager
def one_polars_thread() -> Iterator[None]:
    """POLARS_MAX_THREADS=1 in the processes started inside the block (polars reads it at
    import), a parallel import's workers. Unlike one_thread_per_process, a user's setting
    is overridden in them, and restored in this process after."""
    saved = os.environ.get(POLARS_THREADS)
    os.environ[POLARS_THREADS] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(POLARS_THREADS, None)
        else:
            os.environ[POLARS_THREADS] = saved
