"""Accuracy by gold step count and by topic tag; instruction types; loss outliers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from gsmreport.analysis.breakdown import (
    TOPIC_KEYWORDS,
    accuracy_by_steps,
    accuracy_by_topic,
    instruction_tags,
    outliers,
    step_bucket,
    topic_tags,
)
from gsmreport.analysis.evaluation import load_samples
from gsmreport.analysis.stats import wilson_interval
from tests.run_fixtures import write_eval


def solution(steps: int) -> str:
    return "".join(f"{i}+1=<<{i}+1={i + 1}>>{i + 1}\n" for i in range(steps)) + "#### 1"


def sample(question: str, steps: int, correct: bool, with_count: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "doc_id": 0,
        "doc": {"question": question, "answer": solution(steps)},
        "target": "1",
        "resps": [["#### 1" if correct else "#### 2"]],
        "prediction": "1" if correct else "2",
        "correct": correct,
    }
    if with_count:
        out["gold_steps"] = steps
    return out


@pytest.mark.parametrize(
    ("question", "tags"),
    [
        ("A car drives at 60 mph for 3 hours. How far does it go?", ("rates", "time")),
        ("She got a 20% discount on a $50 dress.", ("percentages", "money")),
        ("He ate half of the 3/4 pie.", ("fractions",)),
        ("Tom has 5 apples and gives 2 away.", ("untagged",)),
        (
            "A worker's hourly rate is $12 per hour. What does she earn in 8 hours?",
            ("rates", "money", "time"),
        ),
        ("They separate the marbles into two piles.", ("untagged",)),  # not "rate"
        ("He came second in the race.", ("untagged",)),  # the ordinal is not time
        ("It takes 45 seconds.", ("time",)),
    ],
)
def test_topic_tags(question: str, tags: tuple[str, ...]) -> None:
    assert topic_tags(question) == tags


def test_topic_keywords_are_documented_for_every_tag() -> None:
    assert set(TOPIC_KEYWORDS) == {"rates", "percentages", "fractions", "money", "time"}


@pytest.mark.parametrize(
    ("instruction", "tags"),
    [
        ("Write a short story about a robot who learns to paint.", ("creative",)),
        ("Describe a sunset in exactly 20 words.", ("constrained", "explanation")),
        ("Explain why the sky is blue.", ("explanation",)),
        ("List five fruits that are high in vitamin C.", ("list",)),
        ("Rewrite the following sentence in the passive voice.", ("rewrite",)),
        ("Calculate 17 * 23.", ("math",)),
        ("Classify the sentiment of this review as positive or negative.", ("classification",)),
        ("Good morning!", ("other",)),
    ],
)
def test_instruction_tags(instruction: str, tags: tuple[str, ...]) -> None:
    assert instruction_tags(instruction) == tags


def test_step_buckets() -> None:
    assert [step_bucket(n) for n in (0, 1, 4, 5, 9, None)] == ["0", "1", "4", "5+", "5+", "unknown"]


def test_accuracy_by_steps_with_wilson_intervals() -> None:
    rows = [sample("q", 1, True), sample("q", 1, False), sample("q", 2, True)]
    rows += [sample("q", 5, False), sample("q", 7, True, with_count=False)]  # recomputed: 7
    buckets = {b.label: b for b in accuracy_by_steps(rows)}
    assert list(buckets) == ["1", "2", "5+"]
    one = buckets["1"]
    assert (one.n, one.correct, one.accuracy) == (2, 1, 0.5)
    assert (one.low, one.high) == wilson_interval(1, 2)
    assert (buckets["5+"].n, buckets["5+"].correct) == (2, 1)


def test_accuracy_by_topic_counts_a_question_in_each_tag() -> None:
    rows = [
        sample("She paid $5 for 2 hours of parking.", 1, True),
        sample("He spent $3.", 1, False),
        sample("Tom has 5 apples.", 1, True),
    ]
    buckets = {b.label: b for b in accuracy_by_topic(rows)}
    assert list(buckets) == ["money", "time", "untagged"]
    assert (buckets["money"].n, buckets["money"].correct) == (2, 1)
    assert (buckets["time"].n, buckets["time"].correct) == (1, 1)
    assert buckets["money"].low == wilson_interval(1, 2)[0]


def test_breakdowns_read_the_flat_samples_frame(tmp_path: Path) -> None:
    samples = load_samples(write_eval(tmp_path) / "samples.jsonl")
    # The flat frame carries no gold solution or step count: every row is "unknown".
    (bucket,) = accuracy_by_steps(samples)
    assert (bucket.label, bucket.n, bucket.correct) == ("unknown", 6, 2)


# --- outliers -----------------------------------------------------------------------------------


def test_outliers_above_the_tukey_fence() -> None:
    losses = [(i, v) for i, v in enumerate([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 5.0, 9.0])]
    losses.append((10, math.nan))
    tags = {8: ("math",), 9: ("math", "list")} | {i: ("creative",) for i in range(8)}
    result = outliers(losses, tags)
    assert result is not None
    # type-7 quartiles of the 10 finite values: positions 2.25 and 6.75
    assert result.q1 == pytest.approx(1.225) and result.q3 == pytest.approx(1.675)
    assert result.threshold == pytest.approx(1.675 + 1.5 * 0.45)
    assert (result.n, result.non_finite, result.count) == (10, 1, 2)
    assert result.examples == ((9, 9.0), (8, 5.0))
    by_tag = {t.tag: (t.outliers, t.n) for t in result.by_tag}
    assert by_tag == {"math": (2, 2), "list": (1, 1), "creative": (0, 8)}
    assert result.by_tag[0].tag == "math" and result.by_tag[0].share == 1.0


def test_outliers_untagged_none_and_too_few() -> None:
    result = outliers([(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0)], {})
    assert result is not None and result.count == 0 and result.iqr == 0
    assert [(t.tag, t.n) for t in result.by_tag] == [("untagged", 5)]
    assert outliers([(1, 1.0), (2, 2.0), (3, math.inf)], {}) is None
