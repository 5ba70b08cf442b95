"""Task accuracy and failure categories of one evaluation (evals/<eval_id>/).

Scores are recomputed from samples.jsonl, so every percentage is a count of rows a reader
can open; results.json counts are the fallback when the samples file is missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from gsmreport.analysis.stats import wilson_interval
from gsmreport.core.errors import GsmReportError
from gsmreport.gsm8k.answers import FILTERS
from gsmreport.gsm8k.scoring import rescored_exact_match

CATEGORY_ORDER = ("correct", "wrong answer", "no final answer", "truncated")
MAX_EXAMPLES = 3
RESPONSE_CHARS = 400


@dataclass(frozen=True)
class FilterScore:
    filter: str
    correct: int
    n: int
    em: float
    low: float
    high: float

    @property
    def half_width_points(self) -> float:
        """Larger side of the Wilson interval, in percentage points (it is asymmetric)."""
        return max(self.em - self.low, self.high - self.em) * 100


@dataclass(frozen=True)
class Example:
    doc_id: int
    question: str
    gold: str
    prediction: str | None
    response: str


@dataclass(frozen=True)
class CategoryCount:
    category: str
    count: int
    share: float
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class EvalSummary:
    eval_id: str
    meta: dict[str, Any]
    scores: tuple[FilterScore, ...]
    categories: tuple[CategoryCount, ...]
    n_samples: int
    scored_from: str  # "samples.jsonl" or "results.json"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flatten(row: dict[str, Any]) -> dict[str, Any]:
    doc = _dict(row.get("doc"))
    resps = row.get("resps") or [[""]]
    first = resps[0] if isinstance(resps, list) and resps else ""
    response = first[0] if isinstance(first, list) and first else first
    em = rescored_exact_match(row)  # a row from before numeric-match is scored again
    flat = {
        "doc_id": int(row.get("doc_id", -1)),
        "question": str(doc.get("question", "")),
        "gold": str(row.get("target", "")),
        "prediction": None if row.get("prediction") is None else str(row["prediction"]),
        "response": str(response or ""),
        "category": str(row.get("category") or "uncategorised"),
    }
    for name in FILTERS:
        flat[f"em:{name}"] = None if em.get(name) is None else int(bool(em[name]))
    return flat


class SampleRows(list[dict[str, Any]]):
    """The JSON objects of a samples.jsonl, and the numbers of the lines that were not one,
    so that a reader can count and name what it left out instead of losing rows quietly."""

    def __init__(self, rows: Iterable[dict[str, Any]] = (), skipped_lines: Iterable[int] = ()):
        super().__init__(rows)
        self.skipped_lines: tuple[int, ...] = tuple(skipped_lines)

    @property
    def skipped(self) -> int:
        return len(self.skipped_lines)

    def warning(self, path: Path | str) -> str | None:
        """One line naming the skipped lines (the first few), or None when none was."""
        if not self.skipped_lines:
            return None
        shown = ", ".join(map(str, self.skipped_lines[:5]))
        more = f" and {self.skipped - 5} more" if self.skipped > 5 else ""
        return f"{path}: {self.skipped} line(s) not a JSON object, skipped (line {shown}{more})"


def sample_dicts(lines: Iterable[str]) -> SampleRows:
    """The JSON objects among samples.jsonl lines; unreadable lines (a crash can cut the last)
    are skipped and their numbers kept. The one parser behind the report, the summary and the
    TUI's sample views."""
    rows, skipped = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue  # a blank line (a trailing newline, a hand edit) holds no row to lose
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        else:
            skipped.append(number)
    return SampleRows(rows, skipped)


def _read_samples_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GsmReportError(
            f"{path}: samples file is not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise GsmReportError(f"{path}: cannot read samples ({exc.strerror or exc})") from exc


def read_sample_dicts(path: Path) -> SampleRows:
    """sample_dicts of a samples.jsonl file; empty when there is none."""
    if not path.is_file():
        return SampleRows()
    return sample_dicts(_read_samples_text(path).splitlines())


def load_samples(path: Path) -> pl.DataFrame:
    """One flat row per problem; unreadable lines are skipped (a crash can cut the last)."""
    return samples_frame(sample_dicts(_read_samples_text(path).splitlines()))


def samples_frame(samples: list[dict[str, Any]]) -> pl.DataFrame:
    """The flat table of already-read samples.jsonl rows (one row per problem)."""
    rows = [_flatten(row) for row in samples]
    schema = {
        "doc_id": pl.Int64,
        "question": pl.String,
        "gold": pl.String,
        "prediction": pl.String,
        "response": pl.String,
        "category": pl.String,
    }
    schema |= {f"em:{name}": pl.Int64 for name in FILTERS}
    return pl.DataFrame(rows, schema=schema)


def _score(name: str, correct: int, n: int) -> FilterScore:
    low, high = wilson_interval(correct, n)
    return FilterScore(name, correct, n, correct / n, low, high)


def scores_from_samples(samples: pl.DataFrame) -> tuple[FilterScore, ...]:
    out = []
    for name in FILTERS:
        col = samples.get_column(f"em:{name}").drop_nulls()
        if col.len():
            out.append(_score(name, int(col.sum()), col.len()))
    return tuple(out)


def scores_from_results(results: dict[str, Any]) -> tuple[FilterScore, ...]:
    """Our scores in FILTERS order, then any other named count (an accuracy another tool
    reported, ingest/accuracies.py's `reported`) under its own name."""
    counts = results.get("counts") or {}
    names = [*FILTERS, *sorted(k for k in counts if k not in FILTERS)]
    return tuple(
        _score(name, int(counts[name]["correct"]), int(counts[name]["n"]))
        for name in names
        if isinstance(counts.get(name), dict) and int(counts[name].get("n", 0)) > 0
    )


def _clip(text: str, limit: int = RESPONSE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def categories(samples: pl.DataFrame) -> tuple[CategoryCount, ...]:
    counts = dict(samples.group_by("category").len().iter_rows())
    order = [c for c in CATEGORY_ORDER if c in counts] + sorted(
        c for c in counts if c not in CATEGORY_ORDER
    )
    out = []
    for name in order:
        examples: tuple[Example, ...] = ()
        if name != "correct":
            picked = samples.filter(pl.col("category") == name).sort("doc_id").head(MAX_EXAMPLES)
            examples = tuple(
                Example(
                    r["doc_id"], r["question"], r["gold"], r["prediction"], _clip(r["response"])
                )
                for r in picked.iter_rows(named=True)
            )
        out.append(CategoryCount(name, int(counts[name]), counts[name] / samples.height, examples))
    return tuple(out)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GsmReportError(f"{path}: unreadable results ({exc})") from exc
    if not isinstance(data, dict):
        raise GsmReportError(f"{path}: expected a JSON object")
    return data


def summarize_eval(eval_dir: Path, rows: list[dict[str, Any]] | None = None) -> EvalSummary:
    """An evaluation's scores, failure categories and settings; `rows`: its samples.jsonl
    already read by the caller (read_sample_dicts), so that the file is parsed once."""
    results_path, samples_path = eval_dir / "results.json", eval_dir / "samples.jsonl"
    results = _read_json(results_path) if results_path.is_file() else {}
    samples = None
    if samples_path.is_file():
        samples = load_samples(samples_path) if rows is None else samples_frame(rows)
    scores = scores_from_samples(samples) if samples is not None and samples.height else ()
    meta = {k: v for k, v in results.items() if k not in ("results", "counts")}
    return EvalSummary(
        eval_id=str(results.get("eval_id", eval_dir.name)),
        meta=meta,
        scores=scores or scores_from_results(results),
        categories=categories(samples) if samples is not None and samples.height else (),
        n_samples=samples.height if samples is not None else 0,
        scored_from="samples.jsonl" if scores else "results.json",
    )


def eval_folders(run_dir: Path) -> list[Path]:
    """The run's evaluation folders (with results.json or samples.jsonl), by folder name."""
    evals = run_dir / "evals"
    if not evals.is_dir():
        return []
    return [
        d
        for d in sorted(evals.iterdir())
        if (d / "results.json").is_file() or (d / "samples.jsonl").is_file()
    ]


def summarize_evals(run_dir: Path) -> list[EvalSummary]:
    """Every evaluation of a run, in folder order."""
    return [summarize_eval(d) for d in eval_folders(run_dir)]
