"""Read lm-evaluation-harness output into our evaluations (DESIGN.md, "Evaluation rows").

lm-eval writes, per run, one results JSON (`results_<ts>.json`, often renamed; known by its
keys: `results` plus `configs`/`config`/`n-samples`) and, with `--log_samples`, one
`samples_<task>_<ts>.jsonl` per task. The two are paired by task and timestamp `<ts>`.

A samples file holds one row *per filter* per problem (`filter`: strict-match,
flexible-extract), each with lm-eval's own `exact_match`. We fold them into one of our rows
per problem, rescored by our filters (`scoring.sample_row`, so an imported evaluation and
one we ran are the same rows), and keep lm-eval's scores beside ours as
`lm_eval_exact_match: {filter: value}`; a disagreement between the two is a warning.
A results file without samples still counts: correct = round(exact_match × n).

The package, in the order a file goes through it: files.py (find and load), build.py (one
evaluation: problems.py folds the samples rows, results.py reads the results JSON), and here
the pairing of results with samples and `read`, the one entry point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gsmreport.ingest.files import SourceError
from gsmreport.ingest.lm_eval.build import Pair, build, unique_eval_id
from gsmreport.ingest.lm_eval.files import (
    ResultsFile,
    SamplesFile,
    from_file,
    from_folder,
    is_results,
    samples_name,
)
from gsmreport.ingest.lm_eval.problems import problem_rows
from gsmreport.ingest.lm_eval.results import model_name, per_task, run_config
from gsmreport.ingest.schema import empty_frame
from gsmreport.ingest.source import ImportedEval, SourceData


def _gsm8k_like(data: dict[str, Any], task: str) -> bool:
    numbers = per_task(data, "results", task)
    return isinstance(numbers, dict) and any(str(k).startswith("exact_match,") for k in numbers)


def _gsm8k_docs(samples: SamplesFile) -> bool:
    doc = samples.rows[0].get("doc") if samples.rows else None
    return isinstance(doc, dict) and all(
        isinstance(doc.get(k), str) for k in ("question", "answer")
    )


def _pairs(
    results: list[ResultsFile], samples: list[SamplesFile], skipped: list[str]
) -> list[Pair]:
    """Each GSM8K-style task of each results file with its samples; leftover samples alone.

    Other tasks (an lm-eval run often has several) are skipped, each with its reason.
    """
    usable = []
    for item in samples:
        if _gsm8k_docs(item):
            usable.append(item)
        else:
            skipped.append(f"{item.path}: its docs have no question/answer text; not GSM8K-style")
    by_key = {(s.task, s.stamp): s for s in usable if s.task and s.stamp}
    used: set[int] = set()
    pairs: list[Pair] = []
    for result in results:
        for task in sorted(result.data["results"]):
            if not _gsm8k_like(result.data, task):
                skipped.append(f"{result.path}: task {task} has no exact_match; not GSM8K-style")
                continue
            partner = by_key.get((task, result.stamp)) if result.stamp else None
            if partner is not None:
                used.add(id(partner))
            pairs.append(Pair(task, result.stamp, result, partner))
    pairs += [Pair(s.task, s.stamp, None, s) for s in usable if id(s) not in used]
    return pairs


def read(path: Path) -> SourceData:
    """An lm-eval results file, samples file, or a folder of them, as evaluations."""
    warnings: list[str] = []
    if path.is_dir():
        results, samples = from_folder(path, warnings)
    else:
        results, samples = from_file(path, warnings)
    skipped: list[str] = []
    pairs = _pairs(results, samples, skipped)
    if not pairs:
        reason = skipped[0] if skipped else f"{path}: no results JSON or samples_*.jsonl in it"
        raise SourceError(f"{reason}; only lm-eval GSM8K-style evaluations can be imported")
    warnings.extend(f"{why}, skipped" for why in skipped)
    taken: set[str] = set()
    evals = [build(p, unique_eval_id(p.task, p.stamp, p.path.stem, taken), warnings) for p in pairs]
    evals.sort(key=lambda e: (e.results.get("created_at") or "", e.eval_id))
    return SourceData(
        kind="lm_eval",
        path=path,
        frame=empty_frame(),
        warnings=warnings,
        config=_newest_config(results),
        model=_newest_model(evals, path, warnings),
        hardware=_newest(evals, "hardware"),
        evals=evals,
    )


def _newest(evals: list[ImportedEval], key: str) -> Any:
    values = [e.results.get(key) for e in evals if e.results.get(key)]
    return values[-1] if values else None


def _newest_model(evals: list[ImportedEval], path: Path, warnings: list[str]) -> str | None:
    models = {str(e.results["model"]) for e in evals if e.results.get("model")}
    newest = _newest(evals, "model")
    newest = str(newest) if newest else None
    if len(models) > 1:
        warnings.append(
            f"{path}: evaluations of {len(models)} models ({', '.join(sorted(models))}); the run "
            f"is labelled {newest}, each evaluation keeps its own model"
        )
    return newest


def _newest_config(results: list[ResultsFile]) -> dict[str, Any]:
    """lm-eval's run config (backend, model_args, batch size, seeds) of the newest results."""
    if not results:
        return {}
    newest = max(results, key=lambda r: (r.stamp or "", str(r.path)))
    config = run_config(newest.data)
    return {"lm_eval": config} if config else {}


__all__ = ["is_results", "model_name", "problem_rows", "read", "samples_name"]
