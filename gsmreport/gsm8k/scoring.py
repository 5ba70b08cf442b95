"""Score one generated answer and summarise many: shared by our eval job and the lm-eval import.

Pure (no torch), so an imported lm-eval sample and one we generated become identical
samples.jsonl rows and identical results.json counts.
"""

from __future__ import annotations

from typing import Any

from gsmreport.gsm8k.answers import FILTERS, extract, gold_answer, gold_steps

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


def sample_row(
    doc: dict[str, Any],
    prompt: str,
    text: str,
    n_tokens: int | None,
    truncated: bool | None,
    loss: float | None = None,
) -> dict[str, Any]:
    """One samples.jsonl row (DESIGN.md): lm-eval's fields plus ours, scored by both filters.

    `loss` is the teacher-forced mean NLL of the gold solution, when it was measured."""
    scored = text.split(STOP)[0]
    target = gold_answer(str(doc["answer"]))
    filtered = {f: extract(scored, f) for f in FILTERS}
    em = {f: int(filtered[f] is not None and filtered[f] == target) for f in FILTERS}
    prediction = filtered["strict-match"]
    correct = bool(em["strict-match"])
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
    counts = {f: {"correct": sum(int(r["exact_match"][f]) for r in rows), "n": n} for f in FILTERS}
    metrics: dict[str, float] = {}
    for f, c in counts.items():
        p = c["correct"] / n if n else 0.0
        metrics[f"exact_match,{f}"] = p
        metrics[f"exact_match_stderr,{f}"] = (p * (1 - p) / (n - 1)) ** 0.5 if n > 1 else 0.0
    return counts, metrics
