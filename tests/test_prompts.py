"""Evaluation prompts: the exact text of every style, lm-eval's few-shot draw, stop strings."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from gsmreport.core.errors import ConfigError
from gsmreport.gsm8k.prompts import (
    INSTRUCTION,
    ONE_SHOT_A,
    ONE_SHOT_Q,
    Message,
    build_prompt,
    fewshot_exemplars,
    gold_continuation,
    n_shots,
)
from gsmreport.gsm8k.scoring import cut_at_stop, sample_row
from tests.conftest import shared_data

POOL = [{"question": f"q{i}", "answer": f"a{i}\n#### {i}"} for i in range(10)]


def _shot(i: int) -> str:
    return f"Question: q{i}\nAnswer: a{i}\n#### {i}\n\n"


def _chat(messages: list[Message]) -> str:
    """A stand-in chat template: role tags around each turn, the assistant's turn opened."""
    turns = "".join(f"<{m['role']}>{m['content']}</{m['role']}>" for m in messages)
    return f"<s>{turns}<assistant>"


# --- each style's exact text ---------------------------------------------------------------


def test_zero_shot_plain_is_the_training_template() -> None:
    assert build_prompt("zero-shot", "How many?") == "Question: How many?\nAnswer:"
    assert build_prompt("zero-shot", "X", template="Q: {question}\nA:") == "Q: X\nA:"


def test_zero_shot_chat_is_one_user_turn() -> None:
    assert build_prompt("zero-shot", "How many?", chat=_chat) == (
        "<s><user>How many?</user><assistant>"
    )


def test_one_shot_plain_is_the_gemma_study_prompt() -> None:
    assert build_prompt("one-shot", "How many?") == (
        f"{INSTRUCTION}\n\nQuestion: {ONE_SHOT_Q}\nAnswer: {ONE_SHOT_A}\n\n"
        "Question: How many?\nAnswer:"
    )
    assert INSTRUCTION.endswith("in the format '#### <number>'.")
    assert ONE_SHOT_Q.startswith("Natalia sold clips to 48") and ONE_SHOT_A.endswith("#### 72")


def test_one_shot_chat_is_instruction_example_then_question() -> None:
    assert build_prompt("one-shot", "How many?", chat=_chat) == (
        f"<s><user>{INSTRUCTION}\n\n{ONE_SHOT_Q}</user><assistant>{ONE_SHOT_A}</assistant>"
        "<user>How many?</user><assistant>"
    )


def test_five_shot_exact_text_for_seed_1234() -> None:
    exemplars = fewshot_exemplars(POOL, [0, 2], 5, 1234, same_split=False)
    prompt = build_prompt("5-shot", "Q?", exemplars=exemplars[2], chat=_chat)
    # lm-eval's plain text even for a chat model (as its published gsm8k numbers are run)
    assert prompt == "".join(_shot(i) for i in (3, 0, 8, 6, 7)) + "Question: Q?\nAnswer:"


def test_eight_shot_exact_text_for_seed_7() -> None:
    exemplars = fewshot_exemplars(POOL, [1], 8, 7, same_split=False)
    prompt = build_prompt("8-shot", "Q?", exemplars=exemplars[1])
    assert prompt == "".join(_shot(i) for i in (9, 0, 3, 8, 6, 7, 4, 5)) + "Question: Q?\nAnswer:"
    assert (n_shots("5-shot"), n_shots("8-shot"), n_shots("one-shot")) == (5, 8, 0)


def test_five_shot_equals_lm_evals_own_prompt_on_real_gsm8k() -> None:
    """lm-eval 0.4 `--tasks gsm8k --num_fewshot 5` (gpt2, fewshot seed 1234), test doc 0."""
    folder = shared_data("real-logs", "lm-eval")
    (samples,) = folder.glob("*samples_gsm8k_2025-08-11T10-35-08*.jsonl")
    row = json.loads(samples.read_text(encoding="utf-8").splitlines()[0])
    gsm8k = shared_data("gsm8k")
    train = _jsonl(gsm8k / "train.jsonl")
    question = _jsonl(gsm8k / "test.jsonl")[row["doc_id"]]["question"]
    exemplars = fewshot_exemplars(train, [row["doc_id"]], 5, 1234, same_split=False)
    ours = build_prompt("5-shot", question, exemplars=exemplars[row["doc_id"]])
    assert ours == row["arguments"]["gen_args_0"]["arg_0"]


def _jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --- the few-shot draw ----------------------------------------------------------------------


def test_each_problem_gets_its_own_draw_whatever_the_sample() -> None:
    everything = fewshot_exemplars(POOL, range(6), 5, 1234, same_split=False)
    assert fewshot_exemplars(POOL, [3, 5], 5, 1234, same_split=False) == {
        3: everything[3],
        5: everything[5],
    }
    assert everything[0] != everything[1]  # one shared generator: a new draw per problem
    rnd = random.Random(1234)
    assert everything[0] == rnd.sample(POOL, 5) and everything[1] == rnd.sample(POOL, 5)


def test_same_split_never_shows_the_problem_its_own_answer() -> None:
    for doc in range(10):
        exemplars = fewshot_exemplars(POOL, [doc], 8, 3, same_split=True)[doc]
        assert len(exemplars) == 8
        assert POOL[doc] not in exemplars


def test_too_small_a_train_split_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="8-shot prompts need at least 8 training problems"):
        fewshot_exemplars(POOL[:4], [0], 8, 1, same_split=False)
    assert fewshot_exemplars(POOL, [], 5, 1, same_split=False) == {}


# --- gold continuation and stop strings ----------------------------------------------------


def test_gold_continuation_joins_like_training() -> None:
    assert gold_continuation("Question: q\nAnswer:", "a\n#### 1") == " a\n#### 1"
    assert gold_continuation("<start_of_turn>model\n", "a") == "a"


@pytest.mark.parametrize(
    ("text", "stops", "expected"),
    [
        ("18\n\nQuestion: next", ["Question:", "\n\n"], "18"),  # the earliest stop wins
        ("#### 5 Question: more", ["Question:"], "#### 5 "),
        ("#### 5</s>junk", ["Question:", "</s>"], "#### 5"),
        ("no stop here", ["Question:"], "no stop here"),
        ("kept", ["", "x"], "kept"),  # an empty stop string cuts nothing
        ("kept", [], "kept"),
    ],
)
def test_cut_at_stop(text: str, stops: list[str], expected: str) -> None:
    assert cut_at_stop(text, stops) == expected


def test_sample_row_carries_the_gold_loss_only_when_measured() -> None:
    doc = {"doc_id": "3", "question": "q", "answer": "x\n#### 4"}
    row = sample_row(doc, "p", "so #### 4", 5, False, loss=1.25)
    assert (row["loss"], row["correct"], row["n_tokens"], row["truncated"]) == (
        1.25,
        True,
        5,
        False,
    )
    assert "loss" not in sample_row(doc, "p", "4", 1, False)
