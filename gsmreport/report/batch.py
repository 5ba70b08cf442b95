"""Render many runs: skip the ones whose report is up to date, render the rest in worker
processes. Shared by `gsmreport render --all` and the TUI (via gsmreport.pipeline).

Up to date (freshness.py): the report folder's manifest matches the run's inputs (run.yaml,
metrics.jsonl, metrics.parquet, trainer_state.json, evals/**/{results.json, samples.jsonl,
eval.yaml}: size and mtime), the template files, the gsmreport version, and it wrote every
requested output (report.md, and report.html / report.pdf / README.md when asked for).
The check reads no run.yaml and imports nothing heavy; `force` renders regardless.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

from gsmreport.core.errors import GsmReportError
from gsmreport.report.freshness import FreshnessCheck

Status = Literal["rendered", "up to date", "error"]


@dataclass(frozen=True)
class RenderOptions:
    pdf: bool = False
    html: bool = False
    card: bool = False
    templates: Path | None = None

    def outputs(self) -> tuple[str, ...]:
        """File names a complete report folder holds for these options."""
        wanted = {"report.html": self.html or self.pdf, "report.pdf": self.pdf}
        wanted["README.md"] = self.card
        return ("report.md", *(name for name, on in wanted.items() if on))


@dataclass(frozen=True)
class RenderTask:
    """Everything a worker process needs, as plain picklable values."""

    run_id: str
    run_dir: Path
    out_dir: Path
    options: RenderOptions


@dataclass(frozen=True)
class BatchResult:
    run_id: str
    status: Status
    files: tuple[Path, ...] = ()
    error: str | None = None
    exit_code: int = 0  # of the error, so a single-run render exits as it always did


def render_task(task: RenderTask) -> BatchResult:
    """Render one run; never raises, so one broken run cannot stop the others (worker entry)."""
    from gsmreport.core.runs import read_record
    from gsmreport.report.render import render_run_report

    try:
        record = read_record(task.run_dir / "run.yaml")
        paths = render_run_report(
            task.run_dir,
            record,
            task.out_dir,
            pdf=task.options.pdf,
            html=task.options.html,
            card=task.options.card,
            templates=task.options.templates,
        )
    except GsmReportError as exc:
        return BatchResult(task.run_id, "error", error=str(exc), exit_code=exc.exit_code)
    except Exception as exc:  # a bug or bad data in one run: report it, render the rest
        return BatchResult(task.run_id, "error", error=f"{type(exc).__name__}: {exc}", exit_code=1)
    files = tuple(p for p in (paths.md, paths.html, paths.pdf, paths.card) if p is not None)
    return BatchResult(task.run_id, "rendered", files=files)


def render_all(
    tasks: list[RenderTask],
    *,
    force: bool = False,
    jobs: int = 1,
    on_result: Callable[[BatchResult], None] | None = None,
) -> list[BatchResult]:
    """Render the stale tasks (all with `force`) on up to `jobs` processes.

    Results come back in the order they finish; `on_result` sees each one as it arrives.
    """
    done: list[BatchResult] = []

    def emit(result: BatchResult) -> None:
        done.append(result)
        if on_result is not None:
            on_result(result)

    todo = []
    checks: dict[Path | None, FreshnessCheck] = {}  # templates stamped once per batch
    for task in tasks:
        templates = task.options.templates
        if templates not in checks and not force:
            checks[templates] = FreshnessCheck.for_templates(templates)
        if force or not checks[templates].up_to_date(
            task.run_dir, task.out_dir, task.options.outputs()
        ):
            todo.append(task)
        else:
            emit(BatchResult(task.run_id, "up to date"))
    if jobs <= 1 or len(todo) <= 1:
        # Starting a spawned worker (imports WeasyPrint, Altair) costs more than one render.
        for task in todo:
            emit(render_task(task))
        return done
    # spawn, not fork: polars holds a thread pool, and forking a threaded process can hang.
    pool = ProcessPoolExecutor(min(jobs, len(todo)), mp_context=get_context("spawn"))
    try:
        futures = {pool.submit(render_task, task): task for task in todo}
        for future in as_completed(futures):
            emit(_collect(future, futures[future]))
    except BaseException:
        # Ctrl-C: drop the queued runs; the default shutdown would render them all first.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return done


def _collect(future: Future[BatchResult], task: RenderTask) -> BatchResult:
    try:
        return future.result()
    except Exception as exc:  # the worker died (killed, out of memory): say which run
        reason = str(exc) or type(exc).__name__
        return BatchResult(
            task.run_id, "error", error=f"worker process failed: {reason}", exit_code=1
        )
