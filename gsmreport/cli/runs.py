"""`gsmreport runs` and `gsmreport show`: the runs' headline figures and one run's analysis."""

from __future__ import annotations

from typing import Annotated

import typer

from gsmreport.cli.base import app, dirs_of
from gsmreport.core.errors import UsageError


@app.command()
def runs(
    ctx: typer.Context,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="table (default), json or csv: the same headline figures, raw for scripts.",
        ),
    ] = "table",
) -> None:
    """List runs with their headline figures (newest first)."""
    from gsmreport import pipeline
    from gsmreport.cli.tables import format_runs

    if fmt not in ("table", "json", "csv"):
        raise UsageError(f"--format {fmt!r}: use table, json or csv")
    typer.echo(format_runs(pipeline.summaries(dirs_of(ctx)), fmt))  # type: ignore[arg-type]
    for problem in pipeline.run_problems(dirs_of(ctx)):  # listed with the folder, never fatal
        typer.echo(f"warning: {problem}", err=True)


@app.command()
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run to show.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Every figure of the analysis, with its source, as JSON.")
    ] = False,
) -> None:
    """One run's analysis: the figures its report, the TUI and `runs` all show."""
    import json

    from gsmreport import pipeline
    from gsmreport.cli.show import show_text

    data = pipeline.show(dirs_of(ctx), run_id)
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else show_text(data))
