"""The trainings and evaluations the TUI started, each running through `pipeline` in the
background, with its output lines, progress and outcome for the screens to show.

No Textual here: screens read a Job on a timer, and callbacks run in the job's thread.
Jobs run on plain daemon threads rather than Textual thread workers on purpose: a job
outlives the screen that started it, and Textual's workers run on the event loop's default
executor, whose threads the interpreter joins at exit — quitting the TUI with a training
still running ("leave it running") would then hang until the training ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from gsmreport.core.config import DataConfig, TrainConfig, load_yaml_model
from gsmreport.core.errors import GsmReportError, JobFailed, UsageError, error_line
from gsmreport.core.runs import RunStore, slugify, validate_run_id
from gsmreport.core.settings import Dirs
from gsmreport.tui.job_progress import Progress, advance

JobKind = Literal["train", "evaluate"]
JobStatus = Literal["running", "completed", "failed", "interrupted"]
JobCallback = Callable[["Job"], None]

MAX_LINES = 2000  # the log tail a screen can show; the full log stays in the run folder


class Job:
    """One background job. Its lines and progress are written by the job's thread and read
    by the UI, hence the lock."""

    def __init__(
        self, kind: JobKind, run_id: str, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.kind = kind
        self.run_id = run_id
        self.status: JobStatus = "running"
        self.error: str | None = None
        self.eval_id: str | None = None
        self.detached = False  # the TUI quits and leaves it running
        self.watched = False  # a screen is showing it: no need to announce its end elsewhere
        self._lines: list[str] = []
        self._received = 0
        self._progress: Progress | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._done = threading.Event()

    @property
    def title(self) -> str:
        return f"{'Training' if self.kind == 'train' else 'Evaluating'} {self.run_id}"

    @property
    def lines(self) -> list[str]:
        """The last MAX_LINES output lines (a copy)."""
        with self._lock:
            return list(self._lines)

    def lines_since(self, seen: int) -> tuple[list[str], int]:
        """Lines after the first `seen` ever received, and the new count to pass next time."""
        with self._lock:
            first_kept = self._received - len(self._lines)
            return self._lines[max(seen, first_kept) - first_kept :], self._received

    @property
    def progress(self) -> Progress | None:
        with self._lock:
            return self._progress

    def add_line(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            self._received += 1
            if len(self._lines) > MAX_LINES:
                del self._lines[: len(self._lines) - MAX_LINES]
            self._progress = advance(self._progress, line, self._clock())

    def cancel(self) -> None:
        """Ask the child to stop: it gets SIGINT and records `interrupted`, metrics kept."""
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set() and self.status == "running"

    @property
    def cancel_event(self) -> threading.Event:
        return self._cancel

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (True) or `timeout` passed (False)."""
        return self._done.wait(timeout)

    def finish(self, status: JobStatus, error: str | None = None) -> None:
        self.status, self.error = status, error
        self._done.set()


class JobManager:
    """Starts jobs, keeps them for the screens, stops or abandons them when the TUI quits."""

    def __init__(self, dirs: Dirs) -> None:
        self.dirs = dirs
        self.jobs: list[Job] = []
        self._listeners: list[JobCallback] = []
        self._lock = threading.Lock()

    def add_listener(self, callback: JobCallback) -> None:
        """`callback(job)` runs in the job's thread when any job ends (use thread-safe calls
        such as `app.notify` or `post_message` from it)."""
        self._listeners.append(callback)

    def running(self) -> list[Job]:
        """Jobs still running that the TUI is responsible for (not the detached ones)."""
        return [j for j in self.jobs if j.status == "running" and not j.detached]

    def start_train(
        self,
        config_path: Path,
        *,
        overrides: dict[str, Any] | None = None,
        run_id: str | None = None,
        on_done: JobCallback | None = None,
    ) -> Job:
        """Train `config_path` with `overrides` (dotted keys) as a new run; config errors are
        raised here, before anything starts."""
        from gsmreport import pipeline

        cfg = load_yaml_model(config_path, TrainConfig, overrides)
        store = RunStore(self.dirs.runs)
        rid = run_id or cfg.run_id
        if rid:
            if store.exists(validate_run_id(rid)) or rid in self._live_ids():
                raise UsageError(
                    f"run {rid!r} already exists in {self.dirs.runs}: choose another id"
                )
        else:
            rid = self._unique_id(config_path.stem)

        def body(job: Job) -> None:
            record = pipeline.train(
                self.dirs,
                config_path,
                run_id=job.run_id,
                overrides=overrides,
                on_line=job.add_line,
                cancel=job.cancel_event,
                detached=True,  # "leave running" on quit keeps the job going
            )
            final = record.status if record.status in ("completed", "interrupted") else "failed"
            job.finish(final, record.error)

        return self._start("train", rid, body, on_done)

    def start_resume(self, run_id: str, *, on_done: JobCallback | None = None) -> Job:
        """Continue an interrupted or failed training run from its newest checkpoint, as
        `gsmreport train --resume RUN_ID` does; why it cannot is raised here, before anything
        starts."""
        from gsmreport import pipeline

        pipeline.check_resumable(self.dirs, run_id)
        if run_id in self._live_ids():
            raise UsageError(f"run {run_id!r} is already running in this session")

        def body(job: Job) -> None:
            record = pipeline.resume(
                self.dirs,
                job.run_id,
                on_line=job.add_line,
                cancel=job.cancel_event,
                detached=True,
            )
            final = record.status if record.status in ("completed", "interrupted") else "failed"
            job.finish(final, record.error)

        return self._start("train", run_id, body, on_done)

    def start_evaluate(
        self,
        *,
        run_id: str | None = None,
        model: str | None = None,
        data_path: str | None = None,
        on_done: JobCallback | None = None,
        **settings: Any,
    ) -> Job:
        """Evaluate a completed training run, or a model as a new eval-only run;
        `settings` are EvalConfig fields (n, prompt_style, max_new_tokens, …)."""
        from gsmreport import pipeline

        if (run_id is None) == (model is None):
            raise UsageError("choose a training run or give a base model path, not both")
        rid = run_id or self._unique_id(f"base-{slugify(Path(str(model)).name)}")
        data = DataConfig(path=data_path) if data_path else None

        def body(job: Job) -> None:
            _, job.eval_id = pipeline.evaluate(
                self.dirs,
                run_id=run_id,
                model=model,
                eval_run_id=None if run_id else job.run_id,
                data=data,
                on_line=job.add_line,
                cancel=job.cancel_event,
                detached=True,
                **settings,
            )
            job.finish("completed")

        return self._start("evaluate", rid, body, on_done)

    def cancel_all(self, wait_s: float = 15.0) -> None:
        """Stop every running job and wait (up to `wait_s` in all) until each has recorded
        `interrupted`, so that the process may exit right after."""
        jobs = self.running()
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + wait_s
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))

    def detach_all(self) -> None:
        """Leave every running job running after the TUI exits: the child process writes its
        own log and run.yaml (see launch/process.py), so nothing here needs to stay alive.
        A run left so is ingested by `gsmreport ingest RUN_ID` once it has ended."""
        for job in self.running():
            job.detached = True

    def _start(
        self, kind: JobKind, run_id: str, body: JobCallback, on_done: JobCallback | None
    ) -> Job:
        job = Job(kind, run_id)
        with self._lock:
            self.jobs.append(job)
        callbacks = [*self._listeners, *([on_done] if on_done else [])]
        thread = threading.Thread(
            target=_run, args=(job, body, callbacks), name=f"job-{run_id}", daemon=True
        )
        thread.start()
        return job

    def _live_ids(self) -> set[str]:
        return {j.run_id for j in self.jobs if j.status == "running"}

    def _unique_id(self, base: str) -> str:
        """Like RunStore.unique_id, and also clear of jobs whose folder is not written yet."""
        store, taken = RunStore(self.dirs.runs), self._live_ids()
        base = slugify(base, 56)
        candidate, n = base, 1
        while candidate in taken or store.path(candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate


def _run(job: Job, body: JobCallback, callbacks: list[JobCallback]) -> None:
    try:
        body(job)
    except JobFailed as exc:
        job.finish("interrupted" if exc.exit_code == 130 else "failed", str(exc))
    except Exception as exc:  # a job thread must end with a status, whatever happened
        job.finish("failed", error_line(exc))
    if job.status == "running":
        job.finish("failed", "the job ended without recording an outcome")
    for callback in callbacks:
        try:
            callback(job)
        except Exception as exc:  # a broken listener must not hide the job's outcome
            job.add_line(f"[gsmreport] job callback failed: {type(exc).__name__}: {exc}")


def manager_of(app: object) -> JobManager:
    """The app's JobManager (the screens that start jobs need the real one)."""
    jobs = getattr(app, "jobs", None)
    if not isinstance(jobs, JobManager):
        raise GsmReportError("this app has no job manager: jobs cannot be started here")
    return jobs
