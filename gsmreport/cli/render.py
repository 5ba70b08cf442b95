"""`gsmreport render`: reports of runs (one, several, --all), a comparison, CI gates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperCommand

from gsmreport.cli.base import Html, Jobs, Pdf, Templates, app, default_jobs, dirs_of
from gsmreport.cli.spread import spread_option
from gsmreport.core.errors import GsmReportError


class _RenderCommand(TyperCommand):
    """`render` whose --compare takes several run ids: `--compare a b c`.

    A click option takes one value per flag, so the ids after --compare (up to the next
    option) are rewritten to `--compare a --compare b --compare c` before parsing; ids given
    before it stay positional, and the command refuses the mix.
    """

    # typer.Context subclasses the Context click declares here (typer vendors click; the base
    # class is private), hence the narrower parameter.
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, spread_option(args, "--compare"))


RENDER_EPILOG = (
    "Gate metrics: exact_match (alias em; strict-match, 0-1 or %), exact_match_low, "
    "exact_match_high (em_low, em_high: its Wilson 95 % bounds), token_accuracy "
    "(token_acc_final), flexible_extract and numeric_match (em_flexible, em_numeric: the "
    "same evaluation's other two scores), loss_drop_pct, n_eval, em_correct; lower is better "
    "for final_loss, cost_usd, device_hours and runtime_s (use --fail-over). The figures are "
    "the ones `gsmreport runs` and `gsmreport show` print. A run without the metric fails its "
    "gate as not measured.\n\n"
    "--all renders only runs whose run.yaml, metrics, evaluations or templates (or the "
    "gsmreport version) changed since their last report; --force renders them all.\n\n"
    "Exit codes: 0 ok, 1 a render failed, 2 bad usage (unknown run, metric or option), "
    "3 a --fail-under/--fail-over gate failed (1 wins when both happen).\n\n"
    "--compare A B C ... writes one report over the runs, reports/compare-<name or ids>/"
    "compare.md (+ charts, compare.html/.pdf with --html/--pdf): one row per run (optimizer, "
    "schedule, warm-up, effective batch, LoRA targets, steps, cost, score), the evaluation "
    "set-up (prompt text, problems, seed), configuration and results side by side, "
    "paired tests (McNemar exact, bootstrap CI) against the base run, findings, "
    "and the same problems answered by each run. The base run is --baseline, else an "
    "evaluation-only run of the model the others were trained from, else the first run."
)


@app.command(epilog=RENDER_EPILOG, cls=_RenderCommand)
def render(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str] | None, typer.Argument(help="Run ids to report on (always rendered).")
    ] = None,
    pdf: Pdf = False,
    html: Html = False,
    card: Annotated[
        bool,
        typer.Option("--card", help="Also write a Hugging Face model card, README.md."),
    ] = False,
    all_runs: Annotated[
        bool, typer.Option("--all", help="Every run whose data changed since its last report.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --all: render up-to-date runs too.")
    ] = False,
    jobs: Jobs = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write to DIR/<run_id>/ instead of the reports folder."),
    ] = None,
    templates: Templates = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            metavar="METRIC=VALUE",
            help="Exit 3 if a run's METRIC is below VALUE (higher-is-better metrics), e.g. "
            "exact_match=0.25 or exact_match=25%. Repeatable.",
        ),
    ] = None,
    fail_over: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-over",
            metavar="METRIC=VALUE",
            help="Exit 3 if a run's METRIC is above VALUE (lower-is-better: final_loss, "
            "cost_usd). Repeatable.",
        ),
    ] = None,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            "--compare",
            metavar="RUN...",
            help="Compare two or more runs in one report: --compare A B C (instead of RUN_ID).",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="RUN",
            help="With --compare: the run the others are tested against (paired).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="With --compare: write to compare-NAME/ instead of compare-<ids>/."
        ),
    ] = None,
) -> None:
    """Write reports/<id>/report.md (+ charts), and HTML/PDF/model card on request; or one
    report comparing runs with --compare A B C."""
    from gsmreport import pipeline
    from gsmreport.core.errors import UsageError
    from gsmreport.core.runs import RunProblem
    from gsmreport.report.batch import BatchResult, RenderOptions
    from gsmreport.report.gate import parse_gate

    # Gates are parsed first: a typo in a metric name must fail before minutes of rendering.
    gates = [parse_gate(s, "under") for s in fail_under or []]
    gates += [parse_gate(s, "over") for s in fail_over or []]
    if compare is not None:
        if run_ids or all_runs:
            raise UsageError(
                "give the runs to compare after --compare, or RUN_ID ... / --all, not both"
            )
        if card or gates:
            raise UsageError(
                "--card, --fail-under and --fail-over are for single-run reports, not --compare"
            )
        paths = pipeline.render_comparison(
            dirs_of(ctx),
            compare,
            baseline=baseline,
            name=name,
            pdf=pdf,
            html=html,
            templates=templates,
            out=out,
        )
        files = [paths.md, paths.html, paths.pdf, *paths.charts]
        typer.echo(f"rendered comparison: {', '.join(str(f) for f in files if f is not None)}")
        return
    if baseline is not None or name is not None:
        raise UsageError("--baseline and --name go with --compare")
    if bool(run_ids) == all_runs:
        raise UsageError("give RUN_ID ... or --all, not both" if all_runs else _NOTHING)
    single = not all_runs and len(set(run_ids or [])) == 1

    def show(result: BatchResult) -> None:
        """One line per run as it finishes: rendered (with its files), up to date, or error."""
        if result.status == "error" and not single:  # a single run's error ends the command
            typer.echo(f"error: {result.run_id}: {result.error}", err=True)
        elif result.status == "up to date":
            # Not typer.echo: it flushes every line, and a thousand flushed lines into a CI
            # log's pipe took longer than checking the thousand runs (the order is kept:
            # typer.echo writes to this same sys.stdout).
            sys.stdout.write(f"up to date {result.run_id}\n")
        elif result.status == "rendered":
            typer.echo(f"rendered {result.run_id}: {', '.join(str(p) for p in result.files)}")

    def warn(problem: RunProblem) -> None:
        """With --all, a folder that is not a good run is named, once, and left out."""
        typer.echo(f"warning: {problem}", err=True)

    options = RenderOptions(pdf=pdf, html=html, card=card, templates=templates)
    outcome = pipeline.render_and_gate(
        dirs_of(ctx),
        None if all_runs else list(run_ids or []),
        options,
        gates,
        out=out,
        force=force or not all_runs,
        jobs=default_jobs(jobs),
        on_result=show,
        on_problem=warn,
    )
    if single and outcome.failed:
        first = outcome.failed[0]
        raise GsmReportError(str(first.error), exit_code=first.exit_code)
    if not single:
        typer.echo(outcome.tally)
    for miss in outcome.gate_failures:
        typer.echo(miss.message, err=True)
    if (error := outcome.error()) is not None:
        raise error
    if outcome.gate_line:
        typer.echo(outcome.gate_line)


_NOTHING = "nothing to render: give RUN_ID ... or --all"
