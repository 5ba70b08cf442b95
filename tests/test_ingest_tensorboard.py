"""TensorBoard event files: every scalar, both scalar encodings, HF text summaries, several
runs in one folder, and damaged input (cut off, corrupt, Git-LFS pointer, garbage)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import polars as pl
import pytest

from gsmreport.ingest import tensorboard as tb
from gsmreport.ingest.files import SourceError
from tests.conftest import shared_data

JADEANT = "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"
# TensorBoard stores scalars as float32: ~7 significant digits survive.
F32 = 1e-6

Scalar = tuple[str, float, int]  # tag, value, step


def _write(
    folder: Path,
    scalars: Iterable[Scalar],
    texts: dict[str, str] | None = None,
    *,
    new_style: bool = False,
) -> Path:
    """One real event file written by torch's SummaryWriter (as HF's callback does)."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(folder))
    for tag, text in (texts or {}).items():
        writer.add_text(tag, text)
    for tag, value, step in scalars:
        writer.add_scalar(tag, value, step, new_style=new_style)
    writer.close()
    newest = max(folder.glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime_ns)
    return newest


def _series(frame: pl.DataFrame, split: str, metric: str) -> list[tuple[int, float]]:
    rows = frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")
    return list(zip(rows["step"].to_list(), rows["value"].to_list(), strict=True))


def _assert_one_line_error(err: pytest.ExceptionInfo[SourceError], path: Path, *words: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message


# --- the JadeAnt folder: 11 files, 8 runs, 2 trainer_state.json ------------------------------


def _jadeant_logs() -> Path:
    return shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")


def test_jadeant_folder_holds_eight_runs_one_file_each() -> None:
    groups = tb.group_event_files(_jadeant_logs())
    assert [len(g) for g in groups] == [1] * 8
    names = [g[0].name for g in groups]
    # The three launches that stopped before their first log are in no group.
    assert "events.out.tfevents.1733814629.b-33-34.6469.0" not in names
    assert names[-3:] == [
        "events.out.tfevents.1733897720.b-33-23.6460.0",
        "events.out.tfevents.1733898811.b-33-23.6460.2",
        "events.out.tfevents.1733900565.b-33-23.6460.3",  # a lone evaluate() at step 0
    ]


def test_jadeant_folder_read_warns_that_it_mixes_runs() -> None:
    data = tb.read(_jadeant_logs())
    assert data.kind == "tensorboard"
    assert data.model == "meta-llama/Llama-3.2-1B"
    assert any("8 separate runs" in w for w in data.warnings)
    assert any("3 event file(s) hold no scalars" in w for w in data.warnings)
    assert all("\n" not in w for w in data.warnings)


@pytest.mark.parametrize("run", ["lora_4bit_llama", "fine_tuned_optimized_llama"])
def test_jadeant_run_matches_its_trainer_state(run: str) -> None:
    """Cross-check: the same run read from TensorBoard and from trainer_state.json.

    Each checkpoint folder was overwritten by every launch with that output_dir, so its
    trainer_state.json is the newest run of that name.
    """
    state_path = shared_data(
        "real-logs", "tensorboard", f"{JADEANT}__{run}_checkpoint-1593_trainer_state.json"
    )
    with state_path.open(encoding="utf-8") as handle:
        history = json.load(handle)["log_history"]
    runs = [tb.read_files(group) for group in tb.group_event_files(_jadeant_logs())]
    data = [d for d in runs if d.name == run][-1]
    assert data.warnings == []
    assert data.status == "completed"
    for key, split, metric in [
        ("loss", "train", "loss"),
        ("learning_rate", "train", "learning_rate"),
        ("grad_norm", "train", "grad_norm"),
        ("eval_loss", "eval", "loss"),
        ("eval_accuracy", "eval", "accuracy"),
    ]:
        expected = [(e["step"], e[key]) for e in history if key in e]
        got = _series(data.frame, split, metric)
        assert [s for s, _ in got] == [s for s, _ in expected], key
        for (_, value), (_, want) in zip(got, expected, strict=True):
            assert math.isclose(value, want, rel_tol=F32, abs_tol=1e-12), (key, value, want)
    epochs = data.frame.filter(pl.col("metric") == "loss").sort("step")["epoch"].to_list()
    assert epochs[0] == pytest.approx(history[0]["epoch"], rel=F32)


# --- logs written here with SummaryWriter -------------------------------------------------


def test_all_12000_points_of_a_tag_are_read(tmp_path: Path) -> None:
    n = 12_000
    points = [("train/loss", 1.0 / (i + 1), i) for i in range(n)]
    points += [("train/learning_rate", 1e-4, i) for i in range(0, n, 100)]
    path = _write(tmp_path, points)
    data = tb.read(path)
    loss = _series(data.frame, "train", "loss")
    assert len(loss) == n  # EventAccumulator's default would keep 10,000
    assert [s for s, _ in loss] == list(range(n))
    assert loss[-1][1] == pytest.approx(1.0 / n, rel=F32)
    assert len(_series(data.frame, "train", "learning_rate")) == n // 100
    wall = data.frame["wall_time"].to_list()
    assert 0.0 <= min(wall) < 60.0  # seconds since the first event, not Unix time
    assert data.status == "completed"  # a plain SummaryWriter log has no end marker


def test_v2_tensor_scalars_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, [("eval/loss", 0.5 + i, i * 10) for i in range(5)], new_style=True)
    loss = _series(tb.read(path).frame, "eval", "loss")
    assert [s for s, _ in loss] == [0, 10, 20, 30, 40]
    assert [v for _, v in loss] == pytest.approx([0.5, 1.5, 2.5, 3.5, 4.5])


def _hf_like(folder: Path, *, finished: bool = True) -> Path:
    """What HF's TensorBoardCallback writes: JSON text summaries, `train/*`, `eval/*`, epoch."""
    args = {"output_dir": "./out/qwen-lora", "run_name": "./out/qwen-lora", "learning_rate": 2e-4}
    model_config = {
        "_name_or_path": "Qwen/Qwen2.5-0.5B",
        "quantization_config": {"load_in_4bit": True, "quant_method": "bitsandbytes"},
    }
    scalars: list[Scalar] = []
    for step in (10, 20):
        scalars += [
            ("train/loss", 2.0 / step, step),
            ("train/learning_rate", 2e-4, step),
            ("train/epoch", step / 20, step),
        ]
    scalars += [("eval/loss", 0.3, 20), ("train/epoch", 1.0, 20)]
    if finished:
        scalars += [("train/train_runtime", 12.5, 20), ("train/train_loss", 0.15, 20)]
    texts = {"args": json.dumps(args, indent=2), "model_config": json.dumps(model_config)}
    return _write(folder, scalars, texts)


def test_hf_text_summaries_become_config(tmp_path: Path) -> None:
    data = tb.read(_hf_like(tmp_path))
    assert data.config["training_args"]["learning_rate"] == 2e-4
    assert data.config["model_config"]["_name_or_path"] == "Qwen/Qwen2.5-0.5B"
    assert data.model == "Qwen/Qwen2.5-0.5B"
    assert data.method is None  # a 4-bit base with no adapter config is not QLoRA (labels.py)
    assert data.name == "qwen-lora"
    assert data.runtime_s == pytest.approx(12.5)
    assert data.status == "completed"
    frame = data.frame
    assert set(frame["metric"].unique()) == {
        "loss",
        "learning_rate",
        "runtime_s",
        "train_loss_avg",
    }
    ((eval_step, eval_loss),) = _series(frame, "eval", "loss")
    assert eval_step == 20
    assert eval_loss == pytest.approx(0.3)
    loss = frame.filter(pl.col("metric") == "loss").sort("split", "step")
    assert loss["epoch"].to_list() == [pytest.approx(1.0), pytest.approx(0.5), pytest.approx(1.0)]
    assert set(frame["run_id"].unique()) == {""}


def test_hf_run_without_its_end_summary_is_interrupted(tmp_path: Path) -> None:
    assert tb.read(_hf_like(tmp_path, finished=False)).status == "interrupted"


def test_resumed_run_in_one_folder_is_one_group_last_write_wins(tmp_path: Path) -> None:
    _write(tmp_path, [("train/loss", 1.0, s) for s in (10, 20, 30)])
    _write(tmp_path, [("train/loss", 0.5, s) for s in (30, 40)])  # resumed from step 20
    groups = tb.group_event_files(tmp_path)
    assert [len(g) for g in groups] == [2]
    data = tb.read(tmp_path)
    assert data.warnings == []
    assert _series(data.frame, "train", "loss") == [
        (10, 1.0),
        (20, 1.0),
        (30, 0.5),
        (40, 0.5),
    ]


def test_a_restart_in_the_same_folder_is_a_second_run(tmp_path: Path) -> None:
    _write(tmp_path, [("train/loss", 1.0, s) for s in (10, 20)])
    _write(tmp_path, [("train/loss", 2.0, s) for s in (10, 20)])
    assert [len(g) for g in tb.group_event_files(tmp_path)] == [1, 1]
    data = tb.read(tmp_path)
    (warning,) = data.warnings
    assert "2 separate runs" in warning
    assert "2 (tag, step) values" in warning


# --- damaged input --------------------------------------------------------------------------


def _big_log(tmp_path: Path) -> Path:
    return _write(tmp_path, [("train/loss", float(i), i) for i in range(200)])


def test_cut_off_file_keeps_what_was_read(tmp_path: Path) -> None:
    path = _big_log(tmp_path)
    path.write_bytes(path.read_bytes()[:-7])
    data = tb.read(path)
    steps = [s for s, _ in _series(data.frame, "train", "loss")]
    assert steps == list(range(199))
    (warning,) = data.warnings
    assert str(path) in warning and "cut off" in warning and "kept the" in warning
    assert data.status == "interrupted"


def test_damaged_record_stops_there_with_a_warning(tmp_path: Path) -> None:
    path = _big_log(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    data = tb.read(path)
    steps = [s for s, _ in _series(data.frame, "train", "loss")]
    assert 0 < len(steps) < 200
    assert steps == list(range(len(steps)))
    (warning,) = data.warnings
    assert str(path) in warning and "truncated or damaged" in warning and "kept the" in warning


def test_git_lfs_pointer_is_refused_with_the_fix() -> None:
    pointer = next(shared_data("real-logs", "edge_cases").glob("*tfevents*"))
    with pytest.raises(SourceError) as err:
        tb.read(pointer)
    _assert_one_line_error(err, pointer, "git lfs pull")


def test_git_lfs_pointer_in_a_folder_is_refused_too(tmp_path: Path) -> None:
    _big_log(tmp_path)
    pointer = tmp_path / "events.out.tfevents.1.host.2.0"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n")
    with pytest.raises(SourceError) as err:
        tb.read(tmp_path)
    _assert_one_line_error(err, pointer, "git lfs pull")


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 8,  # garbage
        b"\x05" + b"\x00" * 7 + b"\x00\x00\x00\x00" + b"hello" + b"\x00" * 4,  # bad length CRC
        b"",  # empty
    ],
    ids=["garbage", "bad-frame", "empty"],
)
def test_not_an_event_file_is_one_line_source_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "events.out.tfevents.123.host"
    path.write_bytes(content)
    with pytest.raises(SourceError) as err:
        tb.read(path)
    _assert_one_line_error(err, path)


def test_undecodable_payload_with_valid_framing_is_source_error(tmp_path: Path) -> None:
    import struct

    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    payload = b"\xff\xff\xff\xff"  # frames fine, is no Event proto
    header = struct.pack("<Q", len(payload))
    record = (
        header
        + struct.pack("<I", masked_crc32c(header))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )
    path = tmp_path / "events.out.tfevents.1.x"
    path.write_bytes(record)
    with pytest.raises(SourceError) as err:
        tb.read(path)
    _assert_one_line_error(err, path, "not a TensorBoard event file")


def test_one_garbage_file_beside_good_ones_is_a_warning(tmp_path: Path) -> None:
    _big_log(tmp_path)
    bad = tmp_path / "events.out.tfevents.9999999999.host.1.0"
    bad.write_bytes(b"not an event file at all")
    data = tb.read(tmp_path)
    assert data.frame.height == 200
    assert any(str(bad) in w and "skipped" in w for w in data.warnings)


@pytest.mark.parametrize("make", ["missing", "empty-folder"])
def test_nothing_to_read_is_source_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "nope" if make == "missing" else tmp_path
    with pytest.raises(SourceError) as err:
        tb.read(path)
    _assert_one_line_error(err, path)
