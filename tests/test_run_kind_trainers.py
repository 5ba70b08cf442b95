"""Run kind and task metrics on what TRL's DPOTrainer / GRPOTrainer and transformers'
Seq2SeqTrainer really write: each trains the tiny local model a few steps (tests/trainer_logs.py)
and the expected figures are read back from the raw trainer_state.json's log_history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gsmreport import pipeline
from gsmreport.analysis.run_kind import detect_kind
from gsmreport.analysis.series_stats import Point, all_series
from gsmreport.analysis.task_metrics import task_metrics
from gsmreport.core.settings import Dirs
from gsmreport.ingest import trainer_state
from tests.trainer_logs import (
    dpo_log,
    grpo_log,
    reward_model_log,
    seq2seq_log,
    tiny_model,
    word_error_rate,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("tiny"))


def _history(path: Path) -> list[dict[str, Any]]:
    history = json.loads(path.read_text())["log_history"]
    assert isinstance(history, list)
    return history


def _raw(history: list[dict[str, Any]], key: str) -> list[Point]:
    return [Point(float(e[key]), int(e["step"])) for e in history if key in e]


def _analysed(path: Path) -> tuple[str, tuple[str, ...], dict[tuple[str, str], Any]]:
    data = trainer_state.read(path)
    kind = detect_kind(data.frame, data.config)
    metrics = {(m.split, m.metric): m for m in task_metrics(all_series(data.frame))}
    return kind.kind, kind.evidence, metrics


@pytest.mark.slow  # trains the tiny model a few steps
def test_dpo_trainer_log(model: Path, tmp_path: Path) -> None:
    path = dpo_log(model, tmp_path / "dpo")
    history = _history(path)
    kind, evidence, metrics = _analysed(path)
    assert kind == "dpo"
    assert evidence[0].startswith("rewards/chosen, rewards/rejected, rewards/margins")
    # DPO logs token accuracy too: the DPO keys are asked first, so it is not called SFT.
    assert any("mean_token_accuracy" in e for e in history)
    for key, split, name in [
        ("eval_rewards/accuracies", "eval", "rewards/accuracies"),
        ("eval_rewards/margins", "eval", "rewards/margins"),
        ("rewards/margins", "train", "rewards/margins"),
    ]:
        raw = _raw(history, key)
        got = metrics[(split, name)]
        assert (got.first, got.final, got.count) == (raw[0], raw[-1], len(raw))
        assert got.best == max(raw, key=lambda p: (p.value, -p.step))  # higher is better
    assert ("eval", "mean_token_accuracy") not in metrics  # its own section of the report

    # Imported and rendered like any log: the report names the kind and its task metrics.
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    (outcome,) = pipeline.import_logs(dirs, [path], name="dpo")
    assert outcome.ok, outcome.error
    md = pipeline.render(dirs, "dpo").md.read_text()
    assert "| Kind (detected) | preference optimisation (DPO) — evidence: rewards/chosen" in md
    raw = _raw(history, "eval_rewards/accuracies")
    row = next(x for x in md.splitlines() if x.startswith("| eval | rewards/accuracies |"))
    assert f"| {raw[-1].value:.4g} (step {raw[-1].step}) | {len(raw)} |" in row
    assert "## Task accuracy" not in md  # no GSM8K evaluation


@pytest.mark.slow  # trains the tiny model a few steps
def test_grpo_trainer_log(model: Path, tmp_path: Path) -> None:
    path = grpo_log(model, tmp_path / "grpo")
    history = _history(path)
    kind, evidence, metrics = _analysed(path)
    assert kind == "grpo"
    assert evidence[0].startswith("reward with reward_std")
    raw = _raw(history, "reward")
    reward = metrics[("train", "reward")]
    assert (reward.first, reward.final) == (raw[0], raw[-1])
    assert reward.best == max(raw, key=lambda p: (p.value, -p.step))
    assert metrics[("train", "kl")].best is None  # KL has no better direction
    assert ("train", "rewards/_length_reward/mean") in metrics


@pytest.mark.slow  # trains the tiny model a few steps
def test_seq2seq_trainer_log_with_wer(model: Path, tmp_path: Path) -> None:
    path = seq2seq_log(model, tmp_path / "seq2seq")
    history = _history(path)
    kind, evidence, metrics = _analysed(path)
    assert (kind, evidence) == ("seq2seq", ("wer logged (eval)",))
    raw = _raw(history, "eval_wer")
    wer = metrics[("eval", "wer")]
    assert len(raw) == wer.count == 2
    assert wer.best == min(raw, key=lambda p: (p.value, p.step))  # lower is better
    assert wer.direction == "lower"


@pytest.mark.slow  # trains the tiny model a few steps
def test_reward_trainer_log(model: Path, tmp_path: Path) -> None:
    path = reward_model_log(model, tmp_path / "rm")
    history = _history(path)
    kind, evidence, metrics = _analysed(path)
    # trainer_state.json holds no config: the metric keys alone say reward model.
    assert (kind, evidence) == (
        "reward-model",
        ("margin, mean_reward, min_reward, max_reward logged (eval, train)",),
    )
    for key, split, name in [("eval_accuracy", "eval", "accuracy"), ("margin", "train", "margin")]:
        raw = _raw(history, key)
        got = metrics[(split, name)]
        assert (got.first, got.final, got.count) == (raw[0], raw[-1], len(raw))
        assert got.best == max(raw, key=lambda p: (p.value, -p.step))
    assert metrics[("eval", "mean_reward")].best is None  # a score scale, not a quality


def test_word_error_rate_oracle() -> None:
    assert word_error_rate(["a b c d"], ["a x c"]) == 2 / 4  # one substitution, one deletion
    assert word_error_rate(["a b", "c"], ["a b", "c d e"]) == 2 / 3  # two insertions
    assert word_error_rate([""], ["x"]) == 1.0  # no reference words: errors over one
