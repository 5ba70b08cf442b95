"""Answer extraction and number normalisation.

Three named scores (gsm8k/scoring.py computes them):
- strict-match and flexible-extract are lm-eval's gsm8k filters and its exact_match metric,
  byte for byte (lm_eval_extract, lm_eval_exact_match below): `#### 29.00` against gold 29
  is wrong under both, as it is in published lm-eval numbers;
- numeric-match is ours: the `#### n` number when the response has one, else the last number
  (flexible-extract's match), compared with the gold number after Decimal normalisation
  (thousands commas, `$`, trailing `.`, `.0`), so `#### 29.00` and `$1,234.50` vs `1234.5` count.

The normalised extractions (strict_match, flexible_extract) also feed the `prediction` field
and the failure analysis.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

STRICT_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE_RE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
GOLD_RE = re.compile(r"####\s*(.+?)\s*$", re.MULTILINE)
CALC_RE = re.compile(r"<<([^<>]*)>>")

STRICT = "strict-match"
FLEXIBLE = "flexible-extract"
NUMERIC = "numeric-match"
LM_EVAL_FILTERS = (STRICT, FLEXIBLE)  # the scores that are lm-eval's own
FILTERS = (STRICT, FLEXIBLE, NUMERIC)  # every score, in the order tables show them

# lm-eval's gsm8k task (lm_eval/tasks/gsm8k/gsm8k.yaml, metadata version 3.0, as read in
# EleutherAI/lm-evaluation-harness at 47f16bf6): filter `regex` then `take_first`, fallback
# "[invalid]"; metric exact_match with ignore_case: true, ignore_punctuation: false and these
# regexes_to_ignore, applied in order to prediction AND reference (the reference is the whole
# gold solution, `doc_to_target: "{{answer}}"`; "(?s).*#### " leaves its number). The
# gsm8k-cot variants use other regexes ("The answer is …"); only the gsm8k task is followed.
INVALID = "[invalid]"
IGNORE_RES = tuple(re.compile(p) for p in (",", r"\$", r"(?s).*#### ", r"\.$"))


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


def lm_eval_extract(response: str, filter_name: str) -> str:
    """lm-eval's filtered answer (`filtered_resps`), as lm-eval writes it: "[invalid]" when
    nothing matches.

    As RegexFilter.apply (lm_eval/filters/extraction.py): `findall`, then the match at
    group_select (0 for strict-match, -1 for flexible-extract), the first non-empty group of a
    tuple, `.strip()`; take_first then keeps the one response there is.
    """
    if filter_name == STRICT:
        matches: list[Any] = STRICT_RE.findall(response)
        select = 0
    elif filter_name == FLEXIBLE:
        matches = FLEXIBLE_RE.findall(response)
        select = -1
    else:
        raise ValueError(
            f"lm-eval has no filter {filter_name!r}; its: {', '.join(LM_EVAL_FILTERS)}"
        )
    if not matches:
        return INVALID
    match = matches[select]
    if isinstance(match, tuple):
        groups = [g for g in match if g]
        match = groups[0] if groups else INVALID
    return str(match).strip()


def lm_eval_normalise(text: str) -> str:
    """One side of lm-eval's exact_match, prepared as `exact_match_hf_evaluate`
    (lm_eval/api/metrics.py, ported from HF evaluate's exact_match) prepares it: each
    regex_to_ignore removed with re.sub in order, then lower-cased (np.char.lower). Nothing
    is stripped: the comparison is `predictions == references` on the resulting strings."""
    for pattern in IGNORE_RES:
        text = pattern.sub("", text)
    return text.lower()


def lm_eval_exact_match(filtered: str, gold_solution: str) -> int:
    """lm-eval's gsm8k exact_match of one filtered answer against the whole gold solution."""
    return int(lm_eval_normalise(filtered) == lm_eval_normalise(gold_solution))


def numeric_answer(response: str) -> str | None:
    """What numeric-match compares: the normalised `#### n` number when the response has one
    (the format the task asks for wins over a later stray number), else the normalised last
    number, flexible-extract's match. So numeric-match holds whenever strict-match does."""
    strict = strict_match(response)
    return strict if strict is not None else flexible_extract(response)


def extract(response: str, filter_name: str) -> str | None:
    if filter_name == "strict-match":
        return strict_match(response)
    if filter_name == "flexible-extract":
        return flexible_extract(response)
    if filter_name == NUMERIC:
        return numeric_answer(response)
    raise ValueError(f"unknown filter {filter_name!r}; known: {', '.join(FILTERS)}")


def gold_answer(solution: str) -> str | None:
    """The normalised number after `####` in a GSM8K gold solution."""
    matches = GOLD_RE.findall(solution)
    return normalize_number(matches[-1]) if matches else None


def gold_steps(solution: str) -> int:
    """Number of `<<a*b=c>>` calculator annotations: GSM8K's proxy for reasoning steps."""
    return len(CALC_RE.findall(solution))
