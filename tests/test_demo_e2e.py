"""The demo path end to end, small: base eval, LoRA, full, evals, reports; numbers traced.

Every headline figure printed in report.md must be the one computed from metrics.parquet
and samples.jsonl — that is the promise the reports make.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from gsmreport.analysis.stats import wilson_interval
from gsmreport.core.settings import Dirs
from gsmreport.demo.run import DemoSize, run_demo
from tests.surfaces import assert_surfaces_agree

pytestmark = pytest.mark.slow


def _loss_curve(run_dir: Path) -> pl.DataFrame:
    frame = pl.read_parquet(run_dir / "metrics.parquet")
    return frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss")).sort("step")


def test_demo_small_end_to_end(tmp_path: Path, dirs: Dirs) -> None:
    size = DemoSize(n_train=120, n_eval=10, epochs=2, max_new_tokens=32, pdf=True)
    said: list[str] = []
    result = run_demo(dirs, tmp_path / "work", size=size, say=said.append)
    assert [r.split("-")[-1] for r in result.run_ids] == ["base", "lora", "full"]
    assert said[0].startswith("[1/8]") and said[-1].startswith("[8/8]")
    # One analysis: show --json, runs --format json, analysis.json, the TUI's table and run
    # view all print the same figures for every demo run.
    assert_surfaces_agree(dirs, result.run_ids)

    for rid in result.run_ids:
        report_dir = dirs.reports / rid
        md = (report_dir / "report.md").read_text()
        pdf = (report_dir / "report.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        run_dir = dirs.runs / rid
        results_path = next((run_dir / "evals").glob("*/results.json"))
        counts = json.loads(results_path.read_text())["counts"]["strict-match"]
        rows = [
            json.loads(line)
            for line in (results_path.parent / "samples.jsonl").read_text().splitlines()
        ]
        assert counts["n"] == len(rows) == 10
        assert counts["correct"] == sum(r["correct"] for r in rows)
        low, high = wilson_interval(counts["correct"], counts["n"])
        assert f"{counts['correct']} / 10" in md
        assert f"{low * 100:.1f} % – {high * 100:.1f} %" in md
        if rid.endswith("base"):
            assert "not measured" in md  # an eval-only run has no training log
            continue
        curve = _loss_curve(run_dir)
        first, final = curve.row(0, named=True), curve.row(-1, named=True)
        drop = (first["value"] - final["value"]) / first["value"] * 100
        assert f"{first['value']:.4f} (step {first['step']})" in md
        assert f"{final['value']:.4f} (step {final['step']})" in md
        assert f"{drop:.1f} %" in md
        assert (report_dir / "charts" / "loss.png").read_bytes().startswith(b"\x89PNG")
        assert "![Figure 1: Learning curve](charts/loss.png)" in md
