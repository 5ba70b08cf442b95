"""`gsmreport train`: a fine-tune from a YAML config, a resume, a dry run or a SLURM script."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from gsmreport.cli.base import Verbose, app, dirs_of, job_printer
from gsmreport.core.errors import JobFailed, UsageError


def _launch_overrides(
    num_processes: int | None, accelerate_config: Path | None, nodes: int | None
) -> dict[str, Any]:
    given = {
        "launch.num_processes": num_processes,
        "launch.accelerate_config": str(accelerate_config) if accelerate_config else None,
        "launch.nodes": nodes,
    }
    return {key: value for key, value in given.items() if value is not None}


def _plan_only(
    ctx: typer.Context,
    config: Path,
    run_id: str | None,
    overrides: dict[str, Any],
    *,
    slurm: bool,
    time: str | None,
    dry_run: bool,
) -> None:
    """`train --dry-run` and `train --slurm`: work the run out, print it, start nothing."""

    from gsmreport import pipeline
    from gsmreport.core.errors import UsageError
    from gsmreport.launch.slurm import DEFAULT_TIME, SlurmOptions, check_time

    if time is not None and not slurm:
        raise UsageError("--time is the SLURM time limit: use it with --slurm")
    options = SlurmOptions(time=check_time(time or DEFAULT_TIME)) if slurm else None
    plan = pipeline.plan_train(
        dirs_of(ctx), config, run_id=run_id, overrides=overrides, slurm=options
    )
    if dry_run:
        typer.echo(plan.sbatch if plan.sbatch is not None else shlex.join(plan.record.command))
        return
    script = pipeline.submit_slurm(dirs_of(ctx), plan)
    typer.echo(f"run {plan.record.id} is pending; its batch script is {script}")
    typer.echo(f"submit it with:\n  sbatch {shlex.quote(str(script))}")


@app.command()
def train(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Argument(help="Run config (YAML); see configs/. Not with --resume.")
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Run id (slug); default from the config.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Override the config's model (folder or Hub id).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Override data.path (a folder, or a jsonl/parquet file)."),
    ] = None,
    verbose: Verbose = False,
    num_processes: Annotated[
        int | None,
        typer.Option(
            "--num-processes",
            min=1,
            help="Processes (GPUs) per node; above 1 the job runs through `accelerate launch`.",
        ),
    ] = None,
    accelerate_config: Annotated[
        Path | None,
        typer.Option(
            "--accelerate-config",
            help="An `accelerate config` YAML (DDP, FSDP or DeepSpeed); see configs/accelerate/.",
        ),
    ] = None,
    nodes: Annotated[
        int | None, typer.Option("--nodes", min=1, help="Nodes for --slurm (each runs N procs).")
    ] = None,
    slurm: Annotated[
        bool,
        typer.Option(
            "--slurm", help="Write runs/<id>/slurm.sbatch for `sbatch` instead of running."
        ),
    ] = False,
    time: Annotated[
        str | None, typer.Option("--time", help="SLURM time limit for --slurm (default 24:00:00).")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the command (or the sbatch script) and exit."),
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume",
            metavar="RUN_ID",
            help="Continue an interrupted or failed run from its newest checkpoint.",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override one config value, e.g. --set training.max_steps=20 (repeatable).",
        ),
    ] = None,
) -> None:
    """Fine-tune a model (LoRA, QLoRA or full SFT) in a child process; Ctrl-C stops it cleanly
    (keeping its checkpoints) and `--resume RUN_ID` continues it."""
    from gsmreport import pipeline
    from gsmreport.core.config import parse_overrides

    overrides: dict[str, Any] = {}
    if model:
        overrides["model"] = model
    if data:
        overrides["data.path"] = str(data)
    overrides.update(_launch_overrides(num_processes, accelerate_config, nodes))
    overrides.update(parse_overrides(set_ or []))
    if resume is not None:
        if slurm or dry_run or time is not None:
            from gsmreport.core.errors import UsageError

            # Resuming runs the job here at once: a dry run or a batch script must not start it.
            raise UsageError(
                "--resume runs the job at once: it takes no --dry-run, --slurm or --time"
            )
        _resume(ctx, resume, config is not None or run_id is not None or bool(overrides), verbose)
        return
    if config is None:
        from gsmreport.core.errors import UsageError

        raise UsageError("give a run config (YAML), or --resume RUN_ID")
    if slurm or dry_run or time is not None:
        _plan_only(ctx, config, run_id, overrides, slurm=slurm, time=time, dry_run=dry_run)
        return
    record = pipeline.train(
        dirs_of(ctx), config, run_id=run_id, overrides=overrides, on_line=job_printer(verbose)
    )
    _report_training(ctx, record)


def _resume(ctx: typer.Context, run_id: str, changes: bool, verbose: bool) -> None:
    from gsmreport import pipeline

    if changes:
        raise UsageError(
            "--resume continues a run with its own saved config: give no CONFIG, --run-id, "
            "--set or other overrides"
        )
    _report_training(ctx, pipeline.resume(dirs_of(ctx), run_id, on_line=job_printer(verbose)))


def _report_training(ctx: typer.Context, record: Any) -> None:
    run_dir = dirs_of(ctx).runs / record.id
    if record.status != "completed":
        raise JobFailed(
            f"run {record.id} {record.status}: {record.error or 'see logs'} "
            f"({run_dir / 'logs' / 'stdout.log'})",
            exit_code=130 if record.status == "interrupted" else 1,
        )
    typer.echo(f"run {record.id} completed in {record.runtime_s or 0:.1f} s -> {run_dir}")
