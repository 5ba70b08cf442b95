"""Data families as one shape (gsmreport.datasets.formats): local files only, no Hub."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gsmreport.core.config import DataConfig
from gsmreport.core.errors import ConfigError, NotFoundError
from gsmreport.datasets import gsm8k, sampling
from gsmreport.datasets.formats import (
    ALPACA_NO_INPUT,
    Example,
    data_label,
    load_examples,
    resolve_data,
    to_record,
)

TEMPLATE = "Question: {question}\nAnswer:"


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_alpaca_uses_its_own_prompt_and_puts_the_input_in_the_user_turn(tmp_path: Path) -> None:
    rows = [
        {"instruction": "Add the numbers.", "input": "2 and 3", "output": "5"},
        {"instruction": "Say hi.", "input": "", "output": "hi"},
    ]
    cfg = DataConfig(source="alpaca", path=str(_jsonl(tmp_path / "a.jsonl", rows)))
    with_input, no_input = load_examples(cfg, TEMPLATE)
    assert with_input.turns == ({"role": "user", "content": "Add the numbers.\n\n2 and 3"},)
    assert "### Input:\n2 and 3\n\n### Response:\n" in with_input.text
    assert with_input.completion == "5"
    assert no_input.text == ALPACA_NO_INPUT.format(instruction="Say hi.")
    assert "### Input" not in no_input.text and "Question:" not in no_input.text


def test_messages_prompt_is_every_turn_but_the_last_assistant_turn(tmp_path: Path) -> None:
    turns = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "and 3+3?"},
        {"role": "assistant", "content": "6"},
    ]
    cfg = DataConfig(
        source="messages", path=str(_jsonl(tmp_path / "m.jsonl", [{"messages": turns}]))
    )
    (ex,) = load_examples(cfg, TEMPLATE)
    assert ex.turns == tuple(turns[:-1]) and ex.completion == "6"
    assert ex.text.endswith("User: and 3+3?\nAssistant:")


def test_messages_ending_with_a_user_turn_is_refused_with_its_row(tmp_path: Path) -> None:
    bad = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    ok = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    path = _jsonl(tmp_path / "m.jsonl", [{"messages": ok}, {"messages": bad}])
    with pytest.raises(ConfigError, match=r"row 2: the last turn must be the assistant's"):
        load_examples(DataConfig(source="messages", path=str(path)), TEMPLATE)


def test_custom_parquet_with_a_field_mapping_goes_through_the_prompt_template(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.parquet"
    pl.DataFrame({"problem": ["1+1?", "2+5?"], "solution": ["2", "7"]}).write_parquet(path)
    cfg = DataConfig(
        source="custom", path=str(path), fields={"prompt": "problem", "completion": "solution"}
    )
    examples = load_examples(cfg, TEMPLATE)
    assert [e.text for e in examples] == ["Question: 1+1?\nAnswer:", "Question: 2+5?\nAnswer:"]
    assert [e.completion for e in examples] == ["2", "7"]
    assert [e.doc_id for e in examples] == ["0", "1"]


def test_a_missing_column_names_the_file_row_and_the_fix(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "c.jsonl", [{"q": "x", "a": "y"}])
    with pytest.raises(ConfigError) as err:
        load_examples(DataConfig(source="custom", path=str(path)), TEMPLATE)
    message = str(err.value)
    assert str(path) in message and "row 1" in message and "'prompt'" in message
    assert "data.fields" in message and "\n" not in message


def test_gsm8k_fields_rename_columns_for_look_alike_sets(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", [{"problem": "3*3?", "solution": "9\n#### 9"}])
    cfg = DataConfig(path=str(folder), fields={"question": "problem", "answer": "solution"})
    (ex,) = load_examples(cfg, TEMPLATE)
    assert ex.text == "Question: 3*3?\nAnswer:" and ex.completion == "9\n#### 9"


def test_a_folder_is_searched_for_the_split_in_every_format(tmp_path: Path) -> None:
    pl.DataFrame({"instruction": ["i"], "output": ["o"]}).write_parquet(tmp_path / "train.parquet")
    (ex,) = load_examples(DataConfig(source="alpaca", path=str(tmp_path)), TEMPLATE)
    assert ex.completion == "o"
    with pytest.raises(NotFoundError, match=r"no test\.jsonl or test\.json or test\.parquet"):
        load_examples(DataConfig(source="alpaca", path=str(tmp_path)), TEMPLATE, split="test")


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"instruction": "i", "output": "o"}\n{not json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"a\.jsonl:2: not valid JSON"):
        load_examples(DataConfig(source="alpaca", path=str(path)), TEMPLATE)


def test_families_without_a_hub_default_need_a_path_or_hub_id() -> None:
    # Raised before any Hub access: tests never reach the network.
    with pytest.raises(ConfigError, match=r"data\.source messages needs data\.path"):
        load_examples(DataConfig(source="messages"), TEMPLATE)


def test_records_are_chat_turns_or_plain_text_with_one_separator() -> None:
    ex = Example("0", ({"role": "user", "content": "q"},), "Question: q\nAnswer:", "a")
    assert to_record(ex, chat=True) == {
        "prompt": [{"role": "user", "content": "q"}],
        "completion": [{"role": "assistant", "content": "a"}],
    }
    assert to_record(ex, chat=False) == {"prompt": "Question: q\nAnswer:", "completion": " a"}
    alpaca = Example("1", (), "### Response:\n", "a")
    assert to_record(alpaca, chat=False)["completion"] == "a"  # no space after a newline


def test_resolve_data_accepts_a_file_and_refuses_a_missing_path(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "a.jsonl", [{"instruction": "i", "output": "o"}])
    resolved = resolve_data(DataConfig(source="alpaca", path=str(path)))
    assert resolved.path == str(path.resolve())
    with pytest.raises(NotFoundError, match="data folder not found"):
        resolve_data(DataConfig(path=str(tmp_path / "nope")))
    assert data_label(DataConfig()) == "openai/gsm8k (main)"
    assert data_label(DataConfig(source="alpaca")) == "vicgalle/alpaca-gpt4 (alpaca)"


@pytest.mark.parametrize(("size", "n", "frac", "seed"), [(50, 20, 0.1, 0), (37, None, 0.25, 7)])
def test_gsm8k_sample_and_split_are_unchanged_for_the_eval_job(
    size: int, n: int | None, frac: float, seed: int
) -> None:
    """The eval job's `validation` split must hold the same rows training held out."""
    rows = [{"question": f"q{i}", "answer": f"a{i}"} for i in range(size)]
    got_train, got_val = sampling.train_val_split(gsm8k.sample(rows, n, seed), frac, seed)
    # the algorithm as it stood before the families were added
    indexed = [dict(r, doc_id=str(i)) for i, r in enumerate(rows)]
    picked = indexed if n is None else random.Random(seed).sample(indexed, n)
    shuffled = picked[:]
    random.Random(seed).shuffle(shuffled)
    k = max(1, round(len(shuffled) * frac))
    assert (got_train, got_val) == (shuffled[k:], shuffled[:k])
