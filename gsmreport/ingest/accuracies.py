"""A CSV of accuracies (one row per run and scorer, no per-problem rows) attached to its runs.

Sweeps often end in a table like YuZh98/finetune-gsm8k's `runs.csv`:
`run_id,adapter,answer_regex,n_problems,n_correct,accuracy,elapsed_sec`. Each row becomes an
evaluation of the run whose id matches its key column (`--attach-key run_id`): the id itself,
its slug (`run2_r16_seed43` → `run2-r16-seed43`), or the one run whose id ends with that slug
(an imported `…-run2-r16-seed43`).

The accuracy was measured by the sweep's own scorer, not by ours, so it is kept under its own
name, `reported`, never as strict-match/flexible-extract/numeric-match; the scorer column
(`answer_regex` here) says which rule it was, and rows of one run with different scorers are
separate evaluations. A row repeated with the same run and scorer (the file holds re-runs)
keeps the last one, with a warning.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gsmreport.core.fsutil import atomic_write_json
from gsmreport.core.runs import RunStore, slugify
from gsmreport.ingest.files import SourceError, read_text

SOURCE: Final = "accuracies"
REPORTED: Final = "reported"  # the score name of an accuracy measured by another tool
CORRECT_COLUMNS: Final = ("n_correct", "correct", "num_correct")
N_COLUMNS: Final = ("n_problems", "n", "total", "n_total", "num_problems")
ACCURACY_COLUMNS: Final = ("accuracy", "acc", "exact_match", "em", "score")
SCORER_COLUMNS: Final = ("answer_regex", "scorer", "filter", "metric", "extractor")
RUNTIME_COLUMNS: Final = ("elapsed_sec", "runtime_s", "elapsed", "seconds")


@dataclass
class Attached:
    """What an attach did: (run id, eval id) written, and warnings (one line each)."""

    written: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _column(header: list[str], names: tuple[str, ...]) -> str | None:
    lower = {h.lower(): h for h in header}
    return next((lower[n] for n in names if n in lower), None)


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def read_rows(path: Path, key: str) -> tuple[list[dict[str, str]], dict[str, str | None]]:
    """The CSV's rows and which column holds what; SourceError (one line) when unusable."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if path.suffix == ".tsv" else ",")
    header = list(reader.fieldnames or [])
    rows = [dict(r) for r in reader]
    found = ", ".join(header)
    if key not in header:
        raise SourceError(f"{path}: --attach-key {key!r} is not a column (columns: {found})")
    columns = {
        "correct": _column(header, CORRECT_COLUMNS),
        "n": _column(header, N_COLUMNS),
        "accuracy": _column(header, ACCURACY_COLUMNS),
        "scorer": _column(header, SCORER_COLUMNS),
        "runtime": _column(header, RUNTIME_COLUMNS),
    }
    if columns["n"] is None or (columns["correct"] is None and columns["accuracy"] is None):
        raise SourceError(
            f"{path}: needs a problem count ({', '.join(N_COLUMNS)}) and a correct count or "
            f"accuracy ({', '.join(CORRECT_COLUMNS + ACCURACY_COLUMNS)}); columns: {found}"
        )
    if not rows:
        raise SourceError(f"{path}: no data rows: nothing to attach")
    return rows, columns


def match_run(value: str, ids: list[str]) -> str | None:
    """The run a key names: the id, its slug, or the one id ending in `-<slug>`."""
    if value in ids:
        return value
    slug = slugify(value, 64)
    if slug in ids:
        return slug
    ending = [i for i in ids if i.endswith(f"-{slug}")]
    return ending[0] if len(ending) == 1 else None


def _counts(row: dict[str, str], columns: dict[str, str | None]) -> tuple[int, int] | None:
    n = _number(row.get(columns["n"] or ""))
    correct = _number(row.get(columns["correct"] or "")) if columns["correct"] else None
    if correct is None and columns["accuracy"]:
        accuracy = _number(row.get(columns["accuracy"]))
        correct = None if accuracy is None or n is None else round(accuracy * n)
    if n is None or correct is None or n <= 0 or not 0 <= correct <= n:
        return None
    return int(correct), int(n)


def _results(
    eval_id: str,
    path: Path,
    row: dict[str, str],
    columns: dict[str, str | None],
    counts: tuple[int, int],
) -> dict[str, Any]:
    correct, n = counts
    p = correct / n
    scorer = row.get(columns["scorer"] or "") if columns["scorer"] else None
    return {
        "eval_id": eval_id,
        "source": SOURCE,
        "task": "gsm8k",
        "n": n,
        "counts": {REPORTED: {"correct": correct, "n": n}},
        "results": {
            "gsm8k": {
                f"exact_match,{REPORTED}": p,
                f"exact_match_stderr,{REPORTED}": (p * (1 - p) / (n - 1)) ** 0.5 if n > 1 else 0.0,
            }
        },
        "scorer": scorer or None,
        "runtime_s": _number(row.get(columns["runtime"] or "")) if columns["runtime"] else None,
        "reported_row": row,
        "data": str(path),
    }


def attach(runs_root: Path, path: Path, key: str) -> Attached:
    """Write one evaluation per (run, scorer) of the CSV into the runs it names."""
    rows, columns = read_rows(path, key)
    store = RunStore(runs_root)
    ids = store.ids()
    out = Attached()
    chosen: dict[tuple[str, str], tuple[dict[str, str], tuple[int, int]]] = {}
    unmatched: list[str] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        value = (row.get(key) or "").strip()
        run_id = match_run(value, ids) if value else None
        if run_id is None:
            unmatched.append(value or f"(empty, line {number})")
            continue
        counts = _counts(row, columns)
        if counts is None:
            out.warnings.append(f"{path}: line {number}: no usable counts for {value}, skipped")
            continue
        scorer = row.get(columns["scorer"] or "") if columns["scorer"] else ""
        if (run_id, scorer or "") in chosen:
            out.warnings.append(
                f"{path}: line {number}: {value} with the same scorer again; the later row is kept"
            )
        chosen[(run_id, scorer or "")] = (row, counts)
    missing = ""
    if unmatched:
        names = ", ".join(sorted(set(unmatched)))
        missing = (
            f"no run matches {key} {names} (import those runs first, or name them so with --name)"
        )
        out.warnings.append(f"{path}: {missing}; those rows are not attached")
    scorers = sorted({s for _, s in chosen})
    for (run_id, scorer), (row, counts) in sorted(chosen.items()):
        # scorer k of the file (in sorted order) is the same eval id in every run
        suffix = f"-{scorers.index(scorer) + 1}" if len(scorers) > 1 else ""
        eval_id = f"reported-{slugify(path.stem, 40)}{suffix}"
        folder = store.evals_dir(run_id) / eval_id
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / "results.json", _results(eval_id, path, row, columns, counts))
        out.written.append((run_id, eval_id))
    if not out.written:
        raise SourceError(f"{path}: no row could be attached: {missing or 'no usable counts'}")
    return out


__all__ = ["REPORTED", "Attached", "attach", "match_run", "read_rows"]
