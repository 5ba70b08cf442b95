"""Score one generated answer and summarise many: shared by our eval job and the lm-eval import.

Pure (no torch), so an imported lm-eval sample and one we generated become identical
samples.jsonl rows and identical results.json counts.
"""

from __future__ import annotations

from typing import Any

from gsmreport.gsm8k.answers import (
    FILTERS,
    LM_EVAL_FILTERS,
    NUMERIC,
    STRICT,
    gold_answer,
    gold_steps,
    lm_eval_exact_match,
    lm_eval_extract,
    numeric_answer,
    strict_match,
)

STOP = "Question:"  # lm-eval's gsm8k `until`: a new question means the answer is over


def cut_at_stop(text: str, stops: list[str] | tuple[str, ...]) -> str:
    """`text` up to the earliest stop string, as lm-eval's `until` cuts a generation.

    The earliest occurrence wins, not the first string listed: `["Question:", "\\n\\n"]` on
    "18\\n\\nQuestion:" gives "18"."""
    cut = len(text)
    for stop in stops:
        if stop:
            at = text.find(stop)
            if at != -1:
                cut = min(cut, at)
    return text[:cut]


def category(prediction: str | None, correct: bool, truncated: bool) -> str:
    """Coarse outcome; the report's analysis refines wrong answers into failure categories."""
    if correct:
        return "correct"
    if truncated and prediction is None:
        return "truncated"
    if prediction is None:
        return "no final answer"
    return "wrong answer"


def score(response: str, solution: str) -> tuple[dict[str, str | None], dict[str, int]]:
    """(filtered answers, exact_match) of one response under the three scores.

    strict-match and flexible-extract: lm-eval's filtered string ("[invalid]" when none) and
    its exact_match against the whole gold `solution`; numeric-match: the normalised number
    it compared (None when none) and whether it equals the normalised gold number."""
    filtered: dict[str, str | None] = {f: lm_eval_extract(response, f) for f in LM_EVAL_FILTERS}
    em = {f: lm_eval_exact_match(str(filtered[f]), solution) for f in LM_EVAL_FILTERS}
    number, target = numeric_answer(response), gold_answer(solution)
    filtered[NUMERIC] = number
    em[NUMERIC] = int(number is not None and number == target)
    return filtered, em


def rescored_exact_match(row: dict[str, Any]) -> dict[str, Any]:
    """A samples row's exact_match with all three scores.

    A row written before numeric-match existed scored strict-match and flexible-extract by
    normalised numbers, not by lm-eval's rule; when it carries its response and gold solution
    it is scored again, else its scores are kept and numeric-match is left unscored (None)."""
    raw = row.get("exact_match")
    em: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    if NUMERIC in em:
        return em
    doc = row.get("doc")
    solution = doc.get("answer") if isinstance(doc, dict) else None
    resps = row.get("resps")
    first = resps[0] if isinstance(resps, list) and resps else None
    response = first[0] if isinstance(first, list) and first else first
    if isinstance(solution, str) and isinstance(response, str):
        return dict(score(scored_text(row, response), solution)[1])
    return em | {NUMERIC: None}


def scored_text(row: dict[str, Any], response: str) -> str:
    """The part of a row's response its scores read: our generations are cut at STOP as
    sample_row cut them; an lm-eval sample (it keeps `lm_eval_exact_match`) is already cut."""
    return response if "lm_eval_exact_match" in row else response.split(STOP)[0]


def sample_row(
    doc: dict[str, Any],
    prompt: str,
    text: str,
    n_tokens: int | None,
    truncated: bool | None,
    loss: float | None = None,
    stop: str | None = STOP,
) -> dict[str, Any]:
    """One samples.jsonl row (DESIGN.md): lm-eval's fields plus ours, under the three scores.

    `loss` is the teacher-forced mean NLL of the gold solution, when it was measured. `stop`
    cuts a generation of ours as lm-eval's `until` would; None for a response already cut
    (an lm-eval sample is scored as lm-eval scored it)."""
    scored = text.split(stop)[0] if stop else text
    target = gold_answer(str(doc["answer"]))
    filtered, em = score(scored, str(doc["answer"]))
    prediction = strict_match(scored)
    correct = bool(em[STRICT])
    row = {
        "doc_id": int(doc["doc_id"]),
        "doc": {"question": doc["question"], "answer": doc["answer"]},
        "target": target,
        "arguments": prompt,
        "resps": [[text]],
        "filtered_resps": filtered,
        "exact_match": em,
        "prediction": prediction,
        "correct": correct,
        "category": category(prediction, correct, bool(truncated)),
        "gold_steps": gold_steps(str(doc["answer"])),
        "n_tokens": n_tokens,
        "truncated": truncated,
    }
    if loss is not None:
        row["loss"] = loss
    return row


def counts_and_metrics(
    rows: list[dict[str, Any]],
) -> tuple[dict[str, dict[str, int]], dict[str, float]]:
    """Per-filter correct/n and lm-eval style `exact_match,<filter>` (+ stderr) metrics."""
    n = len(rows)
    counts = {
        f: {"correct": sum(int(r["exact_match"][f]) for r in rows), "n": n}
        for f in FILTERS
        if all(r["exact_match"].get(f) is not None for r in rows)
    }
    metrics: dict[str, float] = {}
    for f, c in counts.items():
        p = c["correct"] / n if n else 0.0
        metrics[f"exact_match,{f}"] = p
        metrics[f"exact_match_stderr,{f}"] = (p * (1 - p) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return counts, metrics
