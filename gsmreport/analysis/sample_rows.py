"""One evaluation's rows as the sample browser shows them; no Textual import, nothing written.

Each row is judged by `failures.diagnose`, the same function behind the report's failure
table, so the category a person browses is the one the report counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gsmreport.analysis.eval_sections import written_order
from gsmreport.analysis.evaluation import read_sample_dicts
from gsmreport.analysis.failures import CATEGORIES, CORRECT, diagnose
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

    def filters(self) -> list[str]:
        return categories_present(self.rows)

    def matching(self, category: str) -> list[SampleRow]:
        return [row for row in self.rows if matches(row, category)]


def load_set(dirs: Dirs, run_id: str, eval_id: str) -> SampleSet:
    return SampleSet(tuple(load_rows(dirs, run_id, eval_id)))
