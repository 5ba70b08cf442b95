"""Every answer one sample's response gives, filter by filter, for the sample browser.

lm-eval scores GSM8K twice: strict-match (the first `#### n`) and flexible-extract (the last
number-looking token). A response that ends `…18 per day` has no strict answer but a correct
flexible one, so the browser shows both, and beside them a numeric score: the response's last
number, normalised, compared with the gold as a number. That third score is computed here
only, in `numeric_answer`, so that it can be switched to gsm8k/answers.py's own numeric
score in one place once that exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gsmreport.gsm8k.answers import FILTERS, extract, normalize_number
from gsmreport.gsm8k.scoring import STOP

NUMERIC = "numeric"
NAMES = (*FILTERS, NUMERIC)  # the order the browser lists them in
NUMBER_RE = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class FilterAnswer:
    name: str  # strict-match, flexible-extract or numeric
    prediction: str | None  # normalised; None when the response gives none
    correct: bool


def numeric_answer(response: str) -> str | None:
    """The last number in the response (commas, `$`, a trailing `.` dropped), normalised."""
    found = NUMBER_RE.findall(response.split(STOP)[0])
    return normalize_number(found[-1]) if found else None


def same_number(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return a == b


def filter_answers(
    row: Mapping[str, Any], response: str, gold: str | None
) -> tuple[FilterAnswer, ...]:
    """Each filter's answer and verdict: as the row stored them (`filtered_resps`,
    `exact_match`, written by gsm8k.scoring.sample_row), else extracted from the response the
    way that function does; then the numeric score."""
    stored = row.get("filtered_resps")
    stored = stored if isinstance(stored, Mapping) else {}
    scored = row.get("exact_match")
    scored = scored if isinstance(scored, Mapping) else {}
    text = response.split(STOP)[0]
    out = []
    for name in FILTERS:
        raw = stored[name] if name in stored else extract(text, name)
        prediction = normalize_number(None if raw is None else str(raw))
        verdict = scored.get(name)
        correct = (
            bool(verdict)
            if isinstance(verdict, bool | int | float)
            else prediction is not None and prediction == gold
        )
        out.append(FilterAnswer(name, prediction, correct))
    numeric = numeric_answer(response)
    out.append(FilterAnswer(NUMERIC, numeric, same_number(numeric, gold)))
    return tuple(out)
