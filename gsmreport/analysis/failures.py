"""Deterministic failure categories for wrong GSM8K answers, each with the evidence it rests on.

A wrong answer gets the first category whose test holds, in this order (DESIGN.md):

1. no final answer / format — no `#### n` line, and the output was not cut off;
2. truncated — no `#### n` line because generation hit its token limit. (A truncated response
   that did give an answer is judged on that answer by the later tests: the limit did not
   cause the miss.) Together 1 and 2 are the "no final answer" rows of the coarse category;
3. run-on — after its answer the response starts a new "Question:" (or "### Instruction");
4. arithmetic slip — the response writes an equation `a op b (op c …) = r` that is false;
5. unit or scale slip — prediction = gold × or ÷ 60, 100, 1000, 12, 7 or 24;
6. partial answer — prediction equals an intermediate `<<…=v>>` result of the gold solution;
7. copied a number from the question — prediction equals a number written in the question;
8. reasoning error — none of the above: the mechanics look fine, the reasoning is not.

Rows are samples.jsonl dicts (ours or lm-eval's), a polars frame of them, or the flat frame of
`evaluation.load_samples`; `sample_view` reads all three the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import polars as pl

from gsmreport.gsm8k.answers import CALC_RE, STRICT_RE, gold_answer, normalize_number, strict_match
from gsmreport.gsm8k.answers import gold_steps as count_gold_steps

NO_ANSWER = "no final answer / format"
TRUNCATED = "truncated"
RUN_ON = "run-on"
ARITHMETIC = "arithmetic slip"
SCALE = "unit or scale slip"
PARTIAL = "partial answer"
COPIED = "copied a number from the question"
REASONING = "reasoning error"
CATEGORIES = (NO_ANSWER, TRUNCATED, RUN_ON, ARITHMETIC, SCALE, PARTIAL, COPIED, REASONING)
CORRECT = "correct"

SCALE_FACTORS = (60, 100, 1000, 12, 7, 24)  # min/h, %, thousands, months or dozen, week, day
RUN_ON_MARKERS = ("Question:", "### Instruction")
MAX_EXAMPLES = 3
RESPONSE_CHARS = 400

Rows = pl.DataFrame | Iterable[Mapping[str, Any]]


# --- reading a row ----------------------------------------------------------------------------


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
    if isinstance(row.get("correct"), bool | int):
        return bool(row["correct"])
    em = row.get("exact_match")
    if isinstance(em, Mapping) and em.get("strict-match") is not None:
        return bool(em["strict-match"])
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
    )


def iter_views(rows: Rows) -> Iterator[SampleView]:
    source = rows.iter_rows(named=True) if isinstance(rows, pl.DataFrame) else rows
    for row in source:
        yield sample_view(row)


# --- arithmetic in the response -----------------------------------------------------------------

_NUM = r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\$?\.\d+%?"
_TERM = rf"\(*\s*(?:{_NUM})\s*\)*"
_OP = r"[-+*/×x÷]"
# An expression of at least two terms, "=", then (looked ahead, not consumed, so that chained
# "2 * 3 = 6 * 2 = 12" is read as two equations) the written result. A leading minus counts
# only at the start of an expression, not after a digit or a word.
_EQUATION_RE = re.compile(
    rf"((?<![\w.)])-?{_TERM}(?:\s*{_OP}\s*{_TERM})+)\s*=\s*(?=(-?\s?(?:{_NUM})))"
)
_TOKEN_RE = re.compile(rf"{_NUM}|[-+*/×x÷()]")
_OPS = {"×": "*", "x": "*", "÷": "/"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "op" | "("  | ")"
    text: str
    value: Fraction = Fraction(0)
    percent: bool = False


def _number(text: str) -> Fraction | None:
    value = normalize_number(text)
    return None if value is None else Fraction(value)


def _tokens(expr: str) -> list[_Token] | None:
    out: list[_Token] = []
    for match in _TOKEN_RE.finditer(expr):
        text = match.group(0)
        if text in "()":
            out.append(_Token(text, text))
        elif len(text) == 1 and text in "-+*/×x÷":
            out.append(_Token("op", _OPS.get(text, text)))
        else:
            value = _number(text)
            if value is None:
                return None
            out.append(_Token("num", text, value, text.endswith("%")))
    return out


class _Unreadable(Exception):
    """The expression is not one this checker can read with certainty; it is not judged."""


def _evaluate(tokens: list[_Token], percent_scale: Fraction, precedence: bool) -> Fraction:
    """Recursive descent over + − × ÷ and parentheses, in exact fractions.

    With `precedence` False every operator binds left to right, the way people often write a
    running calculation ("5 + 3 * 2 = 16"); an equation is false only if both readings are.
    """
    pos = 0

    def atom() -> Fraction:
        nonlocal pos
        if pos >= len(tokens):
            raise _Unreadable
        tok = tokens[pos]
        pos += 1
        if tok.kind == "op" and tok.text == "-":
            return -atom()
        if tok.kind == "(":
            value = expression(0)
            if pos >= len(tokens) or tokens[pos].kind != ")":
                raise _Unreadable
            pos += 1
            return value
        if tok.kind != "num":
            raise _Unreadable
        return tok.value * percent_scale if tok.percent else tok.value

    def expression(level: int) -> Fraction:
        nonlocal pos
        value = atom() if not precedence or level == 1 else expression(1)
        while pos < len(tokens) and tokens[pos].kind == "op":
            op = tokens[pos].text
            if precedence and level == 1 and op in "+-":
                break
            pos += 1
            right = atom() if not precedence or level == 1 else expression(1)
            if op == "+":
                value += right
            elif op == "-":
                value -= right
            elif op == "*":
                value *= right
            elif right == 0:
                raise _Unreadable
            else:
                value /= right
        return value

    result = expression(0)
    if pos != len(tokens):
        raise _Unreadable
    return result


def _half_unit(written: str) -> Fraction:
    """Half a unit in the last written decimal place: rounding to it is not a slip."""
    digits = written.rstrip("%").split(".")
    places = len(digits[1]) if len(digits) == 2 else 0
    return Fraction(1, 2 * 10**places)


def _is_false(expr: str, result: str) -> Fraction | None:
    """The true value when `expr = result` is false under every reading; None otherwise."""
    tokens = _tokens(expr)
    rhs = _number(result)
    if tokens is None or rhs is None or sum(t.kind == "num" for t in tokens) < 2:
        return None
    if result.strip().startswith("-"):
        rhs = -abs(rhs)
    nums = [t for t in tokens if t.kind == "num"]
    mixed_percent = any(t.percent for t in nums) and not all(t.percent for t in nums)
    if mixed_percent and any(t.kind == "op" and t.text in "+-" for t in tokens):
        return None  # "10 − 20 % = 8" is shorthand, not arithmetic to check
    # "20 % of 50" and "0.2 × 100 = 20 %" are both common: a percent may mean /100 or itself.
    tolerance = _half_unit(result.strip().lstrip("-$ ").replace(",", ""))
    targets = [(rhs, tolerance)]
    if result.rstrip().endswith("%"):
        targets.append((rhs / 100, tolerance / 100))
    first: Fraction | None = None
    for scale in (Fraction(1, 100), Fraction(1)):
        for precedence in (True, False):
            try:
                value = _evaluate(tokens, scale, precedence)
            except _Unreadable:
                return None
            if any(abs(value - target) <= tol for target, tol in targets):
                return None
            first = value if first is None else first
    return first


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.6g}"


def false_equation(response: str) -> str | None:
    """The first written equation in the response whose arithmetic is false, as evidence.

    Checks the visible text (calculator annotations removed, so "9 * 2 = <<9*2=18>>18" reads
    "9 * 2 = 18") and then the `<<a*b=c>>` annotations themselves.
    """
    visible = CALC_RE.sub("", response)
    for text in (visible, *CALC_RE.findall(response)):
        for match in _EQUATION_RE.finditer(text):
            expr, result = match.group(1), match.group(2)
            true_value = _is_false(expr, result)
            if true_value is not None:
                written = " ".join(f"{expr.strip()} = {result.strip()}".split())
                return f"{written} (is {_show(true_value)})"
    return None


# --- the other tests ------------------------------------------------------------------------------


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
        value = _number(step.rsplit("=", 1)[-1]) if "=" in step else None
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
        v for m in _QUESTION_NUM_RE.finditer(question) if (v := _number(m.group(0))) is not None
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
    if view.prediction is None:
        if view.truncated:
            return Diagnosis(TRUNCATED, "hit the token limit before a '#### n' line")
        unknown = (
            " (the row does not record whether it was cut off)" if view.truncated is None else ""
        )
        return Diagnosis(NO_ANSWER, f"no '#### n' line in the response{unknown}")
    run_on = _run_on(view.response)
    if run_on:
        return Diagnosis(RUN_ON, run_on)
    slip = false_equation(view.response)
    if slip:
        return Diagnosis(ARITHMETIC, slip)
    prediction = Fraction(view.prediction)
    gold = _number(view.gold) if view.gold is not None else None
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
