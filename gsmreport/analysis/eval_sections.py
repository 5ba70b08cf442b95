"""Per-evaluation report sections: task accuracy, breakdowns, failure categories, outliers.

The breakdowns need the full samples.jsonl rows (gold solution, step counts, responses), which
the flat summary table of analysis.evaluation does not keep, so the rows are read here once.

Outliers use each row's `loss` (teacher-forced mean NLL of the gold solution, written by the
evaluation job). Examples are tagged by topic for GSM8K-style data and by instruction type for
instruction data (DataConfig.source alpaca / messages / custom): what makes an example hard
differs between a word problem and an instruction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gsmreport.analysis.breakdown import (
    Bucket,
    Outliers,
    accuracy_by_steps,
    accuracy_by_topic,
    instruction_tags,
    outliers,
    topic_tags,
)
from gsmreport.analysis.evaluation import (
    EvalSummary,
    FilterScore,
    eval_folders,
    read_sample_dicts,
    summarize_eval,
)
from gsmreport.analysis.failures import FailureCount, failure_table, sample_view

PRIMARY_FILTER = "strict-match"  # the filter our `correct` field and the breakdowns use
INSTRUCTION_SOURCES = ("alpaca", "messages", "custom")  # DataConfig.source of instruction data
TOPIC_TAGS, INSTRUCTION_TAGS = "topic", "instruction type"
MAX_OUTLIER_EXAMPLES = 5
QUESTION_CHARS = 160


def primary_score(scores: Sequence[FilterScore]) -> FilterScore | None:
    """The score an evaluation is headlined by: strict-match when scored, else the first."""
    return next((s for s in scores if s.filter == PRIMARY_FILTER), scores[0] if scores else None)


@dataclass(frozen=True)
class OutlierExample:
    doc_id: int
    loss: float
    question: str  # clipped to QUESTION_CHARS


@dataclass(frozen=True)
class EvalSection:
    summary: EvalSummary
    n_rows: int  # samples.jsonl rows read (0: scored from results.json only)
    failures: tuple[FailureCount, ...]
    by_steps: tuple[Bucket, ...]
    by_topic: tuple[Bucket, ...]
    n_losses: int  # rows carrying a per-example `loss`
    outliers: Outliers | None
    outlier_examples: tuple[OutlierExample, ...]
    tag_kind: str = TOPIC_TAGS  # how the outliers are grouped: TOPIC_TAGS | INSTRUCTION_TAGS
    folder: str = ""  # evals/<folder>/ it was read from (its eval id may differ)
    warnings: tuple[str, ...] = ()  # e.g. samples.jsonl lines that were not JSON, by number
    written_ns: int = 0  # newest mtime of its results.json / samples.jsonl (the "latest" rule)

    @property
    def split(self) -> str | None:
        split = self.summary.meta.get("split")
        return str(split) if split else None

    @property
    def primary(self) -> FilterScore | None:
        return primary_score(self.summary.scores)

    @property
    def interval_points(self) -> float | None:
        """Half the width of the primary filter's 95 % interval, in percentage points."""
        score = self.primary
        return None if score is None else (score.high - score.low) * 50

    @property
    def n_wrong(self) -> int:
        return sum(f.count for f in self.failures)

    @property
    def top_failure(self) -> FailureCount | None:
        """The largest category; on a tie the earlier one in the taxonomy's order."""
        found = [f for f in self.failures if f.count]
        return max(found, key=lambda f: f.count) if found else None


def _loss(row: Mapping[str, Any]) -> float | None:
    value = row.get("loss")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUESTION_CHARS else text[:QUESTION_CHARS].rstrip() + " …"


def data_source(config: Mapping[str, Any]) -> str | None:
    """DataConfig.source of a (train or eval) config dict, when it records one."""
    data = config.get("data")
    source = data.get("source") if isinstance(data, Mapping) else None
    return str(source) if source else None


def _eval_config(eval_dir: Path) -> Mapping[str, Any]:
    """The evaluation's own config from eval.yaml ({} when absent or unreadable)."""
    path = eval_dir / "eval.yaml"
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    config = meta.get("config") if isinstance(meta, Mapping) else None
    return config if isinstance(config, Mapping) else {}


def tag_kind(source: str | None) -> str:
    return INSTRUCTION_TAGS if source in INSTRUCTION_SOURCES else TOPIC_TAGS


def eval_section(eval_dir: Path, run_source: str | None = None) -> EvalSection:
    """One evaluation; `run_source` is the run's data family, used when the evaluation's own
    eval.yaml does not name one (an imported lm-eval folder, say)."""
    rows = read_sample_dicts(eval_dir / "samples.jsonl")
    skipped = rows.warning(f"evals/{eval_dir.name}/samples.jsonl")
    summary = summarize_eval(eval_dir, rows)
    views = [sample_view(row) for row in rows]
    losses = [
        (v.doc_id, loss)
        for v, row in zip(views, rows, strict=True)
        if (loss := _loss(row)) is not None
    ]
    kind = tag_kind(data_source(_eval_config(eval_dir)) or run_source)
    tagger = instruction_tags if kind == INSTRUCTION_TAGS else topic_tags
    questions = {v.doc_id: v.question for v in views}
    found = outliers(losses, {v.doc_id: tagger(v.question) for v in views}) if losses else None
    examples = tuple(
        OutlierExample(doc, loss, _clip(questions.get(doc, "")))
        for doc, loss in (found.examples if found else ())[:MAX_OUTLIER_EXAMPLES]
        if math.isfinite(loss)
    )
    return EvalSection(
        summary=summary,
        n_rows=len(rows),
        failures=failure_table(rows) if rows else (),
        by_steps=accuracy_by_steps(rows) if rows else (),
        by_topic=accuracy_by_topic(rows) if rows else (),
        n_losses=len(losses),
        outliers=found,
        outlier_examples=examples,
        tag_kind=kind,
        folder=eval_dir.name,
        written_ns=_written_ns(eval_dir),
        warnings=(skipped,) if skipped else (),
    )


def _written_ns(eval_dir: Path) -> int:
    stamps = [
        f.stat().st_mtime_ns
        for f in (eval_dir / "results.json", eval_dir / "samples.jsonl")
        if f.is_file()
    ]
    return max(stamps, default=0)


def written_order(folders: Sequence[Path]) -> list[Path]:
    """Evaluation folders, oldest first, by THE rule that picks a run's latest evaluation (the
    one every surface headlines): the last written (newest mtime of its results.json or
    samples.jsonl); on equal times the greater folder name. The last one is the latest."""
    return sorted(folders, key=lambda d: (_written_ns(d), d.name))


def eval_sections(run_dir: Path, run_source: str | None = None) -> list[EvalSection]:
    """Every evaluation of a run, in folder order (the order summarize_evals uses)."""
    return [eval_section(d, run_source) for d in eval_folders(run_dir)]


def outlier_sections(sections: Sequence[EvalSection]) -> list[EvalSection]:
    """The evaluations whose per-example losses the outliers section uses.

    DESIGN.md defines training outliers on the validation set (the run's held-out examples):
    when a validation-split evaluation recorded losses, only those count; otherwise every
    evaluation with losses does, and the report names the split it used.
    """
    with_losses = [s for s in sections if s.n_losses]
    validation = [s for s in with_losses if s.split == "validation"]
    return validation or with_losses
