"""Shared fixtures. Nothing here reaches the network: data and models are built locally."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from gsmreport.core.settings import Dirs

# CI must not go red on a case no one has seen before; the same examples run every time
# (and the examples the property tests pin with @example). HYPOTHESIS_PROFILE=explore
# searches afresh on each run, which is how new edge cases are found locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _own_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's own settings file (core/user_settings.py)."""
    path = tmp_path_factory.mktemp("settings") / "settings.json"
    monkeypatch.setenv("GSMREPORT_SETTINGS", str(path))


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    """Fresh runs/ and reports/ folders; the env vars point there so subprocesses agree."""
    d = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    monkeypatch.setenv("GSMREPORT_RUNS_DIR", str(d.runs))
    monkeypatch.setenv("GSMREPORT_REPORTS_DIR", str(d.reports))
    return d


REQUIRE_SHARED = "GSMREPORT_REQUIRE_SHARED_DATA"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or a clean skip when that folder is not beside the repo.

    With GSMREPORT_REQUIRE_SHARED_DATA=1 (set by .ci/run) a missing file fails instead: the
    real-data tests are the strongest oracles and must never stop running silently in CI.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get(REQUIRE_SHARED, "") not in ("", "0"):
            pytest.fail(f"real third-party data missing at {path}, and {REQUIRE_SHARED} is set")
        pytest.skip(f"real third-party data not present at {path} (../shared/data is optional)")
    return path


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m gsmreport ARGS` as a user would run it; `env` is added to this process's."""
    return subprocess.run(
        [sys.executable, "-m", "gsmreport", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
