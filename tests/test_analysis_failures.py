"""Failure categories of wrong answers: each test on a crafted row, their precedence, real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gsmreport.analysis.arithmetic import false_equation
from gsmreport.analysis.evaluation import load_samples
from gsmreport.analysis.failures import (
    ARITHMETIC,
    CATEGORIES,
    COPIED,
    FORMAT,
    NO_ANSWER,
    NO_NUMBER,
    PARTIAL,
    REASONING,
    RESPONSE_CHARS,
    RUN_ON,
    SCALE,
    TRUNCATED,
    classify,
    diagnose,
    failure_table,
    question_numbers,
)
from gsmreport.analysis.sample_view import sample_view
from gsmreport.gsm8k.scoring import sample_row
from tests.conftest import shared_data
from tests.run_fixtures import write_eval

QUESTION = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes muffins with "
    "four. She sells the rest for $2 per egg. How much does she make every day?"
)
SOLUTION = (
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
    "She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18"
)


def row(response: str, truncated: bool | None = False, doc_id: int = 0) -> dict[str, Any]:
    """A samples.jsonl row exactly as our eval job writes it."""
    doc = {"doc_id": doc_id, "question": QUESTION, "answer": SOLUTION}
    return sample_row(doc, "prompt", response, n_tokens=10, truncated=truncated)


# --- one crafted row per category -------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "truncated", "category", "evidence"),
    [
        ("She makes 9 * 2 = 18 dollars.", False, FORMAT, "the last number, 18, is the gold"),
        ("9 * 2 = 18\n#### 18.00", False, FORMAT, "'#### 18.00' is the gold 18"),
        ("#### $18", False, FORMAT, "the last number, 18, is the gold"),
        ("She makes some money.", False, NO_NUMBER, "no number in the response"),
        ("She makes 9 * 2 = 18 dollars, or 19.", False, NO_ANSWER, "the last number, 19,"),
        ("16 - 3 - 4 = 9 eggs, and 9 * 2 = 1", True, TRUNCATED, "token limit"),
        ("9 * 2 = 20\n#### 20\n\nQuestion: How many?", False, RUN_ON, '"Question:" after'),
        ("16 - 3 - 4 = 9\n9 * 2 = 19\n#### 19", False, ARITHMETIC, "9 * 2 = 19 (is 18)"),
        ("18 * 100 = 1800\n#### 1800", False, SCALE, "×100 of gold"),
        ("18 / 12 = 1.5\n#### 1.5", False, SCALE, "÷12 of gold"),
        ("16 - 3 - 4 = 9\n#### 9", False, PARTIAL, "step 1 of 2 of the gold solution: 16-3-4=9"),
        ("She has 16 eggs.\n#### 16", False, COPIED, "16 is written in the question"),
        ("16 + 3 + 4 = 23\n#### 23", False, REASONING, "no mechanical cause"),
    ],
)
def test_each_category_on_a_crafted_row(
    response: str, truncated: bool, category: str, evidence: str
) -> None:
    r = row(response, truncated)
    assert r["correct"] is False
    diagnosis = diagnose(sample_view(r))
    assert diagnosis.category == category
    assert evidence in diagnosis.evidence
    assert classify(r) == category


def test_correct_rows_are_not_failures() -> None:
    assert classify(row("16 - 3 - 4 = 9\n9 * 2 = 18\n#### 18")) == "correct"


# --- precedence ---------------------------------------------------------------------------------


def test_run_on_beats_arithmetic() -> None:
    assert classify(row("9 * 2 = 19\n#### 19\nQuestion: 2 + 2 = 5")) == RUN_ON


def test_arithmetic_beats_scale() -> None:
    # 1800 is gold × 100, but the response also wrote a false equation: the slip comes first.
    assert classify(row("9 * 2 = 180\n180 * 10 = 1800\n#### 1800")) == ARITHMETIC


def test_scale_beats_partial() -> None:
    # 180 is gold × 60 and also the first step of the gold solution: scale comes first.
    doc = {
        "doc_id": 1,
        "question": "A film lasts 3 hours. How many hours is it?",
        "answer": "3*60=<<3*60=180>>180 minutes, 180/60=<<180/60=3>>3 hours\n#### 3",
    }
    assert classify(sample_row(doc, "p", "It lasts 180 minutes.\n#### 180", 3, False)) == SCALE


def test_partial_beats_copied() -> None:
    # 9 is an intermediate gold value and (crafted) also a number in the question.
    doc = {"doc_id": 1, "question": QUESTION + " She has 9 hens.", "answer": SOLUTION}
    assert classify(sample_row(doc, "p", "#### 9", 3, False)) == PARTIAL


def test_truncated_with_an_answer_is_judged_on_the_answer() -> None:
    r = row("9 * 2 = 19\n#### 19 and then it went on and on", truncated=True)
    assert classify(r) == ARITHMETIC
    r = row("The eggs are", truncated=True)
    assert classify(r) == TRUNCATED
    r = row("The eggs are", truncated=None)
    assert classify(r) == NO_NUMBER
    assert "does not record" in diagnose(sample_view(r)).evidence


# --- the arithmetic reader ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 * 4 = 46", "12 * 4 = 46 (is 48)"),
        ("16 - 3 - 4 = 9 eggs", None),  # chained, not "3 - 4 = 9"
        ("5 + 3 * 2 = 16", None),  # left to right is a reading people use
        ("5 + 3 * 2 = 11", None),  # and so is precedence
        ("5 + 3 * 2 = 12", "5 + 3 * 2 = 12 (is 11)"),
        ("2 * 3 = 6 * 2 = 13", "6 * 2 = 13 (is 12)"),  # chained equations, each checked
        ("10 / 3 = 3.33", None),  # rounding to the written place is fine
        ("8 / 3 = 2", "8 / 3 = 2 (is 2.66667)"),
        ("It costs $1,200 + $300 = $1,500.", None),
        ("$8,000 + $96 = $896", "$8,000 + $96 = $896 (is 8096)"),
        ("20% * 50 = 10", None),
        ("0.2 x 100 = 20%", None),
        ("3 × 4 = 12 and 10 ÷ 4 = 2.5", None),
        ("5x3=16", "5x3 = 16 (is 15)"),
        ("(2 + 3) * 4 = 20", None),
        ("2 * (3 + 4) = 15", "2 * (3 + 4) = 15 (is 14)"),
        ("-3 + 5 = 2", None),
        ("7 - 10 = -3", None),
        ("$50 - $60 = $10", "$50 - $60 = $10 (is -10)"),
        ("10 - 20% = 8", None),  # percent shorthand: not judged
        ("He drives 3 hours * 40 mph = 100 miles", None),  # units in between: not read
        ("800000*.15=$<<80000*.15=12000>>12,000", "800000*.15 = $12,000 (is 120000)"),
        ("9 * $2 = $<<9*2=18>>18", None),  # annotation removed: "9 * $2 = $18"
        ("so <<12*4=46>>46", "12*4 = 46 (is 48)"),  # a false calculator annotation
        ("No equations at all, 12 apples.", None),
        ("we get X*2 - 40 = $2,400.", None),  # algebra with a variable: not read
        ("we get X * 2 - 40 = 2400, then 3 * 2 = 7", "3 * 2 = 7 (is 6)"),
    ],
)
def test_false_equation(text: str, expected: str | None) -> None:
    assert false_equation(text) == expected


def test_question_numbers_reads_digits_and_words() -> None:
    found = question_numbers("She eats three, twenty-five and $1,200, 3.50 and 0 cats")
    assert {str(x) for x in found} == {"3", "25", "1200", "7/2", "0"}


# --- other row formats ----------------------------------------------------------------------------


def test_lm_eval_rows_are_read_too() -> None:
    # lm-eval: target is the whole gold solution, no prediction/correct fields of ours.
    lm_eval = {
        "doc_id": 7,
        "doc": {"question": QUESTION, "answer": SOLUTION},
        "target": SOLUTION,
        "resps": [["16 - 3 - 4 = 9\n#### 9"]],
        "filtered_resps": ["9"],
        "exact_match": 0.0,
    }
    view = sample_view(lm_eval)
    assert (view.gold, view.prediction, view.correct, view.gold_steps) == ("18", "9", False, 2)
    assert classify(lm_eval) == PARTIAL


def test_flat_frame_from_load_samples(tmp_path: Path) -> None:
    samples = load_samples(write_eval(tmp_path) / "samples.jsonl")
    table = {fc.category: fc for fc in failure_table(samples)}
    # doc 3 ("… = 540 meters", no `#### n`, gold 540): the right number in the wrong format
    assert table[FORMAT].count == 1 and table[TRUNCATED].count == 1
    assert table[REASONING].count == 2
    assert [x.doc_id for x in table[REASONING].examples] == [2, 5]
    long = table[TRUNCATED].examples[0].response
    assert len(long) <= RESPONSE_CHARS + 2 and long.endswith("…")


def test_table_shares_examples_and_zero_rows() -> None:
    rows = [row("16 + 3 + 4 = 23\n#### 23", doc_id=i) for i in (5, 1, 4, 2)]
    rows += [row("9 * 2 = 19\n#### 19", doc_id=9), row("16 - 3 - 4 = 9\n9 * 2 = 18\n#### 18")]
    table = failure_table(rows)
    assert tuple(fc.category for fc in table) == CATEGORIES
    by_name = {fc.category: fc for fc in table}
    assert by_name[REASONING].count == 4 and by_name[REASONING].share == pytest.approx(0.8)
    assert [x.doc_id for x in by_name[REASONING].examples] == [1, 2, 4]
    assert by_name[ARITHMETIC].examples[0].evidence == "9 * 2 = 19 (is 18)"
    assert by_name[RUN_ON].count == 0 and by_name[RUN_ON].examples == ()
    assert sum(fc.count for fc in table) == 5


# --- the real 1,319 predictions -------------------------------------------------------------------


def real_rows() -> list[dict[str, Any]]:
    folder = shared_data("real-logs", "predictions")
    (path,) = sorted(folder.glob("*.jsonl"))
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)  # {index, gsm8k_data: {question, answer}, input_str, output_str}
        doc = {"doc_id": record["index"], **record["gsm8k_data"]}
        rows.append(sample_row(doc, record["input_str"], record["output_str"], None, None))
    return rows


def test_real_predictions_every_wrong_row_gets_one_category() -> None:
    rows = real_rows()
    assert len(rows) == 1319
    wrong = [r for r in rows if not r["correct"]]
    categories = [classify(r) for r in wrong]
    assert all(c in CATEGORIES for c in categories)
    assert all(classify(r) == "correct" for r in rows if r["correct"])
    table = failure_table(rows)
    assert sum(fc.count for fc in table) == len(wrong)
    assert sum(fc.share for fc in table) == pytest.approx(1.0)
    for fc in table:
        assert fc.count == categories.count(fc.category)
        assert len(fc.examples) == min(3, fc.count)
    # Each arithmetic example's evidence really is false arithmetic.
    for example in {fc.category: fc for fc in table}[ARITHMETIC].examples:
        assert false_equation(example.evidence.split(" (is ")[0]) is not None
    print(f"\n{len(rows)} predictions, {len(wrong)} wrong")
    for fc in table:
        print(f"{fc.category:<36}{fc.count:>5}{fc.share:>8.1%}")


# --- the case: lm-eval rows without `#### n` that hold the right number ----------------


def test_lm_eval_strict_misses_with_the_right_number_are_format_failures() -> None:
    """The Phi-3 samples: every wrong answer misses `#### n`; those whose last number is the
    gold (lm-eval's own flexible-extract exact_match = 1) are the right number in the wrong
    format, the others a wrong number. Expected sets come from the raw file's scores."""
    from gsmreport.ingest import lm_eval

    folder = shared_data("real-logs", "lm-eval")
    (path,) = sorted(folder.glob("*samples_gsm8k_2025-08-07*.jsonl"))
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    scores = {(r["doc_id"], r["filter"]): r["exact_match"] for r in raw}
    wrong = {d for (d, f), em in scores.items() if f == "strict-match" and em == 0}
    right_number = {d for d in wrong if scores[(d, "flexible-extract")] == 1}
    (evaluation,) = lm_eval.read(path).evals
    by_doc = {row["doc_id"]: classify(row) for row in evaluation.samples}
    assert {d for d, c in by_doc.items() if c == FORMAT} == right_number
    assert {d for d, c in by_doc.items() if c == NO_ANSWER} == wrong - right_number
    assert (len(wrong), len(right_number)) == (9, 7)  # the "7 of 9"
