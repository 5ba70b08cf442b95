"""analysis/series.py: which panels a run has, in which order, and what is left out."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from gsmreport.analysis.series import run_series
from gsmreport.ingest.run import ingest_run
from gsmreport.ingest.schema import SCHEMA
from tests.run_fixtures import write_metrics_jsonl

Row = tuple[int, str, str, float, float | None]  # step, split, metric, value, wall time


def frame(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "run_id": "r",
                "source": "t",
                "step": step,
                "epoch": None,
                "split": split,
                "metric": metric,
                "value": value,
                "wall_time": wall,
            }
            for step, split, metric, value, wall in rows
        ],
        schema=SCHEMA,
    )


def test_fixture_run_panels_most_useful_first(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    write_metrics_jsonl(run_dir)
    ingest_run(run_dir, "r")
    found = run_series(pl.read_parquet(run_dir / "metrics.parquet"))
    titles = [p.title for p in found.panels]
    assert titles[:4] == ["loss", "mean_token_accuracy", "grad_norm", "learning_rate"]
    loss = found.panels[0]
    assert loss.names == ("train/loss", "eval/loss")  # train and eval share the panel
    assert [len(s.points) for s in loss.series] == [6, 2]
    assert loss.series[0].last == 1.09
    # The trainer's closing summary is logged once: values, not charts.
    finals = {s.name: s.last for s in found.finals}
    assert finals["train/runtime_s"] == 42.0 and finals["train/total_flos"] == 1.0e12
    # eval_runtime per evaluation stays a chart, without the run's one closing figure.
    assert found.panels[titles.index("runtime_s")].names == ("eval/runtime_s",)


def test_prefixed_metric_joins_its_panel_and_empty_series_are_left_out() -> None:
    rows: list[Row] = [(s, "eval", "accuracy", 0.5 + s / 100, None) for s in (10, 20, 30)]
    rows += [(30, "train", "test/accuracy", 0.35, None)]
    rows += [(s, "train", "broken", math.nan, None) for s in (10, 20)]
    found = run_series(frame(rows))
    assert [p.title for p in found.panels] == ["accuracy"]  # `broken` has nothing to draw
    accuracy = found.panels[0]
    assert accuracy.names == ("eval/accuracy", "test/accuracy")
    assert [s.label for s in accuracy.series] == ["eval", "test"]
    assert accuracy.series[1].last == 0.35
    assert found.finals == ()


def test_system_rows_share_a_panel_per_gpu_field_against_seconds() -> None:
    rows: list[Row] = [
        (i, "system", f"gpu.{g}.gpu", 50.0 + g, 10.0 * i) for i in range(3) for g in (0, 1)
    ]
    rows += [(i, "system", "cpu", 5.0, 10.0 * i) for i in range(3)]
    rows += [(i * 5, "train", "loss", 2.0 - i / 10, None) for i in range(3)]
    found = run_series(frame(rows))
    assert [p.title for p in found.panels] == ["loss", "system/gpu.gpu", "system/cpu"]
    gpu = found.panels[1]
    assert gpu.x_label == "seconds" and gpu.group == "system"
    assert [s.label for s in gpu.series] == ["gpu.0", "gpu.1"]
    assert gpu.series[1].points == ((0.0, 51.0), (10.0, 51.0), (20.0, 51.0))
    assert found.panels[0].x_label == "step"


def test_empty_frame_has_no_panels() -> None:
    found = run_series(pl.DataFrame(schema=SCHEMA))
    assert found.panels == () and found.finals == ()
