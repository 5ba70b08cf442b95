"""What the screens show, read from disk: no Textual import, no ML import.

Only run.yaml, metrics.parquet (through `summarize`) and evals/*/results.json are read, and
the runs table starts from each run's cached summary (a small JSON file), so the first paint
stays cheap however many runs there are. `RunWatcher` tells which runs changed since the last
look by their files' mtimes, so a poll re-reads only those.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from gsmreport.analysis.summary import RunSummary, summarize_safe
from gsmreport.analysis.summary_cache import cached_summary, input_stamps, peek_summary
from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RUN_ID_RE, RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.gsm8k.answers import FILTERS

Stamps = dict[str, int]  # file name (relative to the run folder) -> mtime in ns

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
    )


@dataclass(frozen=True)
class Changes:
    """What a poll found: runs new or changed since the last look, and runs gone."""

    changed: tuple[str, ...]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


class RunWatcher:
    """Remembers each run's input mtimes; `poll` names the runs whose files moved since.

    A poll only stats files (about five per run), so polling a thousand runs every two seconds
    costs milliseconds; the summaries of the changed runs are then re-read by the caller.
    Safe to call from a worker thread and the UI thread alike.
    """

    def __init__(self, runs: Path) -> None:
        self.runs = runs
        self._seen: dict[str, Stamps] = {}
        self._lock = threading.Lock()

    def scan(self) -> dict[str, Stamps]:
        if not self.runs.is_dir():
            return {}
        found: dict[str, Stamps] = {}
        for entry in self.runs.iterdir():
            if RUN_ID_RE.fullmatch(entry.name) and ".." not in entry.name:
                try:
                    stamps = input_stamps(entry)
                except OSError:  # deleted between the listing and the stat
                    continue
                if "run.yaml" in stamps:
                    found[entry.name] = stamps
        return found

    def poll(self) -> Changes:
        current = self.scan()
        with self._lock:
            changed = tuple(rid for rid, st in current.items() if self._seen.get(rid) != st)
            removed = tuple(rid for rid in self._seen if rid not in current)
            self._seen = current
        return Changes(changed, removed)

    def stamps(self, run_id: str) -> Stamps | None:
        """The mtimes the last poll saw for `run_id`."""
        with self._lock:
            return self._seen.get(run_id)


def first_rows(watcher: RunWatcher) -> tuple[list[RunSummary], list[str]]:
    """(rows whose cached summary is still valid, ids still to be read): the first paint."""
    ready: list[RunSummary] = []
    pending: list[str] = []
    for run_id in watcher.poll().changed:
        cached = peek_summary(watcher.runs / run_id, watcher.stamps(run_id))
        # A running run's cache lacks its live loss (load_summary reads that): read it later.
        if cached is not None and cached.id == run_id and cached.status != "running":
            ready.append(cached)
        else:
            pending.append(run_id)
    return ready, pending


def load_summary(runs: Path, run_id: str) -> RunSummary | None:
    """A run's headline row through the summary cache, or None when run.yaml is unreadable.

    A run still training has only metrics.jsonl (metrics.parquet is built when it ends), so
    its loss and token accuracy are read from that log, without writing anything, to keep the
    table live.
    """
    store = RunStore(runs)
    try:
        record = store.read(run_id)
    except GsmReportError:
        return None
    run_dir = store.path(run_id)
    summary = cached_summary(run_dir, record)
    return _with_live_metrics(run_dir, summary)


def _with_live_metrics(run_dir: Path, summary: RunSummary) -> RunSummary:
    from gsmreport.ingest.run import needs_ingest, read_sources

    if not (run_dir / "metrics.jsonl").is_file() or not needs_ingest(run_dir):
        return summary
    from gsmreport.analysis.training import summarize_curve, token_accuracy

    try:
        frame = read_sources(run_dir, summary.id).frame
    except (GsmReportError, OSError, ValueError):
        return summary
    loss = summarize_curve(frame, "train", "loss")
    acc = token_accuracy(frame, "train")
    return dataclasses.replace(
        summary,
        final_loss=loss.final.value if loss else summary.final_loss,
        loss_drop_pct=loss.drop_pct if loss else summary.loss_drop_pct,
        token_acc_final=acc.final.value if acc else summary.token_acc_final,
    )
