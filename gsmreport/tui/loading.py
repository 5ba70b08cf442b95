"""What the screens show, read from disk: no Textual import, no ML import.

Every figure is the run's headline from its one analysis (analysis.run.RunAnalysis, cached
per run in a small JSON file; read through pipeline), exactly what `gsmreport runs` and the report
show; the runs table starts from those caches, so the first paint stays cheap however many
runs there are. `RunWatcher` tells which runs changed since the last look by their files'
mtimes, so a poll re-reads only those.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RUN_ID_RE, RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.pipeline import RunSummary, headline, headline_inputs, peek_headline

Stamps = dict[str, int]  # file name (relative to the run folder) -> mtime in ns

REPORT_FILES = ("report.md", "report.html", "report.pdf")


@dataclass(frozen=True)
class RunDetail:
    record: RunRecord
    summary: RunSummary  # the run's headline: runtime, device-hours and cost included
    # From the full analysis, once the run view has read it (empty before): the detected
    # kind with its evidence, and the run's own task metrics as (title, value) cards.
    kind: str = ""
    task_cards: tuple[tuple[str, str], ...] = ()

    @property
    def runtime_s(self) -> float | None:
        return self.summary.runtime_s


def report_paths(dirs: Dirs, run_id: str) -> list[Path]:
    folder = dirs.reports / run_id
    return [folder / name for name in REPORT_FILES if (folder / name).is_file()]


def load_detail(dirs: Dirs, run_id: str) -> RunDetail:
    store = RunStore(dirs.runs)
    record = store.read(run_id)
    run_dir = store.path(run_id)
    return RunDetail(record=record, summary=headline(run_dir, record))


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
                    stamps = headline_inputs(entry)
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


def listed_runs(runs: Path) -> list[str]:
    """The names under the runs folder that may be runs, without opening or stat-ing them."""
    try:
        names = [e.name for e in os.scandir(runs)]
    except OSError:
        return []
    return sorted(n for n in names if RUN_ID_RE.fullmatch(n) and ".." not in n)


def cached_row(watcher: RunWatcher, run_id: str) -> RunSummary | None:
    """The run's cached headline when still valid (and not a run still training)."""
    cached = peek_headline(watcher.runs / run_id, watcher.stamps(run_id))
    if cached is not None and cached.id == run_id and cached.status != "running":
        return cached
    return None


def first_rows(
    watcher: RunWatcher, budget_s: float | None = None
) -> tuple[list[RunSummary], list[str]]:
    """(rows whose cached summary is still valid, ids still to be read): the first paint.
    `budget_s`: stop reading caches after this long and leave the rest to be read after the
    paint (ten thousand small JSON files take seconds; the first screenful must not wait)."""
    ready: list[RunSummary] = []
    pending: list[str] = []
    deadline = None if budget_s is None else time.monotonic() + budget_s
    for run_id in watcher.poll().changed:
        if deadline is not None and time.monotonic() > deadline:
            pending.append(run_id)
            continue
        cached = peek_headline(watcher.runs / run_id, watcher.stamps(run_id))
        # A running run's cache lacks its live loss (load_summary reads that): read it later.
        if cached is not None and cached.id == run_id and cached.status != "running":
            ready.append(cached)
        else:
            pending.append(run_id)
    return ready, pending


def load_summary(runs: Path, run_id: str) -> RunSummary | None:
    """A run's headline row through the summary cache, or None when run.yaml is unreadable.

    A run still training has only metrics.jsonl (metrics.parquet is built when it ends); the
    analysis reads that log without writing anything, and the cache is keyed on its mtime, so
    the table stays live.
    """
    store = RunStore(runs)
    try:
        record = store.read(run_id)
    except GsmReportError:
        return None
    return headline(store.path(run_id), record)
