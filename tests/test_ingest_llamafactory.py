"""LLaMA-Factory trainer_log.jsonl import: real multi-GPU and single-GPU logs, odd lines."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gsmreport.ingest import llamafactory, trainer_state
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.llamafactory import parse_duration, read
from gsmreport.ingest.schema import SCHEMA
from tests.conftest import shared_data

SYGOAT = "syGOAT+Mistral-v0.2-Translator-bf16"
RAMEY = "rameyjm7+SFT-Training-LLM__trainer_log.jsonl"


def _series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")


def _write(tmp_path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    path = tmp_path / "trainer_log.jsonl"
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n")
    return path


def _line(step: int, total: int = 30, **values: Any) -> dict[str, Any]:
    return {
        "current_steps": step,
        "total_steps": total,
        **values,
        "epoch": step / total,
        "percentage": round(100 * step / total, 2),
        "elapsed_time": f"0:00:{step:02d}",
        "remaining_time": "0:00:10",
    }


# --- the real logs ----------------------------------------------------------------------


def test_same_run_same_losses_from_both_readers() -> None:
    """LLaMA-Factory's log and the Trainer's state of one run must give one curve."""
    log = read(shared_data("real-logs", "llamafactory", f"{SYGOAT}__trainer_log.jsonl"))
    state = trainer_state.read(
        shared_data("real-logs", "trainer_state", f"{SYGOAT}__trainer_state.json")
    )
    for metric in ("loss", "learning_rate"):
        ours = _series(log.frame, "train", metric).select("step", "value")
        theirs = _series(state.frame, "train", metric).select("step", "value")
        assert ours.height == 866
        assert ours.get_column("step").to_list() == theirs.get_column("step").to_list()
        assert ours.get_column("value").to_list() == theirs.get_column("value").to_list()
    epochs = _series(log.frame, "train", "loss").get_column("epoch")
    assert epochs.to_list() == _series(state.frame, "train", "loss").get_column("epoch").to_list()


def test_single_gpu_log_shape() -> None:
    data = read(shared_data("real-logs", "llamafactory", f"{SYGOAT}__trainer_log.jsonl"))
    assert data.kind == "llamafactory" and data.frame.schema == pl.Schema(SCHEMA)
    assert data.status == "completed" and not data.warnings
    assert data.config["total_steps"] == 8660
    assert data.runtime_s == 5 * 3600 + 39 * 60 + 46  # "5:39:46"
    # total_tokens is 0 and throughput "0.00" throughout: tokens were not counted.
    assert set(data.frame.get_column("metric")) == {"loss", "learning_rate"}
    first = _series(data.frame, "train", "loss").row(0, named=True)
    assert (first["step"], first["value"], first["wall_time"]) == (10, 2.4977, 24.0)


def test_two_gpu_log_is_deduplicated_and_sorted() -> None:
    path = shared_data("real-logs", "llamafactory", RAMEY)
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    last_loss: dict[int, float] = {}
    for line in raw:  # last write wins, worked out independently
        if "loss" in line:
            last_loss[line["current_steps"]] = line["loss"]
    data = read(path)
    loss = _series(data.frame, "train", "loss")
    steps = loss.get_column("step").to_list()
    assert all(a < b for a, b in itertools.pairwise(steps))
    assert loss.height == len(last_loss) == 656
    assert dict(zip(steps, loss.get_column("value").to_list(), strict=True)) == last_loss
    assert last_loss[10] == 0.8547  # the second of the two step-10 lines
    duplicates = [w for w in data.warnings if "duplicate line" in w]
    assert len(duplicates) == 1 and "703 duplicate line(s) dropped" in duplicates[0]
    assert any("steps go backwards 416 time(s)" in w for w in data.warnings)
    assert _series(data.frame, "train", "learning_rate").height == 656  # `lr` key


def test_two_gpu_log_resume_keeps_one_clock() -> None:
    data = read(shared_data("real-logs", "llamafactory", RAMEY))
    assert any("restarts at line 1047 (step 5010)" in w for w in data.warnings)
    wall = _series(data.frame, "train", "loss").get_column("wall_time")
    assert (wall.diff().drop_nulls() > 0).all()  # monotonic in step despite the restart
    assert data.runtime_s == 79686 + 23786  # 22:08:06 before the resume + 6:36:26 after


def test_two_gpu_log_ending_one_step_short_but_complete() -> None:
    data = read(shared_data("real-logs", "llamafactory", RAMEY))
    assert data.status == "completed"
    assert any("step 6565 of total_steps 6566" in w for w in data.warnings)


def test_git_lfs_pointer_trainer_log() -> None:
    path = shared_data("real-logs", "edge_cases", "Observer-18+nlp__trainer_log.jsonl")
    with pytest.raises(SourceError, match="git lfs pull"):
        read(path)


# --- synthetic logs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:08:23", 503.0),
        ("1 day, 0:08:23", 86903.0),
        ("2 days, 10:00:00", 208800.0),
        ("0:00:01.500000", 1.5),
        ("soon", None),
        (None, None),
        (12, None),
    ],
)
def test_parse_duration(text: Any, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_both_learning_rate_keys_nulls_and_eval_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _line(10, loss=2.0, lr=1e-4, eval_loss=None),
            _line(20, loss=1.5, learning_rate=5e-5),
            _line(20, eval_loss=1.7),
            _line(30, loss=1.0, lr=None),
            _line(30, total=30),
        ],
    )
    data = read(path)
    assert _series(data.frame, "train", "learning_rate").get_column("value").to_list() == [
        1e-4,
        5e-5,
    ]
    assert _series(data.frame, "train", "loss").get_column("step").to_list() == [10, 20, 30]
    evals = _series(data.frame, "eval", "loss")
    assert evals.get_column("step").to_list() == [20] and evals.get_column("value")[0] == 1.7
    assert data.status == "completed" and data.warnings == []


def test_dpo_and_predict_keys(tmp_path: Path) -> None:
    lines = [
        _line(10, loss=0.69, reward=0.2, accuracy=0.6, total_tokens=5120, throughput=512.0),
        _line(10, predict_loss=0.8),
    ]
    data = read(_write(tmp_path, lines))
    metrics = {(s, m): v for s, m, v in data.frame.select("split", "metric", "value").rows()}
    assert metrics == {
        ("train", "loss"): 0.69,
        ("train", "reward"): 0.2,
        ("train", "rewards/accuracies"): 0.6,
        ("train", "num_tokens"): 5120.0,
        ("train", "tokens_per_second"): 512.0,
        ("test", "loss"): 0.8,
    }


def test_cut_off_last_line_and_corrupt_middle_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _line(10, loss=2.0),
            "{garbage",
            _line(20, loss=1.5),
            "[1, 2]",
            '{"current_steps": 30, "lo',
        ],
    )
    data = read(path)
    assert _series(data.frame, "train", "loss").get_column("step").to_list() == [10, 20]
    assert f"{path}: last line 5 is cut off (run stopped mid-write); skipped" in data.warnings
    assert f"{path}: 2 unreadable line(s) skipped (line 2, 4)" in data.warnings


def test_stopped_run_is_interrupted(tmp_path: Path) -> None:
    data = read(_write(tmp_path, [_line(10, total=100, loss=2.0), _line(20, total=100, loss=1.0)]))
    assert data.status == "interrupted"
    assert any("last step 20 of total_steps 100" in w for w in data.warnings)


@pytest.mark.parametrize(
    ("lines", "fragment"),
    [
        (["{not json", "[]"], "no readable line of 2"),
        ([_line(5), _line(10)], "no metric in any line of 2"),
        ([{"loss": 1.0}], "no readable line of 1"),
    ],
)
def test_no_metric_is_a_source_error(
    tmp_path: Path, lines: list[dict[str, Any] | str], fragment: str
) -> None:
    path = _write(tmp_path, lines)
    with pytest.raises(SourceError) as info:
        read(path)
    assert str(info.value).startswith(f"{path}: {fragment}") and "\n" not in str(info.value)


def test_folder_and_training_args_beside(tmp_path: Path) -> None:
    _write(tmp_path, [_line(10, loss=2.0)])
    (tmp_path / "training_args.yaml").write_text(
        "model_name_or_path: Qwen/Qwen2.5-0.5B\nfinetuning_type: full\n"
    )
    (tmp_path / "all_results.json").write_text(json.dumps({"train_runtime": 99.0}))
    data = read(tmp_path)
    assert data.path == tmp_path / llamafactory.LOG_FILE
    assert (data.model, data.method) == ("Qwen/Qwen2.5-0.5B", "full")
    assert data.config["results"] == {"train_runtime": 99.0}
    assert data.runtime_s == 10.0  # the log's own clock wins over the side file


def test_binary_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "trainer_log.jsonl"
    path.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(SourceError, match="binary data"):
        read(path)
