"""The arithmetic-slip check: find a written equation `a op b (op c …) = r` that is false.

Exact fractions, both operator readings (with precedence, and left to right as people write a
running calculation), percent read as /100 or as itself, and rounding to the written decimal
place allowed: an equation is called false only when no reasonable reading makes it true, and
anything the checker cannot read with certainty is not judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from gsmreport.gsm8k.answers import CALC_RE, normalize_number

_NUM = r"\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?|\$?\.\d+%?"
_TERM = rf"\(*\s*(?:{_NUM})\s*\)*"
_OP = r"[-+*/×x÷]"
# An expression of at least two terms, "=", then (looked ahead, not consumed, so that chained
# "2 * 3 = 6 * 2 = 12" is read as two equations) the written result. A leading minus counts
# only at the start of an expression, not after a digit or a word. Nor does an expression start
# right after a variable and its operator ("X*2 - 40 = $2,400" is algebra, not "2 - 40 = 2400").
_AFTER_VARIABLE = (
    r"(?<![A-Za-z][-+*/×÷])(?<![A-Za-z]\s[-+*/×÷])"
    r"(?<![A-Za-z][-+*/×÷]\s)(?<![A-Za-z]\s[-+*/×÷]\s)"
)
_EQUATION_RE = re.compile(
    rf"((?<![\w.)]){_AFTER_VARIABLE}-?{_TERM}(?:\s*{_OP}\s*{_TERM})+)\s*=\s*(?=(-?\s?(?:{_NUM})))"
)
_TOKEN_RE = re.compile(rf"{_NUM}|[-+*/×x÷()]")
_OPS = {"×": "*", "x": "*", "÷": "/"}


@dataclass(frozen=True)
class _Token:
    kind: str  # "num" | "op" | "("  | ")"
    text: str
    value: Fraction = Fraction(0)
    percent: bool = False


def as_fraction(text: str) -> Fraction | None:
    """A written number (commas, `$`, `%` and all) as an exact fraction; None if it is none."""
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
            value = as_fraction(text)
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
    rhs = as_fraction(result)
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
