"""One analysis, every surface: the same figures in `show --json`, `runs --format json`,
analysis.json, the TUI's runs table and the TUI's run view, for every real third-party log
in ../shared/data/real-logs (the demo's runs are checked the same way in test_demo_e2e)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gsmreport import pipeline
from gsmreport.core.settings import Dirs
from tests.conftest import shared_data
from tests.surfaces import assert_surfaces_agree, rendered, run_folders


def _import_real_logs(dirs: Dirs, tmp_path: Path) -> list[str]:
    logs = shared_data("real-logs")
    # Leave out the files that are not logs on purpose (Git-LFS pointers, a README).
    copy = tmp_path / "real-logs"
    # Plain copies: CI's ../shared is read-only, and its modes must not follow the copy.
    shutil.copytree(
        logs,
        copy,
        ignore=shutil.ignore_patterns("edge_cases", "*.md"),
        copy_function=shutil.copyfile,
    )
    outcomes = pipeline.import_logs(dirs, [copy], recursive=True)
    assert sum(o.ok for o in outcomes) >= 15
    return run_folders(dirs)


def test_real_logs_agree_on_every_surface(tmp_path: Path) -> None:
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    run_ids = _import_real_logs(dirs, tmp_path)
    rendered(dirs)
    assert_surfaces_agree(dirs, run_ids)
    # The lm-eval run carries two evaluations: all surfaces name the same latest one.
    lm_eval = next(r for r in run_ids if r.startswith("lm-eval"))
    written = json.loads((dirs.reports / lm_eval / "analysis.json").read_text())
    assert len(written["evaluations"]) == 2 and written["latest_evaluation"]


def test_imported_run_costs_the_same_everywhere(tmp_path: Path) -> None:
    """The killed W&B run once showed $5.242 in its report and '—' in `runs` (issue 13)."""
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    run_ids = _import_real_logs(dirs, tmp_path)
    rendered(dirs)
    wandb = next(r for r in run_ids if r.endswith("chk58nkd"))
    head = pipeline.analyse(dirs, wandb).headline()
    (row,) = [s for s in pipeline.summaries(dirs) if s.id == wandb]
    assert row == head
    report = (dirs.reports / wandb / "report.md").read_text()
    if head.cost_usd is not None:
        from gsmreport.core.fmt import usd

        assert usd(head.cost_usd) in report
