"""The one core that the CLI and the TUI both call: train, evaluate, ingest, summarise, render.

Nothing here imports torch: training and evaluation run in child processes (gsmreport.jobs),
so `gsmreport --help` and the TUI's first paint stay fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Light (a dataclass module): re-exported so that tui/ reads every type through this module
# and never imports analysis/, report/ or ingest/ itself (tests/test_architecture.py).
from gsmreport.analysis.summary import RunSummary as RunSummary
from gsmreport.core.config import (
    DataConfig,
    EvalConfig,
    LaunchSettings,
    TrainConfig,
    load_yaml_model,
    scale_conflict,
)
from gsmreport.core.errors import (
    ConfigError,
    GsmReportError,
    JobFailed,
    NotFoundError,
    UsageError,
)
from gsmreport.core.fsutil import atomic_write_text, atomic_write_yaml
from gsmreport.core.runs import (
    RUN_ID_RE,
    RunProblem,
    RunRecord,
    RunStore,
    slugify,
    validate_run_id,
)
from gsmreport.core.settings import Dirs
from gsmreport.launch.accelerate import resolve_launch
from gsmreport.launch.command import eval_command, train_command
from gsmreport.launch.process import LineSink, run_job
from gsmreport.launch.slurm import SCRIPT_NAME as SLURM_SCRIPT
from gsmreport.launch.slurm import SlurmOptions, sbatch_script

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gsmreport.analysis.evaluation import FilterScore as FilterScore
    from gsmreport.analysis.failures import FailureCount as FailureCount
    from gsmreport.analysis.run import RunAnalysis as RunAnalysis
    from gsmreport.analysis.sample_rows import SampleRow as SampleRow
    from gsmreport.analysis.sample_rows import SampleSet as SampleSet
    from gsmreport.analysis.series import RunSeries as RunSeries
    from gsmreport.ingest.importer import Outcome as Outcome
    from gsmreport.report.compare_tables import TableRow as TableRow
    from gsmreport.report.compare_view import Comparison as Comparison
    from gsmreport.report.render import ReportPaths


def resolve_model(model: str) -> str:
    """A local model folder as an absolute path, a Hub id unchanged; refuse a missing path."""
    local = Path(model).expanduser()
    if local.exists():
        return str(local.resolve())
    looks_local = model.startswith(("/", ".", "~")) or model.count("/") != 1 or "\\" in model
    if looks_local:
        raise NotFoundError(f"model path not found: {model} (give a local folder or a Hub id)")
    return model


def _resolve_data(data: DataConfig) -> DataConfig:
    from gsmreport.datasets.formats import resolve_data  # a folder or one file, every family

    return resolve_data(data)


def _data_label(data: DataConfig) -> str:
    from gsmreport.datasets.formats import data_label

    return data_label(data)


def _finish(store: RunStore, run_id: str, code: int) -> RunRecord:
    """The child records its own outcome; if it died before that, we do: killed by a signal
    (SIGKILL, the OOM killer) is an interruption that --resume continues, anything else a
    failure."""
    record = store.read(run_id, check_alive=False)
    if record.status not in ("pending", "running"):
        return record
    if code < 0:
        return store.set_status(
            run_id, "interrupted", error=f"process vanished (killed by signal {-code})"
        )
    return store.set_status(
        run_id, "failed", error=f"job process exited with code {code} before finishing"
    )


@dataclass(frozen=True)
class TrainPlan:
    """A training run worked out from its config, before anything is written (`--dry-run`)."""

    record: RunRecord
    """The run as it will be created; `record.command` is what runs (or `sbatch` for SLURM)."""
    run_dir: Path
    sbatch: str | None = None
    """The SLURM batch script's text when the plan is for a cluster."""


def plan_train(
    dirs: Dirs,
    config_path: Path,
    *,
    run_id: str | None = None,
    overrides: dict[str, Any] | None = None,
    slurm: SlurmOptions | None = None,
) -> TrainPlan:
    """Load, resolve and check a run config; touches no run folder (`train --dry-run`)."""
    cfg = load_yaml_model(config_path, TrainConfig, overrides)
    cfg = cfg.model_copy(
        update={
            "model": resolve_model(cfg.model),
            "data": _resolve_data(cfg.data),
            "launch": resolve_launch(cfg.launch, slurm=slurm is not None),
        }
    )
    store = RunStore(dirs.runs)
    rid = run_id or cfg.run_id
    rid = validate_run_id(rid) if rid else store.unique_id(config_path.stem)
    record = RunRecord(
        id=rid,
        kind="train",
        model=cfg.model,
        method=cfg.method,
        data=_data_label(cfg.data),
        seed=cfg.training.seed,
        config=cfg.model_dump(mode="json"),
        price_per_device_hour=cfg.price_per_device_hour,
        price_source="config" if cfg.price_per_device_hour is not None else None,
    )
    run_dir = store.path(rid).resolve()
    if slurm is None:
        record.command = train_command(run_dir, cfg.launch)
        return TrainPlan(record, run_dir)
    record.command = ["sbatch", str(run_dir / SLURM_SCRIPT)]
    return TrainPlan(record, run_dir, sbatch_script(run_dir, cfg.launch, slurm))


def submit_slurm(dirs: Dirs, plan: TrainPlan) -> Path:
    """Create the run (status pending) with its batch script; the user then runs `sbatch`."""
    if plan.sbatch is None:
        raise UsageError("this training plan is not for SLURM (plan it with slurm options)")
    RunStore(dirs.runs).create(plan.record)
    script = plan.run_dir / SLURM_SCRIPT
    atomic_write_text(script, plan.sbatch)
    return script


def train(
    dirs: Dirs,
    config_path: Path,
    *,
    run_id: str | None = None,
    overrides: dict[str, Any] | None = None,
    on_line: LineSink | None = None,
    cancel: threading.Event | None = None,
    detached: bool = False,
) -> RunRecord:
    """Create a run from a YAML config, train it in a child process, ingest its metrics.
    `detached`: the job may outlive this process (launch.process.run_job)."""
    plan = plan_train(dirs, config_path, run_id=run_id, overrides=overrides)
    store, rid, run_dir, record = RunStore(dirs.runs), plan.record.id, plan.run_dir, plan.record
    store.create(record)
    log = run_dir / "logs" / "stdout.log"
    code = run_job(record.command, log, on_line=on_line, cancel=cancel, detached=detached)
    return _after_training(dirs, store, rid, code, fresh=True)


def resume(
    dirs: Dirs,
    run_id: str,
    *,
    on_line: LineSink | None = None,
    cancel: threading.Event | None = None,
    detached: bool = False,
) -> RunRecord:
    """Continue an interrupted or failed training run in its own folder from its newest
    checkpoint; the job cuts metrics.jsonl back to that step so no step appears twice."""
    store, record = RunStore(dirs.runs), check_resumable(dirs, run_id)
    run_dir = store.path(run_id)
    # The command is rebuilt for the folder in use, never taken from run.yaml: a copied or
    # moved run must train itself, not the folder it was copied from.
    launch = TrainConfig.model_validate(record.config).launch
    command = [*train_command(run_dir.resolve(), launch), "--resume"]
    code = run_job(
        command, run_dir / "logs" / "stdout.log", on_line=on_line, cancel=cancel, detached=detached
    )
    return _after_training(dirs, store, run_id, code)


def check_resumable(dirs: Dirs, run_id: str) -> RunRecord:
    """The run's record when `resume` can continue it; else UsageError saying why (the TUI
    asks before it starts a job, the CLI on `train --resume`)."""
    from gsmreport.core.checkpoints import newest_checkpoint

    store = RunStore(dirs.runs)
    record = store.read(run_id)
    run_dir = store.path(run_id)
    if record.kind != "train" or record.status not in ("interrupted", "failed"):
        raise UsageError(
            f"run {run_id!r} is {record.kind}/{record.status}: only an interrupted or failed "
            "training run can be resumed"
        )
    if newest_checkpoint(run_dir) is None:
        raise UsageError(
            f"run {run_id!r} has no checkpoint in {run_dir / 'checkpoints'} to resume from "
            "(one is written every training.save_steps); train it again under a new --run-id"
        )
    if record.command[:1] == ["sbatch"]:
        raise UsageError(
            f"run {run_id!r} was written for SLURM (sbatch); --resume continues local runs only"
        )
    return record


def _after_training(
    dirs: Dirs, store: RunStore, run_id: str, code: int, *, fresh: bool = False
) -> RunRecord:
    record = _finish(store, run_id, code)
    if code == 2 and record.status == "failed":
        # The job refused a setting this machine cannot run (e.g. qlora without CUDA) before
        # training anything. Exit 2 promises "bad input, nothing written": a run this call
        # created goes again, so the same --run-id works once the setting is fixed.
        if fresh:
            shutil.rmtree(store.path(run_id), ignore_errors=True)
        raise ConfigError(record.error or f"run {run_id!r}: a setting this machine cannot run")
    if (store.path(run_id) / "metrics.jsonl").is_file():
        ingest(dirs, run_id)  # keep the metrics of failed and interrupted runs readable too
    return record


def evaluate(
    dirs: Dirs,
    *,
    run_id: str | None = None,
    model: str | None = None,
    eval_run_id: str | None = None,
    data: DataConfig | None = None,
    on_line: LineSink | None = None,
    cancel: threading.Event | None = None,
    detached: bool = False,
    **settings: Any,
) -> tuple[str, str]:
    """Evaluate a trained run (`run_id`) or a model (`model`, as a new eval-only run).

    Returns (run id, eval id); the results are in runs/<run>/evals/<eval>/.
    """
    store = RunStore(dirs.runs)
    if (run_id is None) == (model is None):
        raise UsageError("give exactly one of --run RUN_ID or --model PATH_OR_HUB_ID")
    conflict = scale_conflict(settings.get("num_processes", 1), settings.get("device_map"))
    if conflict:
        raise UsageError(conflict)
    if run_id is not None:
        record = store.read(run_id)
        if record.kind != "train" or record.status != "completed":
            raise UsageError(
                f"run {run_id!r} is {record.kind}/{record.status}: only completed training "
                "runs have a model to evaluate"
            )
        tcfg = TrainConfig.model_validate(record.config)
        saved = str((store.path(run_id) / "model").resolve())
        base, adapter = (tcfg.model, saved) if tcfg.method == "lora" else (saved, None)
        # --data replaces only the folder: the run's seed, fraction and sample size still
        # define its held-out problems (split validation).
        data = tcfg.data.model_copy(update={"path": data.path}) if data else tcfg.data
        cfg = EvalConfig(
            model=base, adapter=adapter, data=data, prompt_template=tcfg.prompt_template, **settings
        )
    else:
        assert model is not None
        resolved = resolve_model(model)
        cfg = EvalConfig(model=resolved, data=data or DataConfig(), **settings)
        rid = eval_run_id or store.unique_id(f"base-{slugify(Path(model).name)}")
        record = RunRecord(
            id=validate_run_id(rid),
            kind="eval",
            model=resolved,
            method="none",
            data=_data_label(cfg.data),
            seed=cfg.seed,
            config=cfg.model_dump(mode="json"),
        )
    # Every input is checked before a run folder is written (exit 2: nothing written).
    cfg = cfg.model_copy(update={"data": _resolve_data(cfg.data)})
    launch = resolve_launch(LaunchSettings(num_processes=cfg.num_processes))
    if record.kind == "eval":
        store.create(record)
    run_dir = store.path(record.id)
    eval_id = _new_eval_id(run_dir, cfg)
    eval_dir = run_dir / "evals" / eval_id
    command = eval_command(eval_dir.resolve(), launch)
    atomic_write_yaml(
        eval_dir / "eval.yaml", {"config": cfg.model_dump(mode="json"), "command": command}
    )
    log = run_dir / "logs" / f"eval-{eval_id}.log"
    code = run_job(command, log, on_line=on_line, cancel=cancel, detached=detached)
    if record.kind == "eval":
        _finish(store, record.id, code)
    if not (eval_dir / "results.json").is_file():
        raise JobFailed(
            f"evaluation of {record.id!r} did not complete (exit code {code}); "
            f"see {run_dir / 'logs' / f'eval-{eval_id}.log'}",
            exit_code=130 if code == 130 else 1,
        )
    return record.id, eval_id


def _new_eval_id(run_dir: Path, cfg: EvalConfig) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    size = "all" if cfg.n is None else f"n{cfg.n}"
    base = f"{cfg.split}-{size}-{stamp}"
    candidate, k = base, 1
    while (run_dir / "evals" / candidate).exists():
        k += 1
        candidate = f"{base}-{k}"
    return candidate


def import_lm_eval(dirs: Dirs, paths: list[Path], *, run_id: str | None = None) -> list[Outcome]:
    """`eval --from-lm-eval`: lm-eval samples/results files become evaluations, rescored by
    our filters (the importer's lm-eval reader); each file its own run, or all added to
    `run_id`. Anything that is not lm-eval output is refused before a run is written."""
    from gsmreport.ingest.detect import discover
    from gsmreport.ingest.files import SourceError
    from gsmreport.ingest.importer import import_paths

    if run_id is not None:
        RunStore(dirs.runs).read(run_id)  # NotFoundError names the run
    for path in paths:
        for item in discover(path):
            if isinstance(item, SourceError):
                raise NotFoundError(str(item)) if not path.exists() else UsageError(str(item))
            if item.kind != "lm_eval":
                raise UsageError(
                    f"{item.path}: is {item.kind} output, not lm-eval's; import it with "
                    "`gsmreport ingest`"
                )
    # One source per call: the importer gives a --name to one source only.
    groups = [[p] for p in paths] if run_id is not None else [paths]
    return [o for group in groups for o in import_paths(dirs.runs, group, name=run_id)]


def ingest(dirs: Dirs, run_id: str) -> Path:
    """Rebuild runs/<id>/metrics.parquet from the run's own logs."""
    from gsmreport.ingest import ingest_run

    store = RunStore(dirs.runs)
    store.read(run_id)
    ingest_run(store.path(run_id), run_id)
    return store.path(run_id) / "metrics.parquet"


@dataclass(frozen=True)
class IngestPlan:
    """What `gsmreport ingest ARGS` will do with each argument, worked out before any work."""

    run_ids: list[str]  # ids of existing runs (not paths): their own logs are read again
    missing: list[str]  # neither a file or folder nor a run
    sources: list[Path]  # files and folders to import


def plan_ingest(dirs: Dirs, args: list[str]) -> IngestPlan:
    """A path that exists is a source; else an existing run's id means "re-read its logs"."""
    store = RunStore(dirs.runs)
    own = [a for a in args if not Path(a).exists() and RUN_ID_RE.fullmatch(a) and store.exists(a)]
    rest = [a for a in args if a not in own]
    return IngestPlan(
        run_ids=own,
        missing=[a for a in rest if not Path(a).exists()],
        sources=[Path(a) for a in rest if Path(a).exists()],
    )


def import_logs(
    dirs: Dirs,
    paths: list[Path],
    *,
    name: str | None = None,
    recursive: bool = False,
    mapping: dict[str, str] | None = None,
    jobs: int = 1,
    on_outcome: Callable[[Outcome], None] | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
) -> list[Outcome]:
    """Import other tools' logs (W&B, trainer_state, TensorBoard, LLaMA-Factory, lm-eval, CSV,
    MLflow) as runs; one Outcome per source found, failures included, in the order they
    finished."""
    from gsmreport.ingest.importer import import_paths

    return import_paths(
        dirs.runs,
        paths,
        name=name,
        recursive=recursive,
        mapping=mapping,
        jobs=jobs,
        on_outcome=on_outcome,
        tracking_uri=tracking_uri,
        experiment=experiment,
    )


def attach_accuracies(dirs: Dirs, path: Path, key: str) -> Any:
    """A CSV of accuracies (one row per run and scorer) attached to the runs its `key` column
    names, each row as a `reported` evaluation (ingest/accuracies.py); returns its Attached."""
    from gsmreport.ingest.accuracies import attach

    return attach(dirs.runs, path, key)


def list_runs(dirs: Dirs) -> list[RunRecord]:
    return list(RunStore(dirs.runs).iter_records())


def analyse(dirs: Dirs, run_id: str) -> RunAnalysis:
    """Every figure of one run (analysis.run.RunAnalysis), read without writing anything.

    The one source of a run's numbers for the TUI's run view and `gsmreport show`; the report,
    the comparison, `runs` and the gates read the same object."""
    from gsmreport.analysis.run import analyse_run

    store = RunStore(dirs.runs)
    return analyse_run(store.path(run_id), store.read(run_id))


def show(dirs: Dirs, run_id: str) -> dict[str, Any]:
    """`gsmreport show RUN --json`: the run's analysis as JSON-ready data."""
    return analyse(dirs, run_id).to_dict()


# --- reads for the TUI: each a thin call into analysis/ or report/, imported on first use ---


def headline(run_dir: Path, record: RunRecord) -> RunSummary:
    """A run's headline row, through the per-run cache (what `runs` and the gates read)."""
    from gsmreport.analysis.summary_cache import cached_summary

    return cached_summary(run_dir, record)


def peek_headline(run_dir: Path, stamps: dict[str, int] | None = None) -> RunSummary | None:
    """The cached headline if still valid, else None; reads no run.yaml or parquet."""
    from gsmreport.analysis.summary_cache import peek_summary

    return peek_summary(run_dir, stamps)


def headline_inputs(run_dir: Path) -> dict[str, int]:
    """mtimes of every file a run's headline reads: what a watcher compares between polls."""
    from gsmreport.analysis.summary_cache import input_stamps

    return input_stamps(run_dir)


def compare_view(dirs: Dirs, run_ids: Sequence[str]) -> Comparison:
    """The comparison as the TUI shows it (the comparison report's own tables)."""
    from gsmreport.report.compare_view import load_comparison

    return load_comparison(dirs, run_ids)


def sample_eval_ids(dirs: Dirs, run_id: str) -> list[str]:
    """Evaluations with rows to browse; the run's latest evaluation last."""
    from gsmreport.analysis.sample_rows import eval_ids

    return eval_ids(dirs, run_id)


def samples(dirs: Dirs, run_id: str, eval_id: str) -> SampleSet:
    """One evaluation's rows, each judged by the report's failure taxonomy."""
    from gsmreport.analysis.sample_rows import load_set

    return load_set(dirs, run_id, eval_id)


def run_problems(dirs: Dirs) -> list[RunProblem]:
    """The folders of the runs folder that are not good runs (copied, invalid id, unreadable
    run.yaml), each with its one-line problem; every listing leaves them out."""
    return RunStore(dirs.runs).problems()


def summaries(dirs: Dirs) -> list[RunSummary]:
    """Headline figures of every readable run, newest first (CLI table and TUI alike)."""
    from gsmreport.analysis.summary_cache import cached_summary, listed_summary
    from gsmreport.core.errors import GsmReportError

    store = RunStore(dirs.runs)
    rows: list[RunSummary] = []
    for run_id in store.ids():  # as iter_records, reading run.yaml only without a valid cache
        row = listed_summary(store.path(run_id), run_id)
        if row is None:
            try:
                row = cached_summary(store.path(run_id), store.read(run_id))
            except GsmReportError:
                continue  # a folder with a problem is left out (`run_problems` names it)
        rows.append(row)
    return sorted(rows, key=lambda s: (s.created_at, s.id), reverse=True)


def render(
    dirs: Dirs,
    run_id: str,
    *,
    pdf: bool = False,
    html: bool = False,
    card: bool = False,
    templates: Path | None = None,
    out: Path | None = None,
) -> ReportPaths:
    """Write <out or reports>/<id>/report.md (+ charts); report.html, report.pdf and a model
    card (README.md) on request."""
    store = RunStore(dirs.runs)
    record = store.read(run_id)
    from gsmreport.report.render import render_run_report

    _check_templates(templates, out)
    return render_run_report(
        store.path(run_id),
        record,
        (out or dirs.reports) / run_id,
        pdf=pdf,
        html=html,
        card=card,
        templates=templates,
    )


# Types of the batch-render and gate functions below (kept beside them, imported lazily at
# run time so that `gsmreport --help` does not load the report stack).
if TYPE_CHECKING:
    from collections.abc import Callable

    from gsmreport.report.batch import BatchResult, RenderOptions
    from gsmreport.report.gate import Gate, GateFailure
    from gsmreport.report.outcome import RenderOutcome


def _check_templates(templates: Path | None, out: Path | None = None) -> None:
    """The folders a render reads and writes, checked before anything is written."""
    if templates is not None and not templates.is_dir():
        raise NotFoundError(f"templates folder not found: {templates}")
    if out is None:
        return
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():  # e.g. --out /etc/hostname
            raise UsageError(f"--out {out}: {parent} is a file, not a folder")


def render_runs(
    dirs: Dirs,
    run_ids: list[str] | None,
    options: RenderOptions,
    *,
    out: Path | None = None,
    force: bool = False,
    jobs: int = 1,
    on_result: Callable[[BatchResult], None] | None = None,
    on_problem: Callable[[RunProblem], None] | None = None,
) -> list[BatchResult]:
    """Render the given runs (None: every readable run) on `jobs` worker processes.

    Without `force`, a run whose report is up to date is skipped (report/freshness.py says
    what counts). Unknown ids fail before anything is rendered. With None, a folder that is
    not a good run goes to `on_problem` and is left out; an up-to-date run is skipped before
    its run.yaml is even read, so `render --all` over unchanged runs only stats files.
    """
    from gsmreport.report.batch import BatchResult, RenderTask, render_all
    from gsmreport.report.freshness import FreshnessCheck

    store = RunStore(dirs.runs)

    def task(run_id: str) -> RenderTask:
        return RenderTask(run_id, store.path(run_id), (out or dirs.reports) / run_id, options)

    if run_ids is not None:
        ids = list(dict.fromkeys(run_ids))
        for run_id in ids:
            store.read(run_id)
        _check_templates(options.templates, out)
        return render_all([task(i) for i in ids], force=force, jobs=jobs, on_result=on_result)
    _check_templates(options.templates, out)
    check = None if force else FreshnessCheck.for_templates(options.templates)
    fresh: list[BatchResult] = []
    todo: list[RenderTask] = []
    for run_id in store.ids():
        candidate = task(run_id)
        if check is not None and check.up_to_date(
            candidate.run_dir, candidate.out_dir, options.outputs()
        ):
            fresh.append(BatchResult(run_id, "up to date"))
            if on_result is not None:
                on_result(fresh[-1])
            continue
        try:
            store.read(run_id)  # a broken run.yaml is not a run
        except GsmReportError as err:
            if on_problem is not None:
                on_problem(RunProblem(store.path(run_id), str(err)))
            continue
        todo.append(candidate)
    return fresh + render_all(todo, force=True, jobs=jobs, on_result=on_result)


def render_and_gate(
    dirs: Dirs,
    run_ids: list[str] | None,
    options: RenderOptions,
    gates: list[Gate],
    *,
    out: Path | None = None,
    force: bool = False,
    jobs: int = 1,
    on_result: Callable[[BatchResult], None] | None = None,
    on_problem: Callable[[RunProblem], None] | None = None,
) -> RenderOutcome:
    """`render_runs`, then the gates on every run that rendered: counts, misses and the exit
    decision come back as one value (report/outcome.py)."""
    from gsmreport.report.outcome import RenderOutcome

    results = render_runs(
        dirs,
        run_ids,
        options,
        out=out,
        force=force,
        jobs=jobs,
        on_result=on_result,
        on_problem=on_problem,
    )
    if not results:
        raise UsageError(f"nothing to render: give RUN_ID ... or --all (no runs in {dirs.runs})")
    rendered = sorted(r.run_id for r in results if r.status != "error")
    misses = check_gates(dirs, rendered, gates) if gates else []
    return RenderOutcome(tuple(results), tuple(gates), tuple(misses))


def check_gates(dirs: Dirs, run_ids: list[str], gates: list[Gate]) -> list[GateFailure]:
    """The --fail-under / --fail-over gates each run misses, from its headline figures (the
    same cached headline `gsmreport runs` prints)."""
    from gsmreport.analysis.summary_cache import cached_summary
    from gsmreport.report.gate import check

    store = RunStore(dirs.runs)
    failures: list[GateFailure] = []
    for run_id in run_ids:
        failures += check(cached_summary(store.path(run_id), store.read(run_id)), gates)
    return failures


if TYPE_CHECKING:
    from gsmreport.report.compare_report import ComparePaths

_FOLDER_MAX = 64


def comparison_folder(run_ids: list[str], name: str | None = None) -> str:
    """`compare-<name>`, or `compare-<id>-<id>-…`; a long list of ids is cut and given a hash
    of the full list, so two different comparisons never share a folder."""
    if name is not None:
        if not RUN_ID_RE.fullmatch(name) or ".." in name:
            raise UsageError(
                f"invalid --name {name!r}: use lowercase letters, digits, '.', '_' or '-' "
                "(1-64 characters, starting with a letter or digit)"
            )
        return f"compare-{name}"
    slug = "-".join(run_ids)
    if len(slug) > _FOLDER_MAX:
        digest = hashlib.sha1("\n".join(run_ids).encode()).hexdigest()[:8]
        slug = f"{slug[: _FOLDER_MAX - 9].rstrip('-._')}-{digest}"
    return f"compare-{slug}"


def render_comparison(
    dirs: Dirs,
    run_ids: list[str],
    *,
    baseline: str | None = None,
    name: str | None = None,
    pdf: bool = False,
    html: bool = False,
    templates: Path | None = None,
    out: Path | None = None,
) -> ComparePaths:
    """One report over several runs: <out or reports>/compare-<name or ids>/compare.md
    (+ charts), compare.html and compare.pdf on request. Every id is checked before anything
    is read or written."""
    ids = [run_id for run_id in dict.fromkeys(run_ids) if run_id]
    if len(ids) < 2:
        raise UsageError("--compare needs at least two runs")
    store = RunStore(dirs.runs)
    for run_id in ids:
        store.read(run_id)
    if baseline is not None and baseline not in ids:
        raise UsageError(f"--baseline {baseline!r} is not one of the compared runs")
    folder = comparison_folder(ids, name)
    _check_templates(templates, out)
    from gsmreport.report.compare_report import write_comparison

    return write_comparison(
        store,
        ids,
        (out or dirs.reports) / folder,
        baseline=baseline,
        pdf=pdf,
        html=html,
        templates=templates,
    )
