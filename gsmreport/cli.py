"""The command line: a thin Typer shell over gsmreport.pipeline.

Parses, calls the core, prints. Every user mistake is a GsmReportError, printed as one
`error:` line with its exit code; torch is never imported in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gsmreport import __version__
from gsmreport.errors import GsmReportError, JobFailed
from gsmreport.settings import REPORTS_ENV, RUNS_ENV, Dirs, resolve_dirs

app = typer.Typer(
    name="gsmreport",
    help="Fine-tune small LLMs on GSM8K-style data, evaluate them, and write honest reports.\n\n"
    "Run with no command to open the terminal UI.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_CODES = (
    "Exit codes: 0 ok, 1 a job or render failed, 2 bad input (config, run id, path), "
    "130 interrupted."
)


def _dirs(ctx: typer.Context) -> Dirs:
    obj: Dirs = ctx.obj
    return obj


def _quiet_printer(verbose: bool) -> Any:
    """Job output: our own progress lines by default, everything with --verbose."""

    def show(line: str) -> None:
        if verbose or line.startswith("[gsmreport]"):
            typer.echo(line)

    return show


@app.callback(invoke_without_command=True, epilog=EXIT_CODES)
def root(
    ctx: typer.Context,
    runs_dir: Annotated[
        Path | None,
        typer.Option("--runs-dir", envvar=RUNS_ENV, help="Folder of run folders (default ./runs)."),
    ] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option(
            "--reports-dir", envvar=REPORTS_ENV, help="Folder for reports (default ./reports)."
        ),
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"gsmreport {__version__}")
        raise typer.Exit()
    ctx.obj = resolve_dirs(runs_dir, reports_dir)
    if ctx.invoked_subcommand is None:
        from gsmreport.tui.app import run_tui

        run_tui(ctx.obj)


@app.command()
def train(
    ctx: typer.Context,
    config: Annotated[Path, typer.Argument(help="Run config (YAML); see configs/.")],
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Run id (slug); default from the config.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Override the config's model (folder or Hub id).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Override the data folder (GSM8K jsonl).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the trainer's full output.")
    ] = False,
) -> None:
    """Fine-tune a model (LoRA or full SFT) in a child process; Ctrl-C stops it cleanly."""
    from gsmreport import pipeline

    overrides: dict[str, Any] = {}
    if model:
        overrides["model"] = model
    if data:
        overrides["data.path"] = str(data)
    record = pipeline.train(
        _dirs(ctx), config, run_id=run_id, overrides=overrides, on_line=_quiet_printer(verbose)
    )
    run_dir = _dirs(ctx).runs / record.id
    if record.status != "completed":
        raise JobFailed(
            f"run {record.id} {record.status}: {record.error or 'see logs'} "
            f"({run_dir / 'logs' / 'stdout.log'})",
            exit_code=130 if record.status == "interrupted" else 1,
        )
    typer.echo(f"run {record.id} completed in {record.runtime_s or 0:.1f} s -> {run_dir}")


@app.command("eval")
def eval_(
    ctx: typer.Context,
    run: Annotated[
        str | None, typer.Option("--run", help="Evaluate this completed training run.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Evaluate a model (folder or Hub id) as a new run."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Folder with GSM8K test.jsonl (default: the run's data, else the Hub)."
        ),
    ] = None,
    n: Annotated[
        int, typer.Option("-n", "--n", min=1, help="Number of problems (seeded sample).")
    ] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the problem sample.")] = 1234,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 16,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 256,
    one_shot: Annotated[
        bool, typer.Option("--one-shot", help="Prefix the instruction and one worked example.")
    ] = False,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Id of the new run when using --model.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """GSM8K exact match (strict-match and flexible-extract) with greedy decoding."""
    from gsmreport import pipeline
    from gsmreport.config import DataConfig

    rid, eval_id = pipeline.evaluate(
        _dirs(ctx),
        run_id=run,
        model=model,
        eval_run_id=run_id,
        data=DataConfig(path=str(data)) if data else None,
        n=n,
        seed=seed,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        prompt_style="one-shot" if one_shot else "zero-shot",
        on_line=_quiet_printer(verbose),
    )
    typer.echo(f"evaluation {eval_id} of run {rid} -> {_dirs(ctx).runs / rid / 'evals' / eval_id}")


@app.command()
def ingest(
    ctx: typer.Context,
    run_id: Annotated[
        str, typer.Argument(help="Run whose own logs to re-read into metrics.parquet.")
    ],
) -> None:
    """Rebuild a run's metrics.parquet from its metrics.jsonl / trainer_state.json."""
    from gsmreport import pipeline

    path = pipeline.ingest(_dirs(ctx), run_id)
    typer.echo(f"wrote {path}")


@app.command()
def render(
    ctx: typer.Context,
    run_ids: Annotated[list[str] | None, typer.Argument(help="Run ids to report on.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf (WeasyPrint).")] = False,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html.")] = False,
    all_runs: Annotated[bool, typer.Option("--all", help="Render every run.")] = False,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Folder of your own Jinja templates.")
    ] = None,
) -> None:
    """Write reports/<id>/report.md (+ charts), and HTML/PDF on request."""
    from gsmreport import pipeline

    dirs = _dirs(ctx)
    ids = list(run_ids or [])
    if all_runs:
        ids = [r.id for r in pipeline.list_runs(dirs)]
    if not ids:
        raise GsmReportError("nothing to render: give RUN_ID ... or --all", exit_code=2)
    failed = 0
    for rid in ids:
        try:
            paths = pipeline.render(dirs, rid, pdf=pdf, html=html, templates=templates)
        except GsmReportError as exc:
            if len(ids) == 1:
                raise
            failed += 1
            typer.echo(f"error: {rid}: {exc}", err=True)
            continue
        for p in (paths.md, paths.html, paths.pdf):
            if p is not None:
                typer.echo(str(p))
    if failed:
        raise GsmReportError(f"{failed} of {len(ids)} reports failed", exit_code=1)


@app.command()
def runs(ctx: typer.Context) -> None:
    """List runs with their headline figures."""
    from gsmreport import pipeline
    from gsmreport.tables import runs_table

    typer.echo(runs_table(pipeline.summaries(_dirs(ctx))))


@app.command()
def demo(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="Folder with GSM8K train.jsonl/test.jsonl instead of generated problems."
        ),
    ] = None,
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where the tiny model and demo data go.")
    ] = Path(".demo"),
    n_eval: Annotated[int, typer.Option("--n-eval", min=1, help="Problems per evaluation.")] = 50,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Skip the PDF reports.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Tiny local model: base eval, LoRA and full fine-tunes, evals, reports. No Hub, no GPU."""
    import time

    from gsmreport.demo import DemoSize, run_demo

    t0 = time.monotonic()
    result = run_demo(
        _dirs(ctx),
        workdir,
        data=data,
        size=DemoSize(n_eval=n_eval, pdf=not no_pdf),
        say=_end_live_line(typer.echo),
        on_line=_quiet_printer(verbose) if verbose else _live_progress(),
    )
    typer.echo(f"\ndone in {time.monotonic() - t0:.0f} s. Runs: {', '.join(result.run_ids)}")
    for rid, paths in result.reports.items():
        for p in paths:
            typer.echo(f"  {rid}: {p}")
    typer.echo("Open the TUI with `gsmreport`, or list runs with `gsmreport runs`.")


def _live_progress() -> Any:
    """On a terminal, the job's latest progress line redrawn in place under the demo's step."""
    if not sys.stdout.isatty():
        return None

    def show(line: str) -> None:
        if line.startswith("[gsmreport] "):
            text = "      " + line.removeprefix("[gsmreport] ")
            sys.stdout.write("\r\033[K" + text[:100])
            sys.stdout.flush()

    return show


def _end_live_line(say: Any) -> Any:
    def echo(text: str) -> None:
        if sys.stdout.isatty():
            sys.stdout.write("\r\033[K")
        say(text)

    return echo


def main() -> None:
    try:
        app()
    except GsmReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
