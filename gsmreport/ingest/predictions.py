"""Prediction dumps as evaluations: one generated answer per GSM8K problem, in any field names.

Many tools (and hand-written eval scripts) leave a file of {question, gold answer, response}
records and nothing else: a JSONL, a JSON list, or a CSV. Each record becomes one of our
samples.jsonl rows, scored by `gsm8k.scoring.sample_row` under the three scores, so a dump
and an evaluation we ran read the same way in every report.

Which field is which comes from `--map question=…,gold=…,response=…` (dotted paths reach
into nested objects: `gsm8k_data.question`), else from the obvious names (CANDIDATES). A file
with one response object per model (OpenAI's example_model_solutions.jsonl:
`{"question", "ground_truth", "6b_finetuning": {"solution", "is_correct"}, …}`) gives one
evaluation per model.

The gold answer is a GSM8K solution ending `#### n`, or any text whose last number is the
answer (`… A: 18`, a bare `18`): lm-eval's exact_match compares against the text after
`#### `, so a gold without one is scored as `<its text>\\n#### <its last number>`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from gsmreport.core.runs import slugify
from gsmreport.gsm8k.answers import FLEXIBLE_RE, LM_EVAL_FILTERS, NUMERIC
from gsmreport.gsm8k.scoring import counts_and_metrics, sample_row
from gsmreport.ingest.files import SourceError, read_text
from gsmreport.ingest.schema import empty_frame
from gsmreport.ingest.source import ImportedEval, SourceData
from gsmreport.ingest.tabular import jsonl_records

SOURCE: Final = "predictions"
REQUIRED: Final = ("question", "gold", "response")
TARGETS: Final = (*REQUIRED, "id", "prompt")  # what --map may name for a predictions file
SUFFIXES: Final = (".jsonl", ".ndjson", ".json", ".csv", ".tsv")

# Obvious field names, most telling first. "solution" is a response only inside a per-model
# object: at the top level it is GSM8K's name for the gold solution.
CANDIDATES: Final[dict[str, tuple[str, ...]]] = {
    "question": ("question", "problem", "query", "instruction"),
    "gold": ("answer", "gold", "ground_truth", "gold_answer", "target", "reference", "label"),
    "response": (
        "response",
        "output_str",
        "output",
        "prediction",
        "generation",
        "completion",
        "model_output",
        "generated_text",
        "model_answer",
        "pred",
    ),
    "id": ("doc_id", "index", "idx", "id", "question_id"),
    "prompt": ("prompt", "input_str", "input"),
}
PER_MODEL_RESPONSE: Final = ("solution", *CANDIDATES["response"])
_MAX_NAMED = 5  # line numbers named in one warning


# --- reading records ------------------------------------------------------------------------


def _jsonl(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        return jsonl_records(text)
    except ValueError as exc:
        raise SourceError(f"{path}: {exc}") from exc


def _json(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from exc
    if isinstance(data, dict):  # {"predictions": [...]} and the like: the one list of objects
        lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) != 1:
            raise SourceError(f"{path}: expected a JSON list of records (or an object holding one)")
        data = lists[0]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceError(f"{path}: expected a JSON list of objects, one per problem")
    return data


def _csv(text: str, delimiter: str) -> list[dict[str, Any]]:
    return [dict(row) for row in csv.DictReader(io.StringIO(text), delimiter=delimiter)]


def load_records(path: Path) -> list[dict[str, Any]]:
    """The file's records; SourceError (one line) for an unreadable or empty file."""
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        records = _jsonl(path, text)
    elif suffix == ".json":
        records = _json(path, text)
    elif suffix in (".csv", ".tsv"):
        records = _csv(text, "\t" if suffix == ".tsv" else ",")
    else:
        raise SourceError(f"{path}: a predictions file is .jsonl, .json or .csv")
    if not records:
        raise SourceError(f"{path}: no records: nothing to import")
    return records


def get(record: dict[str, Any], path: str) -> Any:
    """`record[path]`, or the dotted path walked through nested objects; None when absent."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _paths(record: dict[str, Any]) -> list[str]:
    """Top-level field names, then `parent.child` for one level of nesting."""
    top = list(record)
    nested = [f"{k}.{c}" for k, v in record.items() if isinstance(v, dict) for c in v]
    return top + nested


# --- which field is which -------------------------------------------------------------------


def _found_hint(record: dict[str, Any]) -> str:
    names = _paths(record)
    shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    return f"fields found: {shown}"


def _pick(paths: list[str], names: Iterable[str], taken: set[str]) -> str | None:
    """The first candidate name, at the top level first, then as the child of a nested object."""
    for name in names:
        if name in paths and name not in taken:
            return name
    for name in names:
        for path in paths:
            if path not in taken and "." in path and path.rsplit(".", 1)[1] == name:
                return path
    return None


def detect_fields(record: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """({target: path} for question, gold, id, prompt; {model: response path}) by the names.

    One response field gives {"": path}; per-model objects give one entry per model."""
    paths = _paths(record)
    fields: dict[str, str] = {}
    taken: set[str] = set()
    for target in ("question", "gold"):
        path = _pick(paths, CANDIDATES[target], taken)
        if path is not None:
            fields[target] = path
            taken.add(path)
    responses: dict[str, str] = {}
    top = _pick([p for p in paths if "." not in p], CANDIDATES["response"], taken)
    if top is not None:
        responses[""] = top
    else:
        holders = {p.split(".", 1)[0] for p in taken if "." in p}
        for key, value in record.items():
            if isinstance(value, dict) and key not in holders:
                child = next((c for c in PER_MODEL_RESPONSE if isinstance(value.get(c), str)), None)
                if child is not None:
                    responses[key] = f"{key}.{child}"
        if not responses:
            nested = _pick(paths, CANDIDATES["response"], taken)
            if nested is not None:
                responses[""] = nested
    taken |= set(responses.values())
    for target in ("id", "prompt"):
        path = _pick(paths, CANDIDATES[target], taken)
        if path is not None:
            fields[target] = path
            taken.add(path)
    return fields, responses


def resolve_fields(
    path: Path, first: dict[str, Any], mapping: dict[str, str] | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The fields to read: the mapping's where given, the detected ones elsewhere."""
    mapping = mapping or {}
    unknown = sorted(set(mapping) - set(TARGETS))
    if unknown:
        raise SourceError(
            f"{path}: --map target(s) {', '.join(unknown)} are not fields of a predictions file "
            f"(its targets: {', '.join(TARGETS)})"
        )
    fields, responses = detect_fields(first)
    fields |= {k: v for k, v in mapping.items() if k != "response"}
    if "response" in mapping:
        responses = {"": mapping["response"]}
    missing = [t for t in ("question", "gold") if t not in fields]
    if not responses:
        missing.append("response")
    if missing:
        raise SourceError(
            f"{path}: cannot tell which field holds the {' and the '.join(missing)} "
            f"({_found_hint(first)}); name them with --map question=FIELD,gold=FIELD,"
            "response=FIELD"
        )
    for target, where in [*fields.items(), *(("response", p) for p in responses.values())]:
        if get(first, where) is None:
            raise SourceError(
                f"{path}: the first record has no field {where!r} for {target} "
                f"({_found_hint(first)})"
            )
    return fields, responses


# --- scoring ---------------------------------------------------------------------------------


def gold_solution(gold: Any) -> str | None:
    """The gold as lm-eval's gsm8k reference: a `#### n` solution, else `<text>\\n#### <last
    number as written>`; None when the gold holds no number."""
    if isinstance(gold, bool) or gold is None:
        return None
    text = str(gold).strip()
    if "#### " in text:
        return text
    matches = FLEXIBLE_RE.findall(text)
    numbers = [g for m in matches for g in m if g and any(ch.isdigit() for ch in g)]
    if not numbers:
        return None
    last = numbers[-1].strip().rstrip(".")
    return f"{text}\n#### {last}" if text != last else f"#### {last}"


def _doc_id(value: Any, index: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return index


def _rows(
    path: Path,
    records: list[dict[str, Any]],
    fields: dict[str, str],
    response_path: str,
    warnings: list[str],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    skipped: list[int] = []
    seen: set[int] = set()
    for index, record in enumerate(records):
        question = get(record, fields["question"])
        solution = gold_solution(get(record, fields["gold"]))
        response = get(record, response_path)
        if not isinstance(question, str) or solution is None or not isinstance(response, str):
            skipped.append(index + 1)
            continue
        doc_id = _doc_id(get(record, fields["id"]) if "id" in fields else None, index)
        if doc_id in seen:
            doc_id = index  # a repeated id would merge two problems: the record's place instead
        seen.add(doc_id)
        prompt = get(record, fields["prompt"]) if "prompt" in fields else None
        doc = {"doc_id": doc_id, "question": question, "answer": solution}
        rows.append(
            sample_row(doc, prompt if isinstance(prompt, str) else "", response, None, None)
        )
    if skipped:
        named = ", ".join(map(str, skipped[:_MAX_NAMED])) + (
            " …" if len(skipped) > _MAX_NAMED else ""
        )
        warnings.append(
            f"{path}: {len(skipped)} of {len(records)} records lack a question, a gold number or "
            f"a response text ({response_path}), skipped (record {named})"
        )
    rows.sort(key=lambda r: int(r["doc_id"]))
    return rows


def _evaluation(
    path: Path, model: str, fields: dict[str, str], response_path: str, rows: list[dict[str, Any]]
) -> ImportedEval:
    counts, metrics = counts_and_metrics(rows)
    eval_id = slugify(f"{path.stem}-{model}" if model else path.stem, 64)
    results = {
        "eval_id": eval_id,
        "source": SOURCE,
        "task": "gsm8k",
        "model": model or None,
        "adapter": None,
        "n": len(rows),
        "seed": None,
        "split": None,
        "data": str(path),
        "prompt_style": None,
        "max_new_tokens": None,
        "results": {"gsm8k": metrics},
        "counts": counts,
        "runtime_s": None,
        "created_at": None,
        "hardware": None,
        "versions": None,
        "fields": fields | {"response": response_path},
        "scored_with": [*LM_EVAL_FILTERS, NUMERIC],
    }
    return ImportedEval(eval_id, rows, results)


def read(path: Path, mapping: dict[str, str] | None = None) -> SourceData:
    """A predictions file as evaluations (one per model field); SourceError when it is none."""
    records = load_records(path)
    fields, responses = resolve_fields(path, records[0], mapping)
    warnings: list[str] = []
    evals = []
    for model, response_path in sorted(responses.items()):
        rows = _rows(path, records, fields, response_path, warnings)
        if not rows:
            raise SourceError(
                f"{path}: no record has a question, a gold number and a response text "
                f"({_found_hint(records[0])})"
            )
        evals.append(_evaluation(path, model, fields, response_path, rows))
    return SourceData(
        kind=SOURCE,
        path=path,
        frame=empty_frame(),
        warnings=warnings,
        config={"predictions": {"fields": fields, "responses": responses}},
        model=next(iter(responses)) if len(responses) == 1 and next(iter(responses)) else None,
        evals=evals,
    )


def looks_like_predictions(record: dict[str, Any]) -> bool:
    """Whether the obvious names find a question, a gold answer and a response in a record."""
    fields, responses = detect_fields(record)
    return "question" in fields and "gold" in fields and bool(responses)


__all__ = [
    "REQUIRED",
    "SOURCE",
    "TARGETS",
    "detect_fields",
    "gold_solution",
    "load_records",
    "looks_like_predictions",
    "read",
]
