"""Deterministic failure categories for wrong GSM8K answers, each with the evidence it rests on.

A wrong answer (strict-match, lm-eval's rule) gets the first category whose test holds, in
this order (DESIGN.md):

1. right number, wrong format — strict-match missed but numeric-match holds: the `#### n`
   number written another way (`#### 29.00`, `#### $29`), or no `#### n` line while the last
   number is the gold answer. The model solved it; only the format cost the point;
2. truncated — no `#### n` line because generation hit its token limit. (A truncated response
   that did give an answer is judged on that answer by the later tests: the limit did not
   cause the miss.);
3. no number — no `#### n` line and no number anywhere in the response;
4. no final answer, wrong number — no `#### n` line, and the last number is not the answer.
   Together 2–4 (and 1 without a `#### n` line) are the coarse "no final answer" rows;
5. run-on — after its answer the response starts a new "Question:" (or "### Instruction");
6. arithmetic slip — the response writes an equation `a op b (op c …) = r` that is false;
7. unit or scale slip — prediction = gold × or ÷ 60, 100, 1000, 12, 7 or 24;
8. partial answer — prediction equals an intermediate `<<…=v>>` result of the gold solution;
9. copied a number from the question — prediction equals a number written in the question;
10. reasoning error — none of the above: the mechanics look fine, the reasoning is not.
5–10 are the wrong numbers given as a `#### n` answer.

Rows are read by `sample_view` (analysis/sample_view.py); the arithmetic-slip test lives in
analysis/arithmetic.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from gsmreport.analysis.arithmetic import as_fraction, false_equation
from gsmreport.analysis.sample_view import TRUNCATED as TRUNCATED  # one of CATEGORIES
from gsmreport.analysis.sample_view import Rows, SampleView, iter_views

# Re-exported: report/eval_sections.py imports `sample_view` from here (left as it is while
# that module moves into analysis/).
from gsmreport.analysis.sample_view import sample_view as sample_view
from gsmreport.gsm8k.answers import CALC_RE, STRICT, STRICT_RE, lm_eval_extract

FORMAT = "right number, wrong format"
NO_NUMBER = "no number"
NO_ANSWER = "no final answer, wrong number"
RUN_ON = "run-on"
ARITHMETIC = "arithmetic slip"
SCALE = "unit or scale slip"
PARTIAL = "partial answer"
COPIED = "copied a number from the question"
REASONING = "reasoning error"
CATEGORIES = (
    FORMAT,
    TRUNCATED,
    NO_NUMBER,
    NO_ANSWER,
    RUN_ON,
    ARITHMETIC,
    SCALE,
    PARTIAL,
    COPIED,
    REASONING,
)
CORRECT = "correct"

SCALE_FACTORS = (60, 100, 1000, 12, 7, 24)  # min/h, %, thousands, months or dozen, week, day
RUN_ON_MARKERS = ("Question:", "### Instruction")
MAX_EXAMPLES = 3
RESPONSE_CHARS = 400


# --- the tests besides arithmetic ---------------------------------------------------------------


def _scale_slip(prediction: Fraction, gold: Fraction) -> str | None:
    if gold == 0:
        return None
    for k in SCALE_FACTORS:
        if prediction == gold * k:
            return f"×{k} of gold"
        if prediction * k == gold:
            return f"÷{k} of gold"
    return None


def _intermediate(prediction: Fraction, gold: Fraction, solution: str) -> str | None:
    steps = CALC_RE.findall(solution)
    for i, step in enumerate(steps, start=1):
        value = as_fraction(step.rsplit("=", 1)[-1]) if "=" in step else None
        if value is not None and value == prediction and value != gold:
            return f"= step {i} of {len(steps)} of the gold solution: {step}"
    return None


_WORDS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_VALUES = {w: i for i, w in enumerate(_WORDS)} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_WORD_RE = re.compile(rf"\b({'|'.join(_TENS)})-({'|'.join(_WORDS[1:10])})\b|\b(\w+)\b")
_QUESTION_NUM_RE = re.compile(r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\$?\.\d+")


def question_numbers(question: str) -> set[Fraction]:
    """Numbers written in the question: digits, and number words up to ninety-nine."""
    found = {
        v for m in _QUESTION_NUM_RE.finditer(question) if (v := as_fraction(m.group(0))) is not None
    }
    for m in _WORD_RE.finditer(question.lower()):
        if m.group(1):
            found.add(Fraction(_WORD_VALUES[m.group(1)] + _WORD_VALUES[m.group(2)]))
        elif m.group(3) in _WORD_VALUES:
            found.add(Fraction(_WORD_VALUES[m.group(3)]))
    return found


def _run_on(response: str) -> str | None:
    answer = STRICT_RE.search(response)
    if answer is None:
        return None
    for marker in RUN_ON_MARKERS:
        at = response.find(marker, answer.end())
        if at >= 0:
            return f'"{marker}" after the answer "{answer.group(0).strip()}"'
    return None


@dataclass(frozen=True)
class Diagnosis:
    category: str
    evidence: str


def diagnose(view: SampleView) -> Diagnosis:
    """The category of one row and what shows it; "correct" for a correct row."""
    if view.correct:
        return Diagnosis(CORRECT, "")
    if view.numeric:
        return Diagnosis(FORMAT, _format_evidence(view))
    if view.prediction is None:
        if view.truncated:
            return Diagnosis(TRUNCATED, "hit the token limit before a '#### n' line")
        unknown = (
            " (the row does not record whether it was cut off)" if view.truncated is None else ""
        )
        if view.number is None:
            return Diagnosis(NO_NUMBER, f"no '#### n' line and no number in the response{unknown}")
        return Diagnosis(
            NO_ANSWER,
            f"no '#### n' line; the last number, {view.number}, is not the gold "
            f"{view.gold}{unknown}",
        )
    run_on = _run_on(view.response)
    if run_on:
        return Diagnosis(RUN_ON, run_on)
    slip = false_equation(view.response)
    if slip:
        return Diagnosis(ARITHMETIC, slip)
    prediction = Fraction(view.prediction)
    gold = as_fraction(view.gold) if view.gold is not None else None
    if gold is not None:
        scale = _scale_slip(prediction, gold)
        if scale:
            return Diagnosis(SCALE, scale)
        partial = _intermediate(prediction, gold, view.solution)
        if partial:
            return Diagnosis(PARTIAL, partial)
    if prediction in question_numbers(view.question):
        return Diagnosis(COPIED, f"{view.prediction} is written in the question")
    return Diagnosis(REASONING, "no mechanical cause found")


def _format_evidence(view: SampleView) -> str:
    if view.prediction is None:
        return f"no '#### n' line, but the last number, {view.number}, is the gold answer"
    written = lm_eval_extract(view.response, STRICT)
    return (
        f"'#### {written}' is the gold {view.gold} written another way; "
        "strict-match compares the text"
    )


def classify(row: Mapping[str, Any]) -> str:
    """Failure category of one samples row (CATEGORIES), or "correct"."""
    return diagnose(sample_view(row)).category


# --- the table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureExample:
    doc_id: int
    question: str
    gold: str | None
    prediction: str | None
    response: str  # clipped to RESPONSE_CHARS
    evidence: str


@dataclass(frozen=True)
class FailureCount:
    category: str
    count: int
    share: float  # of the wrong answers
    examples: tuple[FailureExample, ...]  # the first MAX_EXAMPLES by doc_id


def _clip(text: str, limit: int = RESPONSE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def failure_table(rows: Rows) -> tuple[FailureCount, ...]:
    """Every category in CATEGORIES order (zeros included), over the wrong rows only."""
    found: dict[str, list[tuple[SampleView, Diagnosis]]] = {c: [] for c in CATEGORIES}
    for view in iter_views(rows):
        diagnosis = diagnose(view)
        if diagnosis.category != CORRECT:
            found[diagnosis.category].append((view, diagnosis))
    wrong = sum(len(v) for v in found.values())
    table = []
    for category in CATEGORIES:
        picked = sorted(found[category], key=lambda item: item[0].doc_id)[:MAX_EXAMPLES]
        examples = tuple(
            FailureExample(
                v.doc_id, v.question, v.gold, v.prediction, _clip(v.response), d.evidence
            )
            for v, d in picked
        )
        count = len(found[category])
        table.append(FailureCount(category, count, count / wrong if wrong else 0.0, examples))
    return tuple(table)
