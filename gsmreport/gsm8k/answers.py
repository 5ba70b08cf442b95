"""Answer extraction and number normalisation, compatible with lm-evaluation-harness.

Two named filters, as lm-eval's gsm8k task defines them:
- strict-match: the first `#### <number>`;
- flexible-extract: the last number-looking token anywhere in the response.
Both results are normalised (thousands commas, `$`, trailing `.`, `.0`) before comparison,
so `#### 1,450,000.` and `1450000` are the same answer.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE_RE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
GOLD_RE = re.compile(r"####\s*(.+?)\s*$", re.MULTILINE)
CALC_RE = re.compile(r"<<([^<>]*)>>")

FILTERS = ("strict-match", "flexible-extract")


def normalize_number(text: str | None) -> str | None:
    """Canonical string for a number, or None when `text` holds no number.

    `$1,234.50` -> `1234.5`; `18.` -> `18`; `-3.0` -> `-3`; `12 dollars` -> `12`.
    """
    if text is None:
        return None
    cleaned = text.strip().replace(",", "").replace("$", "")
    match = re.search(r"-?\d+(?:\.\d+)?|-?\.\d+", cleaned)
    if not match:
        return None
    try:
        value = Decimal(match.group(0))
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def strict_match(response: str) -> str | None:
    """The first `#### <number>` in the response, normalised; None if absent."""
    m = STRICT_RE.search(response)
    return normalize_number(m.group(1)) if m else None


def flexible_extract(response: str) -> str | None:
    """The last number-looking match in the response, normalised; None if absent.

    Exactly lm-eval's rule: the *last* regex match is the answer even when it is not a number
    (`"18. Hmm..."` ends on `...`, which scores 0); stepping back to an earlier number would
    score answers that lm-eval does not.
    """
    matches = FLEXIBLE_RE.findall(response)
    if not matches:
        return None
    token = next((g for g in matches[-1] if g), "")
    return normalize_number(token)


def extract(response: str, filter_name: str) -> str | None:
    if filter_name == "strict-match":
        return strict_match(response)
    if filter_name == "flexible-extract":
        return flexible_extract(response)
    raise ValueError(f"unknown filter {filter_name!r}; known: {', '.join(FILTERS)}")


def gold_answer(solution: str) -> str | None:
    """The normalised number after `####` in a GSM8K gold solution."""
    matches = GOLD_RE.findall(solution)
    return normalize_number(matches[-1]) if matches else None


def gold_steps(solution: str) -> int:
    """Number of `<<a*b=c>>` calculator annotations: GSM8K's proxy for reasoning steps."""
    return len(CALC_RE.findall(solution))
