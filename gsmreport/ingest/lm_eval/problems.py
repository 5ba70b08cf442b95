"""lm-eval's samples rows (one per filter per problem) folded into our samples.jsonl rows,
one per problem, rescored by our three scores with lm-eval's own scores kept beside ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gsmreport.gsm8k.scoring import sample_row
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.lm_eval.files import SamplesFile
from gsmreport.ingest.lm_eval.results import finite_number


def _prompt(arguments: Any) -> str:
    """The prompt: `{"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}` (0.4.3+) or
    `[[prompt, gen_kwargs]]` (older)."""
    first: Any = arguments
    if isinstance(first, dict):
        first = next(iter(first.values()), "")
    if isinstance(first, dict):
        first = first.get("arg_0", "")
    while isinstance(first, list | tuple) and first:
        first = first[0]
    return first if isinstance(first, str) else ""


def _response(resps: Any) -> str:
    """The raw generation, `resps[0][0]` (one request, one sample per problem for gsm8k)."""
    first: Any = resps
    while isinstance(first, list) and first:
        first = first[0]
    return first if isinstance(first, str) else ""


def _filter_name(row: dict[str, Any], index: int, known: list[str]) -> str:
    """`filter` since lm-eval 0.4.3; before it, rows came in the task's filter_list order."""
    name = row.get("filter")
    if isinstance(name, str):
        return name
    return known[index] if index < len(known) else f"filter-{index}"


def _doc(rows: list[dict[str, Any]], doc_id: int, path: Path) -> dict[str, Any]:
    doc = rows[0]["doc"]
    if not isinstance(doc, dict) or not all(
        isinstance(doc.get(k), str) for k in ("question", "answer")
    ):
        raise SourceError(
            f"{path}: doc {doc_id} has no question/answer text; only GSM8K-style tasks "
            "(question, answer ending `#### n`) can be imported"
        )
    return {"doc_id": doc_id, "question": doc["question"], "answer": doc["answer"]}


def _by_doc(samples: SamplesFile) -> dict[int, list[dict[str, Any]]]:
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for row in samples.rows:
        raw = row["doc_id"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise SourceError(f"{samples.path}: doc_id {raw!r} is not a number")
        by_doc.setdefault(int(raw), []).append(row)
    return by_doc


def problem_rows(
    samples_path: Path, rows: list[dict[str, Any]], filters: list[str]
) -> list[dict[str, Any]]:
    """Our samples.jsonl rows, one per doc_id, from lm-eval's rows (one per filter per doc).

    `filters` names the filters in order, for files written before rows carried `filter`.
    """
    grouped = _by_doc(SamplesFile(samples_path, None, None, rows))
    out = []
    for doc_id in sorted(grouped):
        group = grouped[doc_id]
        first = group[0]
        row = sample_row(
            _doc(group, doc_id, samples_path),
            _prompt(first.get("arguments")),
            _response(first.get("resps")),
            n_tokens=None,
            truncated=None,
            stop=None,  # lm-eval's resps are already cut by its `until`
        )
        theirs = {
            _filter_name(r, i, filters): finite_number(r.get("exact_match"))
            for i, r in enumerate(group)
        }
        row["lm_eval_exact_match"] = {k: v for k, v in theirs.items() if v is not None}
        out.append(row)
    return out
