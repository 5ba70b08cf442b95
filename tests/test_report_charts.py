"""The run report's four charts: decimation keeps the extremes, specs are valid Vega-Lite, a
missing series says "not measured", figures are numbered and cited; templates compile once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from gsmreport.core.decimate import minmax_decimate
from gsmreport.core.runs import RunRecord
from gsmreport.ingest import rows_from_log
from gsmreport.ingest.schema import frame_from_rows
from gsmreport.report.chart_specs import learning_rate_spec, loss_spec, token_accuracy_spec
from gsmreport.report.render import render_run_report
from gsmreport.report.templating import make_env
from tests.run_fixtures import jsonl_line, make_train_run, write_record


def test_decimation_keeps_ends_and_every_buckets_extremes() -> None:
    steps = list(range(1, 1001))
    values = [float(s % 7) for s in steps]
    values[500] = 99.0  # a spike an evenly spaced sample could step over
    values[733] = -5.0
    kept = minmax_decimate(steps, values, 100)
    assert kept == sorted(set(kept)) and kept[0] == 0 and kept[-1] == 999
    assert len(kept) <= 100
    assert 500 in kept and 733 in kept
    assert max(values[i] for i in kept) == 99.0 and min(values[i] for i in kept) == -5.0


def test_short_curves_are_drawn_whole_and_mismatches_refused() -> None:
    assert minmax_decimate([1, 2, 3], [0.1, 0.2, 0.3], 400) == [0, 1, 2]
    with pytest.raises(ValueError, match="3 steps but 2 values"):
        minmax_decimate([1, 2, 3], [0.1, 0.2], 400)


def _long_frame(steps: int = 2000) -> pl.DataFrame:
    rows = []
    for s in range(1, steps + 1):
        log = {
            "loss": 2.0 - s / steps,
            "learning_rate": 2e-4 * (1 - s / steps),
            "mean_token_accuracy": 0.5 + 0.3 * s / steps,
        }
        if s % 100 == 0:
            log["eval_loss"] = 2.1 - s / steps
        rows += rows_from_log(log, run_id="r", source="metrics_jsonl", step=s)
    return frame_from_rows(rows)


def test_specs_are_valid_vega_lite_with_their_real_rows() -> None:
    """The builders validate on a one-row stand-in for speed; the full spec must still pass."""
    frame = _long_frame()
    for build in (loss_spec, learning_rate_spec, token_accuracy_spec):
        spec = build(frame)
        assert spec is not None
        alt.LayerChart.from_dict(spec, validate=True)
        # 2,000 steps per curve are drawn from at most 400 points each.
        per_series: dict[str, int] = {}
        for row in spec["data"]["values"]:
            per_series[row["series"]] = per_series.get(row["series"], 0) + 1
        assert max(per_series.values()) <= 400


def test_missing_series_say_not_measured(tmp_path: Path) -> None:
    """Loss without eval loss, no learning rate, no token accuracy: one chart, and a line for
    each series that is absent instead of an empty frame."""
    run_dir = tmp_path / "runs" / "r"
    run_dir.mkdir(parents=True)
    lines = [jsonl_line(10 * i, {"loss": 2.0 - 0.01 * i}) for i in range(1, 30)]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    record = write_record(run_dir)
    paths = render_run_report(run_dir, record, tmp_path / "out", html=True)
    assert {p.name for p in paths.charts} == {"loss.png", "loss.svg"}
    md = paths.md.read_text()
    assert "Figure 1. Training loss as logged at each step" in md
    assert "Eval loss: not measured." in md
    assert "Learning-rate figure: not measured (no learning rate logged)" in md
    assert "Figure 2" not in md
    html = paths.html.read_text() if paths.html else ""
    assert html.count("<svg") == 1 and "Learning-rate figure: not measured" in html


def test_four_figures_numbered_in_order_and_cited(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)
    md = render_run_report(run_dir, record, tmp_path / "out").md.read_text()
    names = ("loss", "learning_rate", "token_accuracy", "accuracy_by_steps")
    positions = [md.index(f"](charts/{name}.png)") for name in names]
    assert positions == sorted(positions)
    for number, name in enumerate(names, start=1):
        assert f"![Figure {number}: " in md and f"\nFigure {number}. " in md
        # Cited in the text of its section, not only under the picture.
        section = md[: md.index(f"](charts/{name}.png)")].rsplit("\n## ", 1)[1]
        assert f"Figure {number} " in section.replace(f"![Figure {number}:", "")


def test_templates_compile_once_and_again_after_an_edit(tmp_path: Path) -> None:
    assert make_env("md") is make_env("md")
    assert make_env("md") is not make_env("html")
    user = tmp_path / "tpl"
    user.mkdir()
    template = user / "report.md.j2"
    template.write_text("one {{ run.id }}")
    env = make_env("md", user)
    assert make_env("md", user) is env
    template.write_text("two {{ run.id }}")
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    edited = make_env("md", user)
    assert edited is not env
    record = RunRecord.model_validate({"id": "x", "kind": "train", "status": "completed"})
    assert edited.get_template("report.md.j2").render(run=record) == "two x"


def test_rendering_two_runs_reuses_the_compiled_templates(tmp_path: Path) -> None:
    first = make_train_run(tmp_path / "a")
    second = make_train_run(tmp_path / "b")
    render_run_report(*first, tmp_path / "out-a", html=True)
    env = make_env("html")
    compiled = json.dumps(sorted(str(k) for k in (env.cache or {})))
    render_run_report(*second, tmp_path / "out-b", html=True)
    assert make_env("html") is env
    assert json.dumps(sorted(str(k) for k in (env.cache or {}))) == compiled


def _loss_frame(n: int, gap: int = 7) -> pl.DataFrame:
    rows = []
    for i in range(n):
        rows += rows_from_log(
            {"loss": 3.0 / (i + 1), "step": gap * (i + 1)}, run_id="r", source="s"
        )
    return frame_from_rows(rows)


def test_chart_and_table_share_the_smoothing_rule() -> None:
    """Below the minimum the chart draws no smoothed line and the table has no smoothed row;
    at it, the chart's line is the table's smoothed curve point for point."""
    from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS, smooth
    from gsmreport.analysis.training import summarize_curve

    short = _loss_frame(MIN_SMOOTH_POINTS - 1)
    spec = loss_spec(short)
    assert spec is not None
    assert {r["series"] for r in spec["data"]["values"]} == {"train loss"}
    curve = summarize_curve(short, "train", "loss")
    assert curve is not None and curve.ema_final is None

    frame = _loss_frame(MIN_SMOOTH_POINTS + 2)
    spec = loss_spec(frame)
    assert spec is not None
    drawn = [r["value"] for r in spec["data"]["values"] if r["series"] == "train loss, smoothed"]
    steps = [7 * (i + 1) for i in range(MIN_SMOOTH_POINTS + 2)]
    expected = smooth(steps, [3.0 / (i + 1) for i in range(MIN_SMOOTH_POINTS + 2)])
    assert expected is not None and drawn == pytest.approx(list(expected.values))
    curve = summarize_curve(frame, "train", "loss")
    assert curve is not None and curve.ema_final is not None
    assert curve.ema_final.value == pytest.approx(drawn[-1])
