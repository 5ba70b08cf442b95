"""The Typer app, its root options (runs and reports folders, --version) and what every
command shares: the run folders of this invocation, the job printer, and the options that
several commands take, each defined once here as an `Annotated` alias."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gsmreport import __version__
from gsmreport.core.settings import REPORTS_ENV, RUNS_ENV, Dirs, resolve_dirs

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


def dirs_of(ctx: typer.Context) -> Dirs:
    obj: Dirs = ctx.obj
    return obj


def job_printer(verbose: bool) -> Any:
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


# --- options shared by several commands, defined once -------------------------------------

Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Show the job's full output.")]
Pdf = Annotated[bool, typer.Option("--pdf", help="Also write the PDF (WeasyPrint).")]
Html = Annotated[bool, typer.Option("--html", help="Also write the HTML page.")]
Templates = Annotated[
    Path | None, typer.Option("--templates", help="Folder of your own Jinja templates.")
]
Jobs = Annotated[
    int | None,
    typer.Option("--jobs", "-j", min=1, help="Worker processes (default: the CPU count, up to 8)."),
]


def default_jobs(jobs: int | None) -> int:
    """--jobs as given, else the CPU count capped at 8 (past that the disk is the limit)."""
    return jobs or max(1, min(os.cpu_count() or 1, 8))
