"""`gsmreport study`: a study's runs trained, evaluated and compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gsmreport.cli.base import Verbose, app, dirs_of, job_printer
from gsmreport.core.errors import JobFailed

STUDY_EPILOG = (
    "A study file (configs/studies/*.yaml) has name, description, defaults (train config "
    "fields shared by every run), runs (id plus the fields that differ), eval (evaluation "
    "settings for every run; none: compared on eval loss only) and baselines (models "
    "evaluated untrained). Runs are named <study>-<run id>; a completed run is skipped on a "
    "second call, so an interrupted study continues where it stopped.\n\n"
    "On a CPU, after `gsmreport demo`: gsmreport study "
    "configs/studies/gemma-2-2b-it-gsm8k-lora.yaml --model .demo/tiny-llama --data .demo/data "
    "--set training.max_steps=2 --eval-n 5\n\n"
    "Exit codes: 0 ok, 1 a run failed (the others still ran), 2 bad study file or option, "
    "130 interrupted."
)


@app.command(epilog=STUDY_EPILOG)
def study(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Study file (YAML); see configs/studies/.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Use this model (folder or Hub id) for every run and baseline."
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Use this local data (folder or file) for every run and eval."),
    ] = None,
    sets: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a setting of every run (training.max_steps=2) or of the evaluation "
            "(eval.max_new_tokens=64). Repeatable.",
        ),
    ] = None,
    eval_n: Annotated[
        int | None, typer.Option("--eval-n", min=1, help="Problems per evaluation.")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", metavar="RUN_ID", help="Run only this run of the study. Repeatable."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Redo completed runs instead of skipping them.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan (runs, settings, evals) and stop.")
    ] = False,
    verbose: Verbose = False,
) -> None:
    """Run a study: train each of its runs, evaluate them and the baselines, compare them in
    one report (reports/compare-<study>/compare.md) and print the comparison table."""
    from gsmreport.core.config import parse_overrides
    from gsmreport.study.config import Replacements, load_study
    from gsmreport.study.run import run_study
    from gsmreport.study.view import plan_text, results_table

    replace = Replacements(
        model=model,
        data=str(data) if data else None,
        sets=parse_overrides(sets or []),
        eval_n=eval_n,
    )
    plan = load_study(file, replace)
    dirs = dirs_of(ctx)
    if dry_run:
        typer.echo(plan_text(dirs, plan, only or [], force))
        return
    result = run_study(
        dirs, plan, only=only, force=force, say=typer.echo, on_line=job_printer(verbose)
    )
    if result.completed:
        typer.echo("\n" + results_table(dirs, result.completed))
    if result.report is not None:
        typer.echo(f"\nreport: {result.report}")
    if result.failed:
        raise JobFailed(f"{len(result.failed)} run(s) failed: {', '.join(result.failed)}")
