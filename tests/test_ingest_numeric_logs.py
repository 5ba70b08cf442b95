"""The polars build of an all-number log history gives exactly the Python build's table, and
steps aside (None) for anything polars would coerce."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from gsmreport.ingest.numeric_logs import _shapes, frame_from_numeric_logs
from gsmreport.ingest.schema import frame_from_logs, frame_from_rows, rows_from_log
from gsmreport.ingest.trainer_state import _placeable, _summary_candidates
from tests.conftest import shared_data


def _same_as_python_build(history: list[Any]) -> None:
    fast = frame_from_numeric_logs(history, source="trainer_state", run_id="r")
    assert fast is not None
    slow = frame_from_logs(history, source="trainer_state", run_id="r")
    assert slow is not None
    assert_frame_equal(fast[0], slow[0])
    assert fast[1] == slow[1]
    # The row path as trainer_state runs it: entries whose step the Int64 column cannot hold
    # (negative, 2**63 and up) are left out first.
    placed = [e for e in history if _placeable(e)]
    rows = [r for e in placed for r in rows_from_log(e, run_id="r", source="trainer_state")]
    assert_frame_equal(fast[0], frame_from_rows(rows))


@pytest.mark.parametrize(
    "name",
    [
        "Dheena731+tinyLlama-finetune__trainer_state.json",
        "syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json",
        "MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json",
    ],
)
def test_real_histories(name: str) -> None:
    history = json.loads(shared_data("real-logs", "trainer_state", name).read_text())["log_history"]
    # a resumed run logs steps again, sometimes with other values: the later entry wins
    _same_as_python_build([*history, *history[:5], dict(history[3], loss=9.0, eval_loss=1.0)])


def test_edge_entries() -> None:
    """NaN step, NaN/inf values and epochs, a fractional step, two keys for one metric in one
    entry, a step logged twice, an int beyond Int64, a negative step, keys with no step."""
    _same_as_python_build(
        [
            {"step": 1, "epoch": 0.1, "loss": 2.0, "lr": 1e-4, "learning_rate": 2e-4},
            {"step": 1, "eval_loss": math.nan, "epoch": math.inf},
            {"step": 2.7, "loss": math.inf, "grad_norm": None},
            {"step": math.nan, "loss": 6.0},
            {"step": 2, "loss": 1.5, "epoch": None, "num_tokens": 2**70},
            {"step": -3, "loss": 4.0},
            {"loss": 5.0},
            {"step": 2**63, "loss": 4.0},
            {"step": 1, "loss": 1.9},  # a resumed run logs step 1 again: this one wins
            {"step": 3, "train_runtime": 10.0, "train_loss": 1.0},
        ]
    )


def test_no_step_or_no_metric_is_an_empty_table() -> None:
    for history in ([{"loss": 1.0}], [{"step": 1, "epoch": 0.5}]):
        built = frame_from_numeric_logs(history, source="trainer_state")
        assert built is not None
        assert built[0].height == 0 and built[1] == set()
        _ = frame_from_logs(history, source="trainer_state")


@pytest.mark.parametrize(
    "history",
    [
        [{"step": 1, "loss": 1.0}, {"step": 2, "loss": True}],  # polars would make it 1
        [{"step": 1, "loss": 1.0}, {"step": 2, "note": "resumed"}],  # a string
        [{"step": 1, "loss": 10**400}],  # beyond float range: the Python build makes it inf
        [{"step": 1, "loss": 1.0}, ["not", "a", "dict"]],
        [],
    ],
)
def test_anything_but_numbers_steps_aside(history: list[Any]) -> None:
    assert frame_from_numeric_logs(history, source="trainer_state") is None


_finite_or_not = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
_keys = st.sampled_from(
    ["step", "epoch", "loss", "eval_loss", "eval/loss", "lr", "learning_rate", "train_loss"]
)


def _matches_the_python_build(history: list[dict[str, Any]]) -> None:
    fast = frame_from_numeric_logs(history, source="trainer_state")
    slow = frame_from_logs(history, source="trainer_state")
    assert fast is not None and slow is not None
    assert_frame_equal(fast[0], slow[0])
    assert fast[1] == slow[1]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(_keys, st.one_of(st.none(), _finite_or_not), max_size=6),
        min_size=1,
        max_size=12,
    )
)
def test_any_number_history_matches_the_python_build(history: list[dict[str, Any]]) -> None:
    """With None among the values: polars gathers the columns."""
    _matches_the_python_build(history)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_keys, _finite_or_not, max_size=6), min_size=1, max_size=40))
def test_history_without_none_matches_the_python_build(history: list[dict[str, Any]]) -> None:
    """No None: numpy gathers one block per entry shape (or polars past 32 shapes)."""
    _matches_the_python_build(history)


def _shapes_entry_by_entry(history: list[dict[str, Any]]) -> list[tuple[Any, list[int]]]:
    """The oracle: each entry's key tuple looked up in turn, first-seen shape first."""
    shapes: dict[tuple[str, ...], list[int]] = {}
    for index, entry in enumerate(history):
        shapes.setdefault(tuple(entry), []).append(index)
    return list(shapes.items())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(_keys, st.just(1.0), max_size=4), min_size=1, max_size=40))
def test_entries_grouped_by_size_first_give_the_same_shapes_in_the_same_order(
    history: list[dict[str, Any]],
) -> None:
    """Same-size entries with other keys, or the same keys in another order, are told apart;
    the shapes come in first-seen order (the table's columns are read from it)."""
    grouped = _shapes(history)
    expected = _shapes_entry_by_entry(history)
    if len(expected) > 32:
        assert grouped is None
    else:
        assert grouped is not None and list(grouped.items()) == expected


def test_many_shapes_and_a_shape_with_nan() -> None:
    history: list[dict[str, Any]] = [{"step": s, f"m{s}": float(s)} for s in range(40)]
    history += [{"epoch": 1.0, "step": 3, "loss": math.nan}, {"loss": 2.0, "step": 3}]
    _matches_the_python_build(history)  # 40+ shapes: past the limit
    _matches_the_python_build(history[-2:] * 3)  # two shapes, one key order each


_KEYS = ["step", "loss", "eval_loss", "train_runtime", "train_loss", "epoch"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(_KEYS), unique=True, min_size=1).map(
            lambda keys: {k: (i if k == "step" else 0.5 * i) for i, k in enumerate(keys)}
        ),
        min_size=1,
        max_size=30,
    )
)
def test_summary_entries_found_by_shape_are_those_found_entry_by_entry(
    history: list[dict[str, Any]],
) -> None:
    built = frame_from_numeric_logs(history, source="trainer_state")
    assert built is not None
    by_entry = _summary_candidates(history, None)
    assert _summary_candidates(history, built.shapes) == by_entry
    assert by_entry == [
        i for i, e in enumerate(history) if {"train_runtime", "train_loss"} & set(e)
    ]
