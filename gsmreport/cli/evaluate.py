"""`gsmreport eval`: GSM8K exact match of a run or a model, or lm-eval files rescored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from typer.core import TyperCommand

from gsmreport.cli.base import EXIT_CODES, Verbose, app, dirs_of, job_printer
from gsmreport.cli.spread import spread_option
from gsmreport.core.config import EvalConfig, PromptStyle
from gsmreport.core.errors import UsageError

EVAL_EPILOG = (
    "Prompt styles: zero-shot (the question as a chat turn, or the run's prompt template), "
    "one-shot (the gemma-2b-it study's instruction and worked example), 5-shot and 8-shot "
    "(lm-eval's gsm8k prompt: `Question: ...\\nAnswer: ...` exemplars from the train split, "
    "drawn with --fewshot-seed as lm-eval draws them).\n\n"
    "--split validation evaluates the run's held-out problems (its data seed and fraction). "
    "--from-lm-eval FILE ... imports lm-evaluation-harness samples_*.jsonl / results_*.json as "
    "evaluations rescored by our filters (with --run: added to that run).\n\n"
    "--num-processes N runs N copies of the model (one per GPU, or N CPU processes) through "
    "`accelerate launch`, each generating its share of the batches; rank 0 merges and scores. "
    "--device-map auto instead spreads one model over all GPUs; the two do not combine. "
    "See docs/evaluation.md.\n\n" + EXIT_CODES
)


class _EvalCommand(TyperCommand):
    """`eval` whose --from-lm-eval takes several files: `--from-lm-eval a.jsonl b.jsonl`."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, spread_option(args, "--from-lm-eval"))


def _default(field: str) -> Any:
    """A setting's default as EvalConfig defines it: the CLI never restates one."""
    return EvalConfig.model_fields[field].get_default(call_default_factory=True)


_STOP = ", ".join(_default("stop"))


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
        typer.Option(
            "-n", "--n", min=1, help=f"Problems, a seeded sample (default {_default('n')})."
        ),
    ] = None,
    all_problems: Annotated[
        bool, typer.Option("--all", help="Every problem of the split (1,319 in GSM8K test).")
    ] = False,
    split: Annotated[
        Literal["test", "train", "validation"],
        typer.Option("--split", help="validation: the run's held-out share of train."),
    ] = _default("split"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the problem sample.")] = _default(
        "seed"
    ),
    prompt_style: Annotated[
        PromptStyle | None,
        typer.Option(
            "--prompt-style",
            help=f"How the question is asked (default {_default('prompt_style')}).",
        ),
    ] = None,
    one_shot: Annotated[
        bool, typer.Option("--one-shot", help="Same as --prompt-style one-shot.")
    ] = False,
    fewshot_seed: Annotated[
        int, typer.Option("--fewshot-seed", help="Seed of the 5-/8-shot exemplars (lm-eval's).")
    ] = _default("fewshot_seed"),
    stop: Annotated[
        list[str] | None,
        typer.Option(
            "--stop",
            help=f"Stop generating at this string; repeatable; replaces the default ({_STOP}).",
        ),
    ] = None,
    no_gold_loss: Annotated[
        bool,
        typer.Option("--no-gold-loss", help="Skip each problem's loss of the gold solution."),
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Problems generated together.")
    ] = _default("batch_size"),
    max_new_tokens: Annotated[
        int,
        typer.Option(
            "--max-new-tokens", min=1, help="Longest answer; longer ones are marked truncated."
        ),
    ] = _default("max_new_tokens"),
    num_processes: Annotated[
        int,
        typer.Option(
            "--num-processes",
            min=1,
            help="Data-parallel processes (one per GPU) through `accelerate launch`; "
            "the same results as one process.",
        ),
    ] = _default("num_processes"),
    device_map: Annotated[
        Literal["auto"] | None,
        typer.Option(
            "--device-map",
            help="auto: spread one model over every GPU (a model larger than one GPU).",
        ),
    ] = None,
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
    verbose: Verbose = False,
) -> None:
    """GSM8K exact match (strict-match and flexible-extract) with greedy decoding."""
    from gsmreport import pipeline
    from gsmreport.core.config import DataConfig

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
        "n": None if all_problems else (n or _default("n")),
        "split": split,
        "seed": seed,
        "batch_size": batch_size,
        "max_new_tokens": max_new_tokens,
        "prompt_style": prompt_style or ("one-shot" if one_shot else _default("prompt_style")),
        "fewshot_seed": fewshot_seed,
        "gold_loss": not no_gold_loss,
        "num_processes": num_processes,
        "device_map": device_map,
    }
    if stop is not None:
        settings["stop"] = stop
    rid, eval_id = pipeline.evaluate(
        dirs_of(ctx),
        run_id=run,
        model=model,
        eval_run_id=run_id,
        data=DataConfig(path=str(data)) if data else None,
        on_line=job_printer(verbose),
        **settings,
    )
    where = dirs_of(ctx).runs / rid / "evals" / eval_id
    typer.echo(f"evaluation {eval_id} of run {rid} -> {where}")


def _import_lm_eval(ctx: typer.Context, paths: list[Path], run: str | None) -> None:
    from gsmreport import pipeline

    failed = 0
    for outcome in pipeline.import_lm_eval(dirs_of(ctx), paths, run_id=run):
        if not outcome.ok:
            failed += 1
            typer.echo(f"error: {outcome.error}", err=True)
            continue
        typer.echo(f"{outcome.evals} evaluation(s) of run {outcome.run_id} <- {outcome.path}")
        for warning in outcome.warnings:
            typer.echo(f"  warning: {warning}", err=True)
    if failed:
        raise typer.Exit(1)
