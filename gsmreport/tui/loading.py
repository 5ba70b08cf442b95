"""What the screens show, read from disk: no Textual import, no ML import, nothing written.

Only run.yaml, metrics.parquet (through `summarize`) and evals/*/results.json are read, so the
first paint stays cheap however many runs there are.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from gsmreport.analysis.summary import RunSummary, summarize_safe
from gsmreport.answers import FILTERS
from gsmreport.runs import RunRecord, RunStore
from gsmreport.settings import Dirs

REPORT_FILES = ("report.md", "report.html", "report.pdf")


@dataclass(frozen=True)
class EvalCounts:
    eval_id: str
    counts: dict[str, tuple[int, int]]  # filter name -> (correct, n)


@dataclass(frozen=True)
class RunDetail:
    record: RunRecord
    summary: RunSummary
    runtime_s: float | None
    evals: list[EvalCounts]
    reports: list[Path]


def load_summaries(dirs: Dirs) -> list[RunSummary]:
    """Every readable run, newest first: the same list `gsmreport runs` prints."""
    from gsmreport.pipeline import summaries

    return summaries(dirs)


def runtime_seconds(record: RunRecord) -> float | None:
    if record.runtime_s is not None:
        return record.runtime_s
    if not (record.started_at and record.finished_at):
        return None
    try:
        start = dt.datetime.fromisoformat(record.started_at)
        end = dt.datetime.fromisoformat(record.finished_at)
    except ValueError:
        return None
    return (end - start).total_seconds()


def read_eval_counts(run_dir: Path) -> list[EvalCounts]:
    """`counts` of every evals/<id>/results.json; unreadable files are skipped, not fatal."""
    out: list[EvalCounts] = []
    for path in sorted((run_dir / "evals").glob("*/results.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            raw = data.get("counts", {}) if isinstance(data, dict) else {}
            counts = {
                name: (int(raw[name]["correct"]), int(raw[name]["n"]))
                for name in FILTERS
                if isinstance(raw.get(name), dict)
            }
        except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        out.append(EvalCounts(eval_id=path.parent.name, counts=counts))
    return out


def report_paths(dirs: Dirs, run_id: str) -> list[Path]:
    folder = dirs.reports / run_id
    return [folder / name for name in REPORT_FILES if (folder / name).is_file()]


def load_detail(dirs: Dirs, run_id: str) -> RunDetail:
    store = RunStore(dirs.runs)
    record = store.read(run_id)
    run_dir = store.path(run_id)
    return RunDetail(
        record=record,
        summary=summarize_safe(run_dir, record),
        runtime_s=runtime_seconds(record),
        evals=read_eval_counts(run_dir),
        reports=report_paths(dirs, run_id),
    )
