"""One evaluation's rows as the sample browser shows them; no Textual import, nothing written.

Each row is judged by `failures.diagnose`, the same function behind the report's failure
table, so the category a person browses is the one the report counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsmreport.analysis.eval_sections import written_order
from gsmreport.analysis.evaluation import read_sample_dicts
from gsmreport.analysis.failures import CATEGORIES, CORRECT, diagnose
from gsmreport.analysis.sample_scores import FilterAnswer, filter_answers
from gsmreport.analysis.sample_view import sample_view
from gsmreport.core.errors import NotFoundError
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs

ALL = "all"


@dataclass(frozen=True)
class SampleRow:
    doc_id: int
    question: str
    solution: str  # the gold solution ("" when the row does not carry it)
    gold: str | None
    response: str
    prediction: str | None
    correct: bool
    category: str  # "correct" or one of failures.CATEGORIES
    evidence: str
    answers: tuple[FilterAnswer, ...] = ()  # strict-match, flexible-extract, numeric


def to_row(raw: dict[str, Any]) -> SampleRow:
    view = sample_view(raw)
    diagnosis = diagnose(view)
    return SampleRow(
        doc_id=view.doc_id,
        question=view.question,
        solution=view.solution,
        gold=view.gold,
        response=view.response,
        prediction=view.prediction,
        correct=view.correct,
        category=diagnosis.category,
        evidence=diagnosis.evidence,
        answers=filter_answers(raw, view.response, view.gold),
    )


def eval_ids(dirs: Dirs, run_id: str) -> list[str]:
    """Evaluations of the run that have rows to browse, in the order of the "latest" rule
    (analysis.eval_sections.written_order): the run's latest evaluation comes last."""
    folder = RunStore(dirs.runs).path(run_id) / "evals"
    if not folder.is_dir():
        return []
    found = [d for d in folder.iterdir() if (d / "samples.jsonl").is_file()]
    return [d.name for d in written_order(found)]


def load_rows(dirs: Dirs, run_id: str, eval_id: str) -> list[SampleRow]:
    path = RunStore(dirs.runs).path(run_id) / "evals" / eval_id / "samples.jsonl"
    if not path.is_file():
        raise NotFoundError(
            f"no samples.jsonl for evaluation {eval_id!r} of run {run_id!r} at {path}: "
            "evaluate the run (`gsmreport eval`) to get rows to browse"
        )
    return sorted((to_row(raw) for raw in read_sample_dicts(path)), key=lambda r: r.doc_id)


def categories_present(rows: Sequence[SampleRow]) -> list[str]:
    """The filter cycle: all, then wrong answers, correct, and each category that occurs."""
    found = {row.category for row in rows}
    return [ALL, "wrong", CORRECT, *(c for c in CATEGORIES if c in found)]


def matches(row: SampleRow, category: str) -> bool:
    if category == ALL:
        return True
    if category == "wrong":
        return not row.correct
    return row.category == category


@dataclass(frozen=True)
class SampleSet:
    """One evaluation's rows with the filters the browser cycles through."""

    rows: tuple[SampleRow, ...]
    model: str | None = None  # the model this evaluation ran (results.json), when recorded

    def filters(self) -> list[str]:
        return categories_present(self.rows)

    def matching(self, category: str) -> list[SampleRow]:
        return [row for row in self.rows if matches(row, category)]


def eval_model(eval_dir: Path) -> str | None:
    """The model an evaluation ran, as its results.json records it (ours and lm-eval's
    imports alike write `model`); None when it is not recorded or unreadable."""
    try:
        data = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) and model else None


def load_set(dirs: Dirs, run_id: str, eval_id: str) -> SampleSet:
    folder = RunStore(dirs.runs).path(run_id) / "evals" / eval_id
    return SampleSet(tuple(load_rows(dirs, run_id, eval_id)), eval_model(folder))
