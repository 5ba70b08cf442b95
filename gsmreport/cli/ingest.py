"""`gsmreport ingest`: other tools' logs as runs, or a run's own logs read again."""

from __future__ import annotations

from typing import Annotated

import typer

from gsmreport.cli.base import Jobs, app, default_jobs, dirs_of
from gsmreport.core.polars_threads import one_thread_per_process
from gsmreport.core.settings import Dirs


@app.command(epilog="Exit codes: 0 every source imported, 1 any source failed, 2 bad usage.")
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files or folders (trainer_state.json / checkpoint folder, .wandb file or "
            "wandb/ folder, TensorBoard event files, LLaMA-Factory trainer_log.jsonl, lm-eval "
            "results/samples, MLflow mlruns/ folder, a predictions dump, CSV/JSONL), or the id "
            "of a run to re-read its own logs.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Run id for the imported run (one source only).")
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Search folders for logs, all the way down.")
    ] = False,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="Columns of a CSV/JSONL log, e.g. step=global_step,loss=train_loss,eval_loss=val; "
            "or the fields of a predictions dump, e.g. question=q,gold=answer,response=output "
            "(dotted paths reach nested fields; also id=, prompt=)",
        ),
    ] = None,
    attach_key: Annotated[
        str | None,
        typer.Option(
            "--attach-key",
            help="The PATHS are CSVs of accuracies (one row per run, e.g. run_id,n_problems,"
            "n_correct): attach each row to the existing run its COLUMN names, as a 'reported' "
            "evaluation.",
        ),
    ] = None,
    jobs: Jobs = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(
            "--tracking-uri",
            help="Import every MLflow run at this tracking URI (sqlite:///mlflow.db, a server); "
            "needs the mlflow extra.",
        ),
    ] = None,
    experiment: Annotated[
        str | None,
        typer.Option("--experiment", help="Only the MLflow runs of this experiment (by name)."),
    ] = None,
) -> None:
    """Import training and evaluation logs from other tools as runs (same source → same run)."""
    from gsmreport import pipeline
    from gsmreport.ingest.importer import Outcome
    from gsmreport.ingest.tabular import parse_mapping

    dirs = dirs_of(ctx)
    paths = paths or []
    if attach_key is not None:
        _attach(dirs, paths, attach_key)
        return
    if not paths and tracking_uri is None:
        raise typer.BadParameter("give log paths, or --tracking-uri", param_hint="PATHS")
    plan = pipeline.plan_ingest(dirs, paths)
    for run_id in plan.run_ids:  # a run id, not a path: rebuild that run's metrics.parquet
        typer.echo(f"re-read {run_id}: {pipeline.ingest(dirs, run_id)}")
    counts = {"imported": 0, "updated": 0, "failed": 0}
    for missing in plan.missing:
        counts["failed"] += 1
        typer.echo(f"error: {missing}: no such file or folder, and no run with that id", err=True)
    sources = plan.sources

    def show(outcome: Outcome) -> None:
        if not outcome.ok:
            counts["failed"] += 1
            typer.echo(f"error: {outcome.error}", err=True)
            return
        verb = "updated" if outcome.updated else "imported"
        counts[verb] += 1
        status = "" if outcome.status == "completed" else f", {outcome.status}"
        typer.echo(
            f"{verb} {outcome.run_id} <- {outcome.path} ({outcome.kind}, "
            f"{outcome.rows:,} metric rows, {outcome.evals} eval(s){status})"
        )
        for warning in outcome.warnings:
            typer.echo(f"  warning: {warning}", err=True)

    if sources or tracking_uri is not None:
        n_jobs = default_jobs(jobs)
        if n_jobs > 1:  # a process per core: a second polars thread in each only spins
            one_thread_per_process()
        pipeline.import_logs(
            dirs,
            sources,
            name=name,
            recursive=recursive,
            mapping=parse_mapping(mapping) if mapping else None,
            jobs=n_jobs,
            on_outcome=show,
            tracking_uri=tracking_uri,
            experiment=experiment,
        )
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    typer.echo(summary or "nothing found")
    if counts["failed"]:
        raise typer.Exit(1)


def _attach(dirs: Dirs, paths: list[str], key: str) -> None:
    """`--attach-key`: each CSV's rows as evaluations of existing runs; one line per problem."""
    from pathlib import Path

    from gsmreport import pipeline
    from gsmreport.ingest.files import SourceError

    if not paths:
        raise typer.BadParameter("give the CSV(s) of accuracies to attach", param_hint="PATHS")
    failed = 0
    for given in paths:
        try:
            done = pipeline.attach_accuracies(dirs, Path(given), key)
        except SourceError as err:
            failed += 1
            typer.echo(f"error: {err}", err=True)
            continue
        for run_id, eval_id in done.written:
            typer.echo(f"attached {given} -> {run_id} (eval {eval_id})")
        for warning in done.warnings:
            typer.echo(f"  warning: {warning}", err=True)
    if failed:
        raise typer.Exit(1)
