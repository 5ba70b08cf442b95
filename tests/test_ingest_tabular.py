"""Generic CSV/TSV/JSONL import with a column mapping."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from gsmreport.core.errors import UsageError
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.schema import SCHEMA
from gsmreport.ingest.tabular import parse_mapping, read


def _values(frame: pl.DataFrame, split: str, metric: str) -> dict[int, float]:
    rows = frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return dict(rows.select("step", "value").iter_rows())


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- parse_mapping ----------------------------------------------------------------------


def test_parse_mapping() -> None:
    assert parse_mapping("step=global_step, loss=train_loss ,eval_loss=val_loss") == {
        "step": "global_step",
        "loss": "train_loss",
        "eval_loss": "val_loss",
    }
    assert parse_mapping("loss=train/loss") == {"loss": "train/loss"}


@pytest.mark.parametrize(
    ("spec", "bad_part"),
    [
        ("step=global_step,loss", "'loss'"),
        ("step=global_step,=val", "'=val'"),
        ("step=", "'step='"),
        ("step=a,,loss=b", "''"),
        ("loss=a,loss=b", "'loss=b'"),
        ("global_step=a", "'global_step=a'"),
        ("  ", "empty mapping"),
    ],
)
def test_malformed_mapping_names_the_bad_part(spec: str, bad_part: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_mapping(spec)
    assert bad_part in str(info.value) and str(info.value).startswith("--map:")


# --- CSV --------------------------------------------------------------------------------

CSV = """global_step,train_loss,val_loss,lr,note,epoch
1,2.0,,1e-4,warmup,0.1
2,NaN,1.5,1e-4,,0.2
3,n/a,,inf,bad batch,0.3
4,0.9,1.2,5e-5,,0.4
"""


def test_csv_with_mapping(tmp_path: Path) -> None:
    path = _file(tmp_path, "log.csv", CSV)
    data = read(path, parse_mapping("step=global_step,loss=train_loss,eval_loss=val_loss"))
    assert data.kind == "csv" and data.path == path
    assert data.frame.schema == pl.Schema(SCHEMA)
    loss = _values(data.frame, "train", "loss")
    assert set(loss) == {1, 2, 4} and loss[1] == 2.0 and math.isnan(loss[2])
    assert _values(data.frame, "eval", "loss") == {2: 1.5, 4: 1.2}
    lr = _values(data.frame, "train", "learning_rate")  # unmapped `lr`, through the aliases
    assert lr[3] == math.inf and len(lr) == 4
    assert data.frame.filter(pl.col("step") == 4).get_column("epoch").unique().to_list() == [0.4]
    assert f"{path}: 1 non-numeric value(s) in column 'train_loss' dropped (e.g. 'n/a')" in (
        data.warnings
    )
    assert any("non-numeric column(s) not imported (note)" in w for w in data.warnings)
    assert data.config["columns"]["eval/loss"] == "val_loss"


def test_csv_without_mapping_uses_own_names(tmp_path: Path) -> None:
    text = "step,loss,eval_loss,train/grad_norm,wall_time\n10,2.0,,1.1,5.5\n20,1.0,1.4,0.9,11\n"
    data = read(_file(tmp_path, "plain.csv", text), None)
    assert _values(data.frame, "train", "loss") == {10: 2.0, 20: 1.0}
    assert _values(data.frame, "eval", "loss") == {20: 1.4}
    assert _values(data.frame, "train", "grad_norm") == {10: 1.1, 20: 0.9}
    assert data.frame.filter(pl.col("step") == 10).get_column("wall_time").unique()[0] == 5.5
    assert data.warnings == []


def test_tsv(tmp_path: Path) -> None:
    data = read(_file(tmp_path, "log.tsv", "step\tloss\n1\t0.5\n"), None)
    assert _values(data.frame, "train", "loss") == {1: 0.5}


def test_bad_steps_and_repeated_steps(tmp_path: Path) -> None:
    text = "step,loss\n1,3.0\n1.5,2.9\nx,2.8\n,2.7\n2,2.0\n2,1.9\n"
    path = _file(tmp_path, "log.csv", text)
    data = read(path, None)
    assert _values(data.frame, "train", "loss") == {1: 3.0, 2: 1.9}  # last write wins
    dropped = f"{path}: 3 row(s) whose 'step' is not a whole number ≥ 0 dropped"
    assert any(w.startswith(dropped) for w in data.warnings)
    assert f"{path}: 1 row(s) repeat an earlier step; the last one of each kept" in data.warnings


def test_two_columns_meaning_one_metric(tmp_path: Path) -> None:
    data = read(_file(tmp_path, "log.csv", "step,lr,learning_rate\n1,0.1,0.2\n"), None)
    assert _values(data.frame, "train", "learning_rate") == {1: 0.1}
    assert any("'learning_rate' also means train learning_rate" in w for w in data.warnings)


def test_mapped_column_wins_over_same_named_column(tmp_path: Path) -> None:
    text = "step,loss,smoothed\n1,2.0,1.8\n"
    data = read(_file(tmp_path, "log.csv", text), {"loss": "smoothed"})
    assert _values(data.frame, "train", "loss") == {1: 1.8}


# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_with_wandb_style_names(tmp_path: Path) -> None:
    lines = [
        {"_step": 0, "train/global_step": 10, "train/loss": 2.0, "train/epoch": 0.5},
        {"_step": 1, "train/global_step": 20, "eval/loss": 1.7, "train/epoch": 1.0},
    ]
    path = _file(tmp_path, "history.jsonl", "\n".join(json.dumps(x) for x in lines))
    data = read(path, parse_mapping("step=train/global_step,epoch=train/epoch"))
    assert _values(data.frame, "train", "loss") == {10: 2.0}
    assert _values(data.frame, "eval", "loss") == {20: 1.7}
    assert set(data.frame.get_column("metric")) == {"loss"}  # _step is a position, not a metric
    assert data.frame.filter(pl.col("step") == 20).get_column("epoch")[0] == 1.0


def test_jsonl_with_bare_nan_and_mixed_types(tmp_path: Path) -> None:
    text = '{"step": 1, "loss": NaN, "acc": "n/a"}\n{"step": 2, "loss": Infinity, "acc": 0.5}\n'
    path = _file(tmp_path, "log.jsonl", text)
    data = read(path, {"accuracy": "acc"})
    loss = _values(data.frame, "train", "loss")
    assert math.isnan(loss[1]) and loss[2] == math.inf
    assert _values(data.frame, "train", "accuracy") == {2: 0.5}
    assert any("1 non-numeric value(s) in column 'acc'" in w for w in data.warnings)


def test_jsonl_corrupt_line_names_the_line(tmp_path: Path) -> None:
    path = _file(tmp_path, "log.jsonl", '{"step": 1, "loss": 1.0}\n{"step": 2, "lo\n')
    with pytest.raises(SourceError) as info:
        read(path, None)
    assert str(info.value).startswith(f"{path}: not a readable JSONL file (line 2:")


# --- errors -----------------------------------------------------------------------------


def test_missing_mapped_column_lists_the_columns(tmp_path: Path) -> None:
    path = _file(tmp_path, "log.csv", CSV)
    with pytest.raises(SourceError) as info:
        read(path, {"step": "global_step", "loss": "training_loss"})
    assert str(info.value) == (
        f"{path}: mapped column(s) not found (loss=training_loss); "
        "the file has: global_step, train_loss, val_loss, lr, note, epoch"
    )


def test_no_step_column(tmp_path: Path) -> None:
    path = _file(tmp_path, "log.csv", CSV)
    with pytest.raises(SourceError, match=r"no `step` column; name one with --map step=COLUMN"):
        read(path, None)


def test_mapping_with_a_position_target_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a position"):
        read(_file(tmp_path, "log.csv", CSV), {"step": "global_step", "_runtime": "lr"})


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("log.csv", "step,loss\n", "no data rows"),
        ("log.csv", "step,loss\n1,2,3\n", "not a readable CSV file (found more fields"),
        ("log.csv", "step,note\n1,a\n", "no numeric metric column"),
        ("log.csv", "step,loss\nx,1\n", "no row has both a step and a numeric metric"),
        ("log.csv", "", "empty file"),
        ("log.csv", "version https://git-lfs.github.com/spec/v1\noid x\n", "git lfs pull"),
        ("log.parquet", "step,loss\n1,2\n", "unknown table format"),
        ("log.jsonl", "[1, 2]\n", "not a readable JSONL file"),
    ],
)
def test_bad_tables_are_one_source_error_line(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = _file(tmp_path, name, content)
    with pytest.raises(SourceError) as info:
        read(path, None)
    message = str(info.value)
    assert message.startswith(str(path)) and fragment in message and "\n" not in message


def test_binary_table(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"step,loss\n\x00\x00\x00")
    with pytest.raises(SourceError, match="binary data"):
        read(path, None)
