"""Turn logs found on disk into imported runs: one run folder per source, same layout as ours.

Ingesting the same source again updates the run it made before (matched on the resolved
source path), and nothing else. A run folder is assembled in a hidden temp folder beside the
runs and renamed into place, so a failure never leaves half a run behind and an update
replaces the old folder only once the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from gsmreport.core.errors import GsmReportError, UsageError
from gsmreport.core.fsutil import dump_yaml
from gsmreport.core.polars_threads import one_polars_thread
from gsmreport.core.runs import Hardware, RunRecord, RunStore, SourceInfo, slugify, validate_run_id
from gsmreport.ingest.detect import Found, default_name, discover, mlflow_sources, source_keys
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.run import PARQUET, parquet_bytes
from gsmreport.ingest.source import ImportedEval, SourceData
from gsmreport.ingest.workers import forked_workers, start_worker_server, worker_context

CONSOLE_LOG = Path("logs") / "console.log"
# Below this many sources, starting worker processes costs more than it saves.
_PARALLEL_FROM = 8
# Nor past it, when the work left takes less than a worker takes to start (the fork server's
# imports, then a fork): ~0.5 s here. 20 runs of 2,000 entries took 0.98 s on two
# processes and 0.72 s on one; 100 took 1.35 s and 1.45 s.
_WORKER_START_S = 0.5
# Given folders with this many entries in all start the workers before discovery (forked
# from here, else the fork server), to have them ready sooner (1,000 runs: 6.17 -> 5.94 s
# with the server); with fewer, the runs would likely be done here before a worker is ready,
# and a server starting beside this process only slows it (20 runs: 0.77 -> 0.83 s).
_EARLY_START_FROM = 64


@dataclass(frozen=True)
class Outcome:
    """What happened to one source: a run id on success, the one-line reason on failure."""

    path: Path
    kind: str | None = None
    run_id: str | None = None
    updated: bool = False
    rows: int = 0
    evals: int = 0
    status: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Job:
    """One source with the run it will become; plain data so it can cross to a worker."""

    runs_root: Path
    found: Found
    run_id: str
    given_path: Path
    source_key: str  # found.key, worked out once by plan
    mapping: dict[str, str] | None = None
    attach_to_existing: bool = False  # lm-eval results added to a run that was not imported


@dataclass
class _Index:
    by_source: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def read_source(found: Found, mapping: dict[str, str] | None = None) -> SourceData:
    """Dispatch to the reader for `found.kind` (imported lazily: tensorboard, wandb are slow)."""
    path = found.path
    if found.mlflow is not None:
        from gsmreport.ingest import mlflow_run

        return mlflow_run.read(found.mlflow)
    if found.kind == "trainer_state":
        from gsmreport.ingest import trainer_state

        return trainer_state.read(path)
    if found.kind == "wandb":
        from gsmreport.ingest import wandb_run

        return wandb_run.read(path)
    if found.kind == "tensorboard":
        from gsmreport.ingest import tensorboard

        return (
            tensorboard.read_files(found.files, origin=path)
            if found.files
            else tensorboard.read(path)
        )
    if found.kind == "llamafactory":
        from gsmreport.ingest import llamafactory

        return llamafactory.read(path)
    if found.kind == "lm_eval":
        from gsmreport.ingest import lm_eval

        return lm_eval.read(path)
    from gsmreport.ingest import predictions, tabular

    if found.kind == "predictions" or set(mapping or {}) & set(predictions.REQUIRED):
        return predictions.read(path, mapping)
    return tabular.read(path, mapping)


def _index(store: RunStore) -> _Index:
    index = _Index()
    for record in store.iter_records():
        index.kinds[record.id] = record.kind
        if record.kind == "imported" and record.source is not None:
            index.by_source[record.source.path] = record.id
    return index


def plan(
    store: RunStore,
    found: Sequence[tuple[Path, Found]],
    *,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
) -> list[Job]:
    """Give each source its run id: the run it made before, `--name`, or a fresh slug."""
    if name is not None and len(found) > 1:
        raise UsageError(
            f"--name {name!r} names one run, but {len(found)} sources were found; "
            "drop --name (each source gets its own run) or pass one path"
        )
    index = _index(store)
    taken = set(index.kinds)
    jobs: list[Job] = []
    keys = source_keys([item for _, item in found])
    for (given, item), key in zip(found, keys, strict=True):
        attach = False
        if name is not None:
            run_id = validate_run_id(name)
            owner = index.by_source.get(key)
            if run_id in index.kinds and owner != run_id:
                attach = item.kind == "lm_eval" and index.kinds[run_id] != "imported"
                if not attach:
                    raise UsageError(
                        f"run {run_id!r} already exists and was not imported from {item.path}: "
                        "choose another --name"
                    )
        elif key in index.by_source:
            run_id = index.by_source[key]
        else:
            run_id = _fresh_id(slugify(default_name(item), 56), taken)
        taken.add(run_id)
        jobs.append(Job(store.root, item, run_id, given, key, mapping, attach))
    return jobs


def _fresh_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _record(job: Job, data: SourceData, previous: RunRecord | None) -> RunRecord:
    hardware = None
    if data.hardware:
        try:
            hardware = Hardware.model_validate(data.hardware)
        except ValidationError:
            data.warnings.append(f"{data.path}: hardware description not understood; left out")
    kept: dict[str, Any] = {}
    if previous is not None:
        # A user's own notes in run.yaml survive a re-import, and so does its creation time.
        kept = {k: v for k, v in previous.model_dump().items() if k not in RunRecord.model_fields}
        kept["created_at"] = previous.created_at
    return RunRecord(
        id=job.run_id,
        kind="imported",
        status=data.status,
        model=data.model,
        method=data.method,
        hardware=hardware,
        runtime_s=data.runtime_s,
        started_at=data.started_at,
        finished_at=data.finished_at,
        source=SourceInfo(path=job.source_key, kind=data.kind, read=str(data.path)),
        warnings=list(data.warnings),
        config=data.config,
        **kept,
    )


def _write(path: Path, data: bytes) -> None:
    """A plain write: everything goes into a private temp folder that becomes visible only by
    the final rename, so per-file atomic writes (and their fsyncs) would buy nothing; the
    source stays on disk, so a power cut costs at most a re-import."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _write_eval(evals_dir: Path, item: ImportedEval) -> None:
    validate_run_id(item.eval_id)  # eval ids are slugs too: they become folder names
    folder = evals_dir / item.eval_id
    if item.samples:
        lines = "".join(json.dumps(row) + "\n" for row in item.samples)
        _write(folder / "samples.jsonl", lines.encode())
    _write(folder / "results.json", (json.dumps(item.results, indent=2) + "\n").encode())


def _swap_in(tmp: Path, final: Path) -> None:
    """Replace `final` by `tmp` with two renames; the old folder goes only once both worked."""
    if not final.exists():
        tmp.rename(final)
        return
    old = final.with_name(f".replaced-{final.name}-{uuid.uuid4().hex[:8]}")
    final.rename(old)
    try:
        tmp.rename(final)
    except OSError:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _attach(job: Job, data: SourceData) -> None:
    evals_dir = job.runs_root / job.run_id / "evals"
    for item in data.evals:
        tmp = evals_dir / f".import-{uuid.uuid4().hex[:8]}"
        try:
            _write_eval(tmp, item)
            _swap_in(tmp / item.eval_id, evals_dir / item.eval_id)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_run(job: Job, data: SourceData) -> bool:
    store = RunStore(job.runs_root)
    final = store.path(job.run_id)
    previous = store.read(job.run_id) if store.exists(job.run_id) else None
    record = _record(job, data, previous)
    tmp = job.runs_root / f".import-{job.run_id}-{uuid.uuid4().hex[:8]}"
    # The run id replaces the reader's placeholder column in place, on a shallow copy: a
    # with_columns query costs ~4x as much, for a small run a share worth saving.
    frame = data.frame.clone()
    frame.replace_column(
        frame.get_column_index("run_id"),
        pl.Series("run_id", [job.run_id], dtype=pl.String).new_from_index(0, frame.height),
    )
    from gsmreport.analysis.summary_cache import cache_summary_of

    try:
        try:  # once: the two files below go straight in, without a mkdir each
            tmp.mkdir()
        except FileNotFoundError:  # the runs folder is new
            job.runs_root.mkdir(parents=True, exist_ok=True)
            tmp.mkdir()
        (tmp / "run.yaml").write_bytes(dump_yaml(record.model_dump(mode="json")).encode())
        (tmp / PARQUET).write_bytes(parquet_bytes(frame))
        if data.console is not None:
            _write(tmp / CONSOLE_LOG, data.console.encode("utf-8", "replace"))
        for item in data.evals:
            _write_eval(tmp / "evals", item)
        # Summarise now, on this worker, from the table in hand (reading metrics.parquet back
        # would cost as much again), so that listing many imported runs reads only small
        # caches. Before the rename: the files' mtimes, the cache's key, survive it.
        cache_summary_of(tmp, record, frame, data.layout)
        _swap_in(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return previous is not None


def run_job(job: Job) -> Outcome:
    """Read one source and write its run; every failure becomes the Outcome's one line."""
    try:
        data = read_source(job.found, job.mapping)
        if job.attach_to_existing:
            if not data.evals:
                raise SourceError(f"{job.found.path}: no evaluation in it to add to {job.run_id}")
            _attach(job, data)
            updated = True
        else:
            updated = _write_run(job, data)
    except GsmReportError as err:
        return Outcome(job.given_path, job.found.kind, error=str(err))
    except OSError as err:  # the runs folder itself (disk full, read-only): not the source's fault
        return Outcome(job.given_path, job.found.kind, error=f"writing run {job.run_id}: {err}")
    except Exception as err:  # a reader's bug must not cost the other sources
        problem = f"unexpected {type(err).__name__}: {(str(err).splitlines() or [''])[0][:160]}"
        return Outcome(job.given_path, job.found.kind, error=f"{job.found.path}: {problem}")
    return Outcome(
        job.found.path,
        data.kind,
        job.run_id,
        updated,
        data.frame.height,
        len(data.evals),
        data.status,
        tuple(data.warnings),
    )


def _run_chunk(chunk: list[Job]) -> list[Outcome]:
    return [run_job(job) for job in chunk]


def _looks_large(paths: list[Path]) -> bool:
    """Whether the folders among `paths` hold _EARLY_START_FROM entries or more (counting
    stops there): enough runs, probably, to need the workers."""
    seen = 0
    for path in paths:
        with contextlib.suppress(OSError), os.scandir(path) as entries:
            seen += sum(1 for _ in islice(entries, _EARLY_START_FROM - seen))
        if seen >= _EARLY_START_FROM:
            return True
    return False


def _early_workers(paths: list[Path], jobs: int) -> ProcessPoolExecutor | None:
    """For an import that looks large: its workers forked now, or the fork server started
    (then None, and the workers come later)."""
    if jobs < 2 or not _looks_large(paths):
        return None
    pool = forked_workers(jobs - 1)
    if pool is None:
        start_worker_server()  # its imports overlap discovery and planning
    return pool


def _parallel(
    planned: list[Job], jobs: int, pool: ProcessPoolExecutor | None = None
) -> Iterator[Outcome]:
    """On the workers already forked, when there are; else the first two jobs here, the
    second timed (the first pays for this process's lazy imports: ~0.1 s against ~0.01 s),
    and the rest on `jobs` processes when at that pace they would outlast a worker's start,
    else here too."""
    if pool is not None:
        yield from _in_workers(planned, jobs, pool)
        return
    yield run_job(planned[0])
    start = time.perf_counter()
    second = run_job(planned[1])
    pace = time.perf_counter() - start
    yield second
    rest = planned[2:]
    if pace * len(rest) < _WORKER_START_S:
        yield from map(run_job, rest)
    else:
        yield from _in_workers(rest, jobs)


class _Chunks:
    """The jobs, handed out in chunks that shrink as they run out (guided scheduling): large
    while much is left (fewer hand-offs between processes), single jobs at the end. With
    chunks of one size, a worker could still hold two queued chunks (0.6 s of 2,000-entry
    runs) when this process took the last one, and this process then waited for them."""

    def __init__(self, jobs: list[Job], processes: int) -> None:
        self._left = deque(jobs)
        self._share = processes * 8

    def __bool__(self) -> bool:
        return bool(self._left)

    @property
    def left(self) -> int:
        return len(self._left)

    def take(self) -> list[Job]:
        size = min(len(self._left), max(1, len(self._left) // self._share))
        return [self._left.popleft() for _ in range(size)]


def _in_workers(
    planned: list[Job], jobs: int, started: ProcessPoolExecutor | None = None
) -> Iterator[Outcome]:
    """Run jobs on `jobs` processes, one polars thread each: each run's table is small, so
    per-frame threading only adds contention, while one process per core scales. The
    `jobs - 1` workers are `started`'s, else from the fork server.

    This process is one of them: it has imported the readers already, and works through
    chunks while the fork server starts the other `jobs - 1` (~0.5 s of imports, begun
    before discovery for a large import), which take chunks as they come free (see _Chunks
    for their sizes).

    The first submissions go from a thread: submitting starts the workers, and that blocks
    until the fork server has imported the readers (~0.5 s), time this process spends on
    its own chunks instead. It touches only the chunks set aside for it. (Workers forked
    already, `started`, take the submissions at once: the thread ends straight away.)
    """
    chunks = _Chunks(planned, jobs)
    with (
        one_polars_thread(),  # inherited by the workers as they are started
        started or ProcessPoolExecutor(jobs - 1, mp_context=worker_context()) as pool,
    ):
        pending: set[Future[list[Outcome]]] = set()
        queued = 2 * (jobs - 1)  # two chunks queued per worker keeps them busy

        def feed() -> None:
            while chunks and len(pending) < queued:
                pending.add(pool.submit(_run_chunk, chunks.take()))

        first = [chunks.take() for _ in range(queued) if chunks.left > 1]
        submitted: list[Future[list[Outcome]]] = []

        def start() -> None:
            with contextlib.suppress(Exception):  # a pool that cannot start: see below
                submitted.extend(pool.submit(_run_chunk, chunk) for chunk in first)

        starter = threading.Thread(target=start, name="gsmreport-start-workers")
        starter.start()
        while chunks and starter.is_alive():
            yield from _run_chunk(chunks.take())
        starter.join()
        if len(submitted) < len(first):  # the pool could not start: the chunks run here
            for chunk in first[len(submitted) :]:
                yield from _run_chunk(chunk)
        pending.update(submitted)
        feed()
        while chunks:
            yield from _run_chunk(chunks.take())
            for future in [f for f in pending if f.done()]:
                pending.discard(future)
                yield from future.result()
            feed()
        for future in as_completed(pending):
            yield from future.result()


def import_paths(
    runs_root: Path,
    paths: Iterable[Path],
    *,
    name: str | None = None,
    recursive: bool = False,
    mapping: dict[str, str] | None = None,
    jobs: int = 1,
    on_outcome: Callable[[Outcome], None] | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
) -> list[Outcome]:
    """Discover, plan and import every source under `paths`, and every MLflow run at
    `tracking_uri` (of `experiment`, which also filters mlruns/ folders among `paths`);
    never raises for one bad source."""
    paths = list(paths)
    outcomes: list[Outcome] = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    with contextlib.ExitStack() as stack:
        pool = _early_workers(paths, jobs)
        if pool is not None:
            stack.enter_context(pool)  # shut down however the import ends, used or not
        found: list[tuple[Path, Found]] = []
        for given in paths:
            mapped = mapping is not None
            for item in discover(given, recursive=recursive, mapped=mapped, experiment=experiment):
                if isinstance(item, SourceError):
                    report(Outcome(given, error=str(item)))
                else:
                    found.append((given, item))
        if tracking_uri is not None:
            from gsmreport.ingest.mlflow_run import store_path

            where = store_path(tracking_uri)
            try:
                found.extend((where, f) for f in mlflow_sources(tracking_uri, where, experiment))
            except SourceError as err:
                report(Outcome(where, error=str(err)))
        planned = plan(RunStore(runs_root), found, name=name, mapping=mapping)
        if jobs > 1 and len(planned) >= _PARALLEL_FROM:
            for outcome in _parallel(planned, jobs, pool):
                report(outcome)
        else:
            for job in planned:
                report(run_job(job))
    return outcomes
