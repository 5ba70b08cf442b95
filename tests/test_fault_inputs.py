"""Bad inputs a real lab meets (issue 16): each gives one `error:` line naming what is wrong,
and never costs the good inputs beside it."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from gsmreport.core.settings import Dirs
from gsmreport.ingest.importer import import_paths

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _state(path: Path, *, loss: str = "1.5") -> Path:
    """A trainer_state.json whose first loss is written verbatim (so it can be any JSON number)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '{"log_history": [{"step": 1, "epoch": 0.5, "loss": ' + loss + "}, "
        '{"step": 2, "epoch": 1.0, "loss": 0.5}], "global_step": 2, "max_steps": 2}'
    )
    return path


def _as_plain_user() -> None:
    """Runs in the child before exec: without the DAC capabilities, root meets mode 000 the
    way any other user does (tests run as root in containers, where chmod alone proves
    nothing)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _gsm_as_user(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gsmreport", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_plain_user,
    )


def test_integer_too_large_for_a_float_is_an_infinity(tmp_path: Path, dirs: Dirs) -> None:
    """Item 1: `"loss": 1` + 400 zeros imported as +inf, and the other source imported too."""
    huge = _state(tmp_path / "huge" / "trainer_state.json", loss="1" + "0" * 400)
    plain = _state(tmp_path / "plain" / "trainer_state.json")
    outcomes = import_paths(dirs.runs, [huge.parent, plain.parent])
    assert [o.error for o in outcomes] == [None, None]
    frame = pl.read_parquet(dirs.runs / "huge" / "metrics.parquet").sort("step")
    assert frame["value"].to_list() == [float("inf"), 0.5]


def test_unreadable_folder_is_one_error_and_its_neighbours_import(
    tmp_path: Path, dirs: Dirs
) -> None:
    """Item 2: a mode-000 folder is named in one line; with -r the readable one is imported."""
    logs = tmp_path / "logs"
    _state(logs / "ok" / "trainer_state.json")
    _state(logs / "locked" / "trainer_state.json")
    (logs / "locked").chmod(0)
    try:
        alone = _gsm_as_user("ingest", str(logs / "locked"), cwd=tmp_path)
        recursive = _gsm_as_user("ingest", "-r", str(logs), cwd=tmp_path)
    finally:
        (logs / "locked").chmod(0o755)
    assert alone.returncode == 1, alone.stderr
    assert alone.stderr.strip() == f"error: {logs / 'locked'}: permission denied " + (
        "(check the folder's permissions)"
    )
    assert "Traceback" not in recursive.stderr, recursive.stderr
    assert recursive.returncode == 1
    assert "imported ok <- " in recursive.stdout
    assert f"{logs / 'locked'}: permission denied" in recursive.stderr
    assert sorted(p.name for p in dirs.runs.iterdir()) == ["ok"]
