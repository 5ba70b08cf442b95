"""Training-curve and evaluation analysis: figures with their steps, Wilson intervals, examples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from gsmreport.analysis.evaluation import (
    RESPONSE_CHARS,
    load_samples,
    summarize_eval,
    summarize_evals,
)
from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS
from gsmreport.analysis.stats import wilson_interval
from gsmreport.analysis.training import (
    TOKEN_ACCURACY_LABEL,
    summarize_curve,
    summarize_training,
)
from gsmreport.ingest import ingest_run, rows_from_log
from gsmreport.ingest.schema import frame_from_rows
from tests.run_fixtures import EVAL, TRAIN, write_eval, write_metrics_jsonl


@pytest.fixture
def frame(tmp_path: Path) -> pl.DataFrame:
    write_metrics_jsonl(tmp_path)
    return ingest_run(tmp_path, "r")


def test_train_loss_figures_carry_their_steps(frame: pl.DataFrame) -> None:
    summary = summarize_training(frame)
    loss = summary.train_loss
    assert loss is not None
    assert (loss.first.value, loss.first.step) == (2.31, 10)
    assert (loss.final.value, loss.final.step) == (1.09, 60)
    assert (loss.min.value, loss.min.step) == (1.09, 60)
    assert loss.drop_pct == pytest.approx((2.31 - 1.09) / 2.31 * 100)
    # Six points: too few to smooth (analysis.smoothing), so no smoothed figures at all.
    assert len(TRAIN) < MIN_SMOOTH_POINTS
    assert loss.ema_final is None and loss.ema_drop_pct is None and loss.smooth_half_life is None
    assert "halves" in summary.smoothing and str(MIN_SMOOTH_POINTS) in summary.smoothing


def test_eval_loss_gap_and_throughput(frame: pl.DataFrame) -> None:
    summary = summarize_training(frame)
    assert summary.eval_loss is not None and summary.gap is not None
    assert summary.eval_loss.first.step == EVAL[0][0]
    assert summary.gap.value == pytest.approx(1.25 - 1.09)
    assert (summary.gap.train.step, summary.gap.eval.step) == (60, 60)
    tp = summary.throughput
    assert tp.samples_per_second is not None and tp.samples_per_second.value == 11.4
    assert tp.runtime_s is not None and tp.runtime_s.value == 42.0
    assert tp.train_loss_avg is not None and tp.train_loss_avg.value == 1.57


def test_token_accuracy_is_named_for_what_it_is(frame: pl.DataFrame) -> None:
    accuracies = {a.split: a for a in summarize_training(frame).token_accuracy}
    train = accuracies["train"]
    assert train.label == TOKEN_ACCURACY_LABEL and "task" not in train.label
    assert train.delta_points == pytest.approx((0.69 - 0.52) * 100)
    assert accuracies["eval"].final.step == 60


def test_non_finite_values_are_excluded_but_counted() -> None:
    rows = []
    for step, value in [(1, 2.0), (2, math.nan), (3, math.inf), (4, 1.0)]:
        rows += rows_from_log({"loss": value, "step": step}, run_id="r", source="s")
    frame = frame_from_rows(rows)
    curve = summarize_curve(frame, "train", "loss")
    assert curve is not None
    assert (curve.n_points, curve.non_finite) == (2, 2)
    assert curve.final.step == 4 and curve.drop_pct == pytest.approx(50.0)
    assert summarize_training(frame).non_finite == {"train/loss": 2}


def test_empty_frame_has_no_training_figures() -> None:
    summary = summarize_training(frame_from_rows([]))
    assert summary.train_loss is None and summary.eval_loss is None and summary.gap is None
    assert summary.token_accuracy == ()


def test_eval_scores_with_wilson_interval(tmp_path: Path) -> None:
    summary = summarize_eval(write_eval(tmp_path))
    scores = {s.filter: s for s in summary.scores}
    strict = scores["strict-match"]
    assert (strict.correct, strict.n) == (2, 6)
    assert (strict.low, strict.high) == wilson_interval(2, 6)
    assert scores["flexible-extract"].correct == 3
    assert summary.scored_from == "samples.jsonl"
    assert summary.meta["model"] == "tiny-llama" and "counts" not in summary.meta


def test_categories_and_examples(tmp_path: Path) -> None:
    summary = summarize_eval(write_eval(tmp_path))
    by_name = {c.category: c for c in summary.categories}
    assert [c.category for c in summary.categories] == [
        "correct",
        "wrong answer",
        "no final answer",
        "truncated",
    ]
    assert by_name["wrong answer"].count == 2 and by_name["correct"].examples == ()
    wrong = by_name["wrong answer"].examples
    assert [x.doc_id for x in wrong] == [2, 5]
    assert (wrong[0].gold, wrong[0].prediction) == ("70000", "65000")
    long = by_name["truncated"].examples[0].response
    assert len(long) <= RESPONSE_CHARS + 2 and long.endswith("…")


def test_results_json_is_the_fallback_without_samples(tmp_path: Path) -> None:
    eval_dir = write_eval(tmp_path)
    (eval_dir / "samples.jsonl").unlink()
    summary = summarize_eval(eval_dir)
    assert summary.scored_from == "results.json"
    assert {s.filter: s.correct for s in summary.scores} == {
        "strict-match": 2,
        "flexible-extract": 3,
    }
    assert summary.categories == ()


def test_samples_with_a_cut_off_line(tmp_path: Path) -> None:
    eval_dir = write_eval(tmp_path)
    with (eval_dir / "samples.jsonl").open("a") as fh:
        fh.write(json.dumps({"doc_id": 9})[:5])
    assert load_samples(eval_dir / "samples.jsonl").height == 6


def test_summarize_evals_lists_every_eval(tmp_path: Path) -> None:
    write_eval(tmp_path, "b")
    write_eval(tmp_path, "a")
    assert [e.eval_id for e in summarize_evals(tmp_path)] == ["a", "b"]
    assert summarize_evals(tmp_path / "nothing") == []
