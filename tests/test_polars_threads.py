"""A parallel import runs one polars thread per process, unless the user chose otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = (
    "from gsmreport.core.polars_threads import one_thread_per_process;"
    "in_time = one_thread_per_process();"
    "import polars as pl;"
    "print(in_time, pl.thread_pool_size())"
)


def _probe(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_one_thread_before_polars_is_imported() -> None:
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    assert _probe(env) == "True 1"


def test_a_users_setting_is_kept() -> None:
    assert _probe({**os.environ, "POLARS_MAX_THREADS": "2"}) == "True 2"


def test_too_late_once_polars_is_imported() -> None:
    code = "import polars;" + _PROBE
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split()[0] == "False"
