"""Ingest: HF log dicts → the long-form metrics table, from metrics.jsonl or trainer_state.json."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import polars as pl
import pytest

from gsmreport.core.errors import GsmReportError
from gsmreport.ingest import SCHEMA, finalize, ingest_run, needs_ingest, rows_from_log
from gsmreport.ingest.metrics_jsonl import parse_lines, read_metrics_jsonl
from gsmreport.ingest.schema import canonical, frame_from_rows
from gsmreport.ingest.trainer_state import read_trainer_state
from tests.conftest import shared_data
from tests.run_fixtures import jsonl_line, write_metrics_jsonl, write_trainer_state


def _value(frame: pl.DataFrame, split: str, metric: str, step: int) -> float:
    rows = frame.filter(
        (pl.col("split") == split) & (pl.col("metric") == metric) & (pl.col("step") == step)
    )
    assert rows.height == 1, rows
    return float(rows.get_column("value")[0])


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("loss", ("train", "loss")),
        ("eval_loss", ("eval", "loss")),
        ("eval/loss", ("eval", "loss")),
        ("train/loss", ("train", "loss")),
        ("eval_runtime", ("eval", "runtime_s")),
        ("train_runtime", ("train", "runtime_s")),
        ("train_samples_per_second", ("train", "samples_per_second")),
        ("train_loss", ("train", "train_loss_avg")),
        ("train/train_loss", ("train", "train_loss_avg")),
        ("lr", ("train", "learning_rate")),
        ("eval_mean_token_accuracy", ("eval", "mean_token_accuracy")),
        ("some_new_metric", ("train", "some_new_metric")),
        ("epoch", None),
        ("train/global_step", None),
    ],
)
def test_canonical_names(key: str, expected: tuple[str, str] | None) -> None:
    assert canonical(key) == expected


def test_rows_from_log_keeps_non_finite_and_skips_non_numbers() -> None:
    rows = rows_from_log(
        {
            "loss": math.nan,
            "grad_norm": math.inf,
            "step": 5,
            "epoch": 0.1,
            "note": "x",
            "flag": True,
        },
        run_id="r",
        source="metrics_jsonl",
    )
    by_metric = {r["metric"]: r for r in rows}
    assert set(by_metric) == {"loss", "grad_norm"}
    assert math.isnan(by_metric["loss"]["value"])
    assert by_metric["grad_norm"]["value"] == math.inf
    assert by_metric["loss"]["step"] == 5 and by_metric["loss"]["epoch"] == 0.1


def test_rows_without_step_are_dropped() -> None:
    assert rows_from_log({"loss": 1.0}, run_id="r", source="s") == []
    assert parse_lines(['{"step": NaN, "logs": {"loss": 1.0}}'], "r").frame.height == 0


def test_finalize_dedupes_last_write_wins_and_sorts() -> None:
    rows = rows_from_log({"loss": 2.0, "step": 20}, run_id="r", source="s")
    rows += rows_from_log({"loss": 3.0, "step": 10}, run_id="r", source="s")
    rows += rows_from_log({"loss": 2.5, "step": 20}, run_id="r", source="s")  # resumed run
    frame = finalize(pl.DataFrame(rows, schema=SCHEMA))
    assert frame.get_column("step").to_list() == [10, 20]
    assert frame.get_column("value").to_list() == [3.0, 2.5]
    assert frame.schema == pl.Schema(SCHEMA)


def test_metrics_jsonl_full_shape(tmp_path: Path) -> None:
    frame = read_metrics_jsonl(write_metrics_jsonl(tmp_path), "r").frame
    assert frame.schema == pl.Schema(SCHEMA)
    assert _value(frame, "train", "loss", 10) == 2.31
    assert _value(frame, "eval", "loss", 30) == 1.70  # same step as a train entry
    assert _value(frame, "train", "loss", 30) == 1.60
    assert _value(frame, "train", "runtime_s", 60) == 42.0
    assert _value(frame, "train", "train_loss_avg", 60) == 1.57
    assert _value(frame, "eval", "samples_per_second", 30) == 33.3
    row = frame.filter(pl.col("metric") == "loss").row(0, named=True)
    assert row["wall_time"] == pytest.approx(7.0) and row["source"] == "metrics_jsonl"


def test_metrics_jsonl_nan_infinity_and_truncated_last_line(tmp_path: Path) -> None:
    extra = [jsonl_line(70, {"loss": math.nan, "grad_norm": math.inf}), '{"step": 80, "lo']
    result = read_metrics_jsonl(write_metrics_jsonl(tmp_path, extra), "r")
    assert "NaN" in (tmp_path / "metrics.jsonl").read_text()  # bare token, as Python writes it
    assert math.isnan(_value(result.frame, "train", "loss", 70))
    assert _value(result.frame, "train", "grad_norm", 70) == math.inf
    assert result.frame.filter(pl.col("step") == 80).height == 0
    assert len(result.warnings) == 1 and "cut off" in result.warnings[0]


def test_corrupt_middle_line_is_skipped_and_counted() -> None:
    lines = [jsonl_line(1, {"loss": 1.0}), "garbage{", jsonl_line(2, {"loss": 0.9})]
    result = parse_lines(lines, "r")
    assert result.frame.get_column("step").to_list() == [1, 2]
    assert result.warnings == ("metrics_jsonl: 1 unreadable line(s) skipped (line 2)",)


def test_trainer_state_with_bare_infinity(tmp_path: Path) -> None:
    path = write_trainer_state(
        tmp_path,
        [
            {"loss": 2.0, "grad_norm": math.inf, "step": 1, "epoch": 0.1},
            {"eval_loss": math.nan, "step": 1, "epoch": 0.1},
        ],
    )
    assert "Infinity" in path.read_text()
    frame = read_trainer_state(path, "r").frame
    assert _value(frame, "train", "grad_norm", 1) == math.inf
    assert math.isnan(_value(frame, "eval", "loss", 1))
    assert frame.get_column("source").unique().to_list() == ["trainer_state"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("{not json", "not valid JSON"), ('{"global_step": 3}', "no `log_history` list")],
)
def test_unreadable_trainer_state_is_one_clear_line(
    tmp_path: Path, content: str, fragment: str
) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text(content)
    with pytest.raises(GsmReportError) as info:
        read_trainer_state(path, "r")
    assert str(path) in str(info.value) and fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_ingest_run_prefers_jsonl_and_writes_parquet(tmp_path: Path) -> None:
    write_metrics_jsonl(tmp_path)
    write_trainer_state(tmp_path, [{"loss": 99.0, "step": 10}])
    frame = ingest_run(tmp_path, "r")
    assert frame.get_column("source").unique().to_list() == ["metrics_jsonl"]
    on_disk = pl.read_parquet(tmp_path / "metrics.parquet")
    assert on_disk.equals(frame)
    assert not list(tmp_path.glob(".metrics.parquet.*"))  # no temp file left behind
    assert not needs_ingest(tmp_path)


def test_ingest_eval_only_run_is_empty_with_schema(tmp_path: Path) -> None:
    frame = ingest_run(tmp_path, "base")
    assert frame.height == 0 and frame.schema == pl.Schema(SCHEMA)
    assert pl.read_parquet(tmp_path / "metrics.parquet").schema == pl.Schema(SCHEMA)


def test_frame_from_no_rows_has_schema() -> None:
    assert frame_from_rows([]).schema == pl.Schema(SCHEMA)


def _real(name: str) -> Path:
    return shared_data("real-logs", "trainer_state", name)


def test_real_trainer_state_tinyllama(tmp_path: Path) -> None:
    source = _real("Dheena731+tinyLlama-finetune__trainer_state.json")
    shutil.copy(source, tmp_path / "trainer_state.json")
    frame = ingest_run(tmp_path, "tinyllama")
    history = json.loads(source.read_text())["log_history"]
    n_train = sum("loss" in e for e in history)
    n_eval = sum("eval_loss" in e for e in history)
    train = frame.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
    evals = frame.filter((pl.col("split") == "eval") & (pl.col("metric") == "loss"))
    assert (train.height, evals.height) == (n_train, n_eval)
    assert train.get_column("value")[0] == history[0]["loss"]


def test_real_trainer_state_with_bare_infinity(tmp_path: Path) -> None:
    source = _real("MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json")
    assert "Infinity" in source.read_text()
    shutil.copy(source, tmp_path / "trainer_state.json")
    frame = ingest_run(tmp_path, "hr-chatbot")
    grad = frame.filter(pl.col("metric") == "grad_norm").get_column("value")
    assert grad.is_infinite().sum() >= 1
    assert frame.filter(pl.col("metric") == "loss").height > 0


@pytest.mark.parametrize(
    "name",
    [
        "Dheena731+tinyLlama-finetune__trainer_state.json",
        "syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json",
        "MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json",
    ],
)
def test_column_wise_build_equals_row_by_row(name: str) -> None:
    """The fast path must give exactly the row path's table, duplicates and all."""
    import json

    from polars.testing import assert_frame_equal

    from gsmreport.ingest.schema import frame_from_logs, frame_from_rows, rows_from_log

    history = json.loads(shared_data("real-logs", "trainer_state", name).read_text())["log_history"]
    # a resumed run logs steps again, sometimes with other values: the later entry wins
    history = [*history, *history[:5], dict(history[3], loss=9.0, eval_loss=1.0)]
    built = frame_from_logs(history, source="trainer_state")
    assert built is not None
    rows = [r for e in history for r in rows_from_log(e, run_id="", source="trainer_state")]
    assert_frame_equal(built[0], frame_from_rows(rows))
    at_step = built[0].filter(pl.col("step") == history[3]["step"], pl.col("metric") == "loss")
    assert at_step.sort("split")["value"].to_list() == [1.0, 9.0]  # eval, train


def test_column_wise_build_equals_row_by_row_on_edge_entries() -> None:
    """A NaN step, NaN/inf values and epochs, a fractional step, two keys for one metric in
    one entry, a step logged twice: the numpy build keeps exactly what the row path keeps."""
    from polars.testing import assert_frame_equal

    from gsmreport.ingest.schema import frame_from_logs, frame_from_rows, rows_from_log

    history: list[dict[str, object]] = [
        {"step": 1, "epoch": 0.1, "loss": 2.0, "lr": 1e-4, "learning_rate": 2e-4},
        {"step": 1, "eval_loss": math.nan, "epoch": math.inf},
        {"step": 2.7, "loss": math.inf, "grad_norm": None},
        {"step": math.nan, "loss": 6.0},
        {"step": 2, "loss": 1.5, "epoch": None},
        {"step": 1, "loss": 1.9},  # a resumed run logs step 1 again: this one wins
    ]
    built = frame_from_logs(history, source="trainer_state")
    assert built is not None
    rows = [r for e in history for r in rows_from_log(e, run_id="", source="trainer_state")]
    assert_frame_equal(built[0], frame_from_rows(rows))
    assert built[1] == {0, 1, 2, 4, 5}
