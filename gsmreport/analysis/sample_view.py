"""One samples row as the failure analysis reads it, whichever format it came in.

Rows are samples.jsonl dicts (ours or lm-eval's), a polars frame of them, or the flat frame of
`evaluation.load_samples`; `sample_view` reads all three the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from gsmreport.gsm8k.answers import (
    NUMERIC,
    STRICT,
    gold_answer,
    normalize_number,
    numeric_answer,
    strict_match,
)
from gsmreport.gsm8k.answers import gold_steps as count_gold_steps
from gsmreport.gsm8k.scoring import rescored_exact_match, scored_text

TRUNCATED = "truncated"  # the failure category a row may already carry (failures.TRUNCATED)

Rows = pl.DataFrame | Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class SampleView:
    """The fields the analysis needs, whichever samples format the row came in."""

    doc_id: int
    question: str
    solution: str  # the gold solution text ("" when the row does not carry it)
    gold: str | None  # normalised gold number
    response: str
    prediction: str | None  # normalised; strict-match of the response when the row has none
    correct: bool
    truncated: bool | None  # None: the row does not say
    gold_steps: int | None
    number: str | None = None  # numeric-match's number: the `#### n` one, else the last one
    numeric: bool | None = None  # numeric-match: `number` equals the gold number


def _first_response(row: Mapping[str, Any]) -> str:
    if "resps" not in row:
        return str(row.get("response") or "")
    resps = row.get("resps") or [[""]]
    first = resps[0] if isinstance(resps, list) and resps else ""
    text = first[0] if isinstance(first, list) and first else first
    return str(text or "")


def _gold(row: Mapping[str, Any], solution: str) -> str | None:
    target = row.get("target", row.get("gold"))
    if target is not None:
        text = str(target)
        # lm-eval's gsm8k target is the whole gold solution, ours is the bare number.
        return gold_answer(text) if "####" in text else normalize_number(text)
    return gold_answer(solution) if solution else None


def _correct(row: Mapping[str, Any], prediction: str | None, gold: str | None) -> bool:
    em = row.get("exact_match")
    if isinstance(em, Mapping) and NUMERIC not in em:
        # written before the three scores: its `correct` was a normalised comparison, so it
        # is scored again by lm-eval's rule when the row carries its response and solution
        em = rescored_exact_match(dict(row))
    elif isinstance(row.get("correct"), bool | int):
        return bool(row["correct"])
    if isinstance(em, Mapping) and em.get(STRICT) is not None:
        return bool(em[STRICT])
    if row.get("em:strict-match") is not None:
        return bool(row["em:strict-match"])
    return prediction is not None and prediction == gold


def sample_view(row: Mapping[str, Any]) -> SampleView:
    raw_doc = row.get("doc")
    doc: Mapping[str, Any] = raw_doc if isinstance(raw_doc, Mapping) else {}
    question = str(doc.get("question", row.get("question", "")) or "")
    solution = str(doc.get("answer", row.get("answer", "")) or "")
    response = _first_response(row)
    gold = _gold(row, solution)
    raw_prediction = row["prediction"] if "prediction" in row else strict_match(response)
    prediction = normalize_number(None if raw_prediction is None else str(raw_prediction))
    truncated = row.get("truncated")
    if truncated is None and row.get("category") == TRUNCATED:
        truncated = True
    number = numeric_answer(scored_text(dict(row), response)) if response else None
    steps = row.get("gold_steps")
    if not isinstance(steps, int):
        steps = count_gold_steps(solution) if solution else None
    return SampleView(
        doc_id=int(row.get("doc_id", -1)),
        question=question,
        solution=solution,
        gold=gold,
        response=response,
        prediction=prediction,
        correct=_correct(row, prediction, gold),
        truncated=None if truncated is None else bool(truncated),
        gold_steps=steps,
        number=number,
        numeric=None if gold is None else number is not None and number == gold,
    )


def iter_views(rows: Rows) -> Iterator[SampleView]:
    source = rows.iter_rows(named=True) if isinstance(rows, pl.DataFrame) else rows
    for row in source:
        yield sample_view(row)
