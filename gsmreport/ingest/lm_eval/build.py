"""One evaluation from a results/samples pair: our rows, counts and metrics (rebuilt from
lm-eval's means when there are no per-problem rows), its results.json, and the warnings where
our rescoring and lm-eval's scores part.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from gsmreport.core.runs import slugify
from gsmreport.gsm8k.answers import FILTERS
from gsmreport.gsm8k.scoring import counts_and_metrics
from gsmreport.ingest.lm_eval.files import ResultsFile, SamplesFile
from gsmreport.ingest.lm_eval.problems import problem_rows
from gsmreport.ingest.lm_eval.results import (
    created_at,
    filter_names,
    finite_number,
    hardware,
    max_new_tokens,
    model_args,
    model_name,
    n_effective,
    per_task,
    prompt_style,
    run_config,
    runtime,
    task_config,
    versions,
)
from gsmreport.ingest.source import ImportedEval

SOURCE: Final = "lm-eval"


_MAX_IDS = 5  # doc ids named in one warning


@dataclass
class Pair:
    """One evaluation: a task of a results file, its samples file, or both."""

    task: str | None
    stamp: str | None
    results: ResultsFile | None
    samples: SamplesFile | None

    @property
    def path(self) -> Path:
        source = self.samples or self.results
        assert source is not None, "a pair has results or samples"
        return source.path

    @property
    def data(self) -> dict[str, Any] | None:
        return self.results.data if self.results else None


def _raw(
    data: dict[str, Any] | None, task: str, results: ResultsFile | None, samples: SamplesFile | None
) -> dict[str, Any]:
    """lm-eval's own numbers for this task, as written, so every figure can be traced back."""
    run = run_config(data)
    raw: dict[str, Any] = {
        "task": task,
        "results": per_task(data, "results", task),
        "n-samples": per_task(data, "n-samples", task),
        "n-shot": per_task(data, "n-shot", task),
        "version": per_task(data, "versions", task),
        "model_args": run.get("model_args"),
        "limit": run.get("limit"),
        "lm_eval_version": data.get("lm_eval_version") if data else None,
        "total_evaluation_time_seconds": data.get("total_evaluation_time_seconds")
        if data
        else None,
        "results_file": str(results.path) if results else None,
        "samples_file": str(samples.path) if samples else None,
    }
    return {k: v for k, v in raw.items() if v is not None}


def _counts_from_lm_eval(
    data: dict[str, Any], task: str, where: Path, warnings: list[str]
) -> tuple[int, dict[str, dict[str, int]], dict[str, float]]:
    """Counts rebuilt from lm-eval's means when there are no per-problem rows."""
    numbers = per_task(data, "results", task) or {}
    n = n_effective(data, task) or 0
    counts: dict[str, dict[str, int]] = {}
    metrics: dict[str, float] = {}
    for name in FILTERS:
        em = finite_number(numbers.get(f"exact_match,{name}"))
        if em is None:
            continue
        stderr = finite_number(numbers.get(f"exact_match_stderr,{name}"))
        metrics[f"exact_match,{name}"] = em
        metrics[f"exact_match_stderr,{name}"] = (
            stderr if stderr is not None else ((em * (1 - em) / (n - 1)) ** 0.5 if n > 1 else 0.0)
        )
        if n:
            counts[name] = {"correct": round(em * n), "n": n}
    warnings.append(
        f"{where}: no per-problem rows for task {task} (no samples_{task}_*.jsonl beside it; "
        "lm-eval writes them with --log_samples); counts rebuilt as exact_match × n"
        + ("" if n else ", but n is unknown: no counts")
    )
    return n, counts, metrics


def _compare(
    rows: list[dict[str, Any]],
    data: dict[str, Any] | None,
    task: str,
    where: Path,
    warnings: list[str],
) -> None:
    """Say where our rescoring and lm-eval's own scores part (they should not)."""
    for name in FILTERS:
        differ = [
            r["doc_id"]
            for r in rows
            if name in r["lm_eval_exact_match"]
            and int(r["exact_match"][name]) != int(r["lm_eval_exact_match"][name])
        ]
        if differ:
            ids = ", ".join(str(d) for d in differ[:_MAX_IDS]) + (
                " …" if len(differ) > _MAX_IDS else ""
            )
            warnings.append(
                f"{where}: our {name} scoring differs from lm-eval's on {len(differ)} of "
                f"{len(rows)} problems (doc_id {ids}); counts are ours, lm-eval's are kept per row"
            )
    expected = n_effective(data, task)
    if expected is not None and expected != len(rows):
        warnings.append(
            f"{where}: {len(rows)} problems in the samples file, lm-eval's results say {expected}"
        )


def unique_eval_id(task: str | None, stamp: str | None, fallback: str, taken: set[str]) -> str:
    label = f"{task or 'samples'}-{stamp.split('.')[0]}" if stamp else fallback
    base = slugify(f"lm-eval-{label}", 64)
    eval_id, n = base, 1
    while eval_id in taken:
        n += 1
        eval_id = f"{base[:60]}-{n}"
    taken.add(eval_id)
    return eval_id


def _scored(
    pair: Pair, task: str, warnings: list[str]
) -> tuple[list[dict[str, Any]], int, dict[str, dict[str, int]], dict[str, float]]:
    """(our rows, n, counts, metrics): ours from the samples, else lm-eval's rebuilt."""
    data = pair.data
    if pair.samples is None:
        assert data is not None
        n, counts, metrics = _counts_from_lm_eval(data, task, pair.path, warnings)
        return [], n, counts, metrics
    rows = problem_rows(pair.samples.path, pair.samples.rows, filter_names(data, task))
    _compare(rows, data, task, pair.path, warnings)
    counts, metrics = counts_and_metrics(rows)
    return rows, len(rows), counts, metrics


def build(pair: Pair, eval_id: str, warnings: list[str]) -> ImportedEval:
    data, task = pair.data, pair.task or "gsm8k"
    rows, n, counts, metrics = _scored(pair, task, warnings)
    config = task_config(data, task)
    dataset = config.get("dataset_path")
    results = {
        "eval_id": eval_id,
        "source": SOURCE,
        "task": task,
        "model": model_name(data) if data else None,
        "adapter": model_args(run_config(data)).get("peft"),
        "n": n,
        "seed": None,  # lm-eval takes the first `limit` problems in order, not a random sample
        "split": config.get("test_split") or "test",
        "data": f"{dataset} ({config.get('dataset_name')})" if dataset else None,
        "prompt_style": prompt_style(data, task),
        "max_new_tokens": max_new_tokens(config),
        "results": {"gsm8k": metrics},
        "counts": counts,
        "runtime_s": runtime(data),
        "created_at": created_at(pair.stamp, data),
        "hardware": hardware(data),
        "versions": versions(data),
        "lm_eval": _raw(data, task, pair.results, pair.samples) | _their_means(rows),
    }
    return ImportedEval(eval_id, rows, results)


def _their_means(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """lm-eval's per-row scores averaged: its exact_match even without a results file."""
    if not rows:
        return {}
    names = sorted({k for r in rows for k in r["lm_eval_exact_match"]})
    means = {}
    for name in names:
        values = [r["lm_eval_exact_match"][name] for r in rows if name in r["lm_eval_exact_match"]]
        means[f"exact_match,{name}"] = sum(values) / len(values)
    return {"per_row_mean": means}
