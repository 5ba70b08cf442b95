"""Every answer one sample's response gives, score by score, for the sample browser.

lm-eval scores GSM8K twice: strict-match (the first `#### n`) and flexible-extract (the last
number-looking token); numeric-match is ours (gsm8k/answers.py). A response that ends
`…18 per day` has no strict answer but a correct flexible one, so the browser shows all three.
The scores are the row's own when it carries all three, else gsm8k.scoring.score's, the
function that wrote them: the browser never has a rule of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gsmreport.gsm8k.answers import FILTERS, normalize_number
from gsmreport.gsm8k.scoring import score, scored_text


@dataclass(frozen=True)
class FilterAnswer:
    name: str  # strict-match, flexible-extract or numeric-match
    prediction: str | None  # normalised; None when the response gives none
    correct: bool


def filter_answers(
    row: Mapping[str, Any], response: str, gold: str | None
) -> tuple[FilterAnswer, ...]:
    """Each score's answer and verdict: as the row stored them (`filtered_resps`,
    `exact_match`, written by gsm8k.scoring.sample_row) when it holds all three, else scored
    again from the response against the row's gold solution (`#### gold` when it has none)."""
    stored = row.get("filtered_resps")
    stored = stored if isinstance(stored, Mapping) else {}
    marks = row.get("exact_match")
    marks = marks if isinstance(marks, Mapping) else {}
    if not all(name in stored and marks.get(name) is not None for name in FILTERS):
        doc = row.get("doc")
        solution = doc.get("answer") if isinstance(doc, Mapping) else None
        if not isinstance(solution, str):
            solution = f"#### {gold}" if gold is not None else ""
        stored, marks = score(scored_text(dict(row), response), solution)
    out = []
    for name in FILTERS:
        raw = stored.get(name)
        prediction = normalize_number(None if raw is None else str(raw))
        out.append(FilterAnswer(name, prediction, bool(marks.get(name))))
    return tuple(out)
