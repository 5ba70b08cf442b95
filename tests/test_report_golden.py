"""Golden Markdown report: a fixed run renders to exactly tests/golden/report.md.

Everything that could vary is fixed in the fixture (timestamps in run.yaml and results.json,
the report's own date through SOURCE_DATE_EPOCH), so no line is skipped. After an intended
change to the report, rewrite the golden file with `GSMREPORT_UPDATE_GOLDEN=1 pytest
tests/test_report_golden.py` and review the diff (DEVELOPERS.md).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import polars as pl
import pytest

from gsmreport.core.fsutil import atomic_write_text
from gsmreport.core.runs import Hardware, RunRecord
from gsmreport.report.render import render_run_report
from tests.report_samples import write_gsm_eval
from tests.run_fixtures import SUMMARY, eval_log, jsonl_line, train_log, write_record

GOLDEN = Path(__file__).parent / "golden" / "report.md"
UPDATE_ENV = "GSMREPORT_UPDATE_GOLDEN"
EPOCH = 1735732800  # 2025-01-01T12:00:00Z, the report's "Generated" date
STAMP = "2025-01-01T10:00:00+00:00"
# Thirty train points (steps 10–300) still falling at the end, so the "still improving?" fit
# has six points in its window; eight eval points that bottom out at step 160 and rise well
# above their noise, so the report must say "overfitting" and must not advise more epochs.
TRAIN_LOSS = [
    *(2.259, 2.117, 2.005, 1.892, 1.807, 1.717, 1.649, 1.572, 1.517, 1.455),
    *(1.416, 1.367, 1.336, 1.292, 1.266, 1.231, 1.216, 1.187, 1.176, 1.148),
    *(1.138, 1.115, 1.113, 1.095, 1.093, 1.074, 1.072, 1.056, 1.060, 1.048),
]
TRAIN_ACC = [round(0.50 + 0.006 * i, 3) for i in range(len(TRAIN_LOSS))]
EVAL = [
    *((40, 1.60, 0.57), (80, 1.40, 0.60), (120, 1.30, 0.62), (160, 1.26, 0.63)),
    *((200, 1.27, 0.63), (240, 1.31, 0.63), (280, 1.36, 0.62), (300, 1.42, 0.62)),
]


def build_golden_run(root: Path) -> tuple[Path, RunRecord]:
    run_dir = root / "runs" / "golden-run"
    run_dir.mkdir(parents=True)
    lines = []
    for i, (loss, acc) in enumerate(zip(TRAIN_LOSS, TRAIN_ACC, strict=True)):
        step = 10 * (i + 1)
        lines.append(jsonl_line(step, {**train_log(step, loss, acc), "learning_rate": 1e-4}))
        lines += [jsonl_line(s, eval_log(s, lo, a)) for s, lo, a in EVAL if s == step]
    lines.append(jsonl_line(300, SUMMARY))
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_gsm_eval(run_dir, with_loss=True)  # its results.json carries a fixed created_at
    record = write_record(
        run_dir,
        created_at=STAMP,
        started_at=STAMP,
        finished_at="2025-01-01T10:00:42+00:00",
        versions={"gsmreport": "0.1.0", "torch": "2.13.0"},
        # A named GPU and no price of its own: the cost comes from the dated default table.
        hardware=Hardware(device="cuda", device_name="NVIDIA A10G", count=1).model_dump(),
        price_per_device_hour=None,
        price_source=None,
    )
    return run_dir, record


@pytest.fixture
def golden_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    run_dir, record = build_golden_run(tmp_path)
    paths = render_run_report(run_dir, record, tmp_path / "reports" / record.id)
    return run_dir, paths.md.read_text(encoding="utf-8")


def test_report_matches_golden_file(golden_report: tuple[Path, str]) -> None:
    _, got = golden_report
    if os.environ.get(UPDATE_ENV) == "1":
        atomic_write_text(GOLDEN, got)
        pytest.skip(f"{UPDATE_ENV}=1: rewrote {GOLDEN}; review the diff and commit it")
    assert GOLDEN.is_file(), f"no golden file; create it with {UPDATE_ENV}=1"
    want = GOLDEN.read_text(encoding="utf-8")
    diff = "\n".join(
        difflib.unified_diff(want.splitlines(), got.splitlines(), "golden", "rendered", lineterm="")
    )
    assert got.splitlines() == want.splitlines(), (
        f"report.md differs from {GOLDEN} ({UPDATE_ENV}=1 rewrites it if intended):\n{diff}"
    )


def _table(markdown: str, heading: str) -> list[list[str]]:
    """Body rows of the first table under `heading`, as lists of cells."""
    section = markdown.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


CELL = re.compile(r"(-?\d+\.\d+) \(step (\d+)\)")


def _cell(text: str) -> tuple[float, int]:
    match = CELL.fullmatch(text)
    assert match, f"not a 'value (step n)' cell: {text!r}"
    return float(match.group(1)), int(match.group(2))


def _expected(curve: pl.DataFrame) -> dict[str, tuple[float, int] | float]:
    """first / final / min (value, step) and drop %, straight from a (step, value) frame."""
    first, final = curve.row(0, named=True), curve.row(-1, named=True)
    low = curve.with_row_index().sort("value", "index").row(0, named=True)  # first minimum
    return {
        "first": (first["value"], first["step"]),
        "final": (final["value"], final["step"]),
        "min": (low["value"], low["step"]),
        "drop": (first["value"] - final["value"]) / first["value"] * 100,
    }


def test_key_metrics_table_equals_the_parquet(golden_report: tuple[Path, str]) -> None:
    run_dir, markdown = golden_report
    frame = pl.read_parquet(run_dir / "metrics.parquet")

    def curve(split: str) -> pl.DataFrame:
        rows = frame.filter((pl.col("split") == split) & (pl.col("metric") == "loss"))
        return rows.filter(pl.col("value").is_finite()).sort("step").select("step", "value")

    train = curve("train")
    # The smoothing rule recomputed from its definition: weights 0.5 ** (Δstep / half-life)
    # over every earlier point, half-life 5 % of the step range, normalised by their sum.
    half = (train["step"].max() - train["step"].min()) * 0.05  # type: ignore[operator]
    pairs = train.join(train, how="cross", suffix="_past").filter(
        pl.col("step_past") <= pl.col("step")
    )
    weight = 0.5 ** ((pl.col("step") - pl.col("step_past")) / half)
    smoothed = (
        pairs.group_by("step")
        .agg(((weight * pl.col("value_past")).sum() / weight.sum()).alias("value"))
        .sort("step")
    )
    expected = {
        "train loss": _expected(train),
        f"train loss, smoothed (half-life {half:.0f} steps)": _expected(smoothed),
        "eval loss": _expected(curve("eval")),
    }
    assert train.height >= 10 and curve("eval").height < 10  # smoothed row for train only
    rows = _table(markdown, "## Key training metrics")
    assert [r[0] for r in rows] == list(expected)
    for name, first, final, low, drop in rows:
        want = expected[name]
        for label, cell in (("first", first), ("final", final), ("min", low)):
            value, step = _cell(cell)
            want_value, want_step = want[label]  # type: ignore[misc]
            assert step == want_step, f"{name} {label}: step {step} != {want_step}"
            assert value == pytest.approx(want_value, abs=0.5e-4), f"{name} {label}"
        assert float(drop.removesuffix(" %")) == pytest.approx(want["drop"], abs=0.05), name
