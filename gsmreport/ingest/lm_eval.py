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
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gsmreport.core.runs import slugify
from gsmreport.gsm8k.answers import FILTERS
from gsmreport.gsm8k.scoring import counts_and_metrics, sample_row
from gsmreport.ingest.files import SourceError, load_json, read_text
from gsmreport.ingest.schema import empty_frame
from gsmreport.ingest.source import ImportedEval, SourceData

SOURCE: Final = "lm-eval"
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"
_STAMP_END_RE = re.compile(rf"({_STAMP})$")
# The last `samples_` in the name: shared copies carry a prefix (`repo__path_samples_…`).
_SAMPLES_RE = re.compile(rf"^(?:.*_)?samples_(?P<task>.+?)_(?P<stamp>{_STAMP})\.jsonl$")
_SAMPLE_KEYS = ("doc_id", "doc", "resps")
_RESULTS_MARKERS = ("configs", "config", "n-samples")
_MAX_IDS = 5  # doc ids named in one warning


@dataclass
class _Results:
    path: Path
    data: dict[str, Any]
    stamp: str | None


@dataclass
class _Samples:
    path: Path
    task: str | None
    stamp: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)  # lm-eval's, one per filter


@dataclass
class _Pair:
    """One evaluation: a task of a results file, its samples file, or both."""

    task: str | None
    stamp: str | None
    results: _Results | None
    samples: _Samples | None

    @property
    def path(self) -> Path:
        source = self.samples or self.results
        assert source is not None, "a pair has results or samples"
        return source.path

    @property
    def data(self) -> dict[str, Any] | None:
        return self.results.data if self.results else None


# --- recognising and loading files ---------------------------------------------------------


def is_results(data: Any) -> bool:
    """True for an lm-eval results object (whatever the file is called)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("results"), dict)
        and any(key in data for key in _RESULTS_MARKERS)
    )


def samples_name(path: Path) -> tuple[str, str] | None:
    """(task, timestamp) from `…samples_<task>_<timestamp>.jsonl`, or None."""
    match = _SAMPLES_RE.match(path.name)
    return (match["task"], match["stamp"]) if match else None


def _stamp(path: Path) -> str | None:
    match = _STAMP_END_RE.search(path.stem)
    return match.group(1) if match else None


def _load_results(path: Path) -> _Results:
    data = load_json(path)
    if not is_results(data):
        raise SourceError(
            f'{path}: not an lm-eval results file (no "results" with "configs", "config" or '
            '"n-samples"); point at lm-eval\'s results_*.json or samples_*.jsonl'
        )
    return _Results(path, data, _stamp(path))


def _parse_line(line: str, path: Path, lineno: int) -> dict[str, Any]:
    row = json.loads(line)  # JSONDecodeError is the caller's: it knows if the line is the last
    if not isinstance(row, dict) or any(key not in row for key in _SAMPLE_KEYS):
        raise SourceError(
            f"{path}: line {lineno} is not an lm-eval sample (needs {', '.join(_SAMPLE_KEYS)}); "
            "is it a samples_<task>_<timestamp>.jsonl written by lm-eval --log_samples?"
        )
    return row


def _load_samples(path: Path, warnings: list[str]) -> _Samples:
    """All rows; a cut-off last line (an interrupted write) is a warning, any other bad line
    means the file is not what it claims to be."""
    task, stamp = samples_name(path) or (None, None)
    out = _Samples(path, task, stamp)
    lines = [(n, line) for n, line in enumerate(read_text(path).splitlines(), 1) if line.strip()]
    for index, (lineno, line) in enumerate(lines):
        try:
            out.rows.append(_parse_line(line, path, lineno))
        except (json.JSONDecodeError, RecursionError) as exc:
            if index == len(lines) - 1 and out.rows:
                warnings.append(
                    f"{path}: last line ({lineno}) is cut off; kept the {len(out.rows)} rows "
                    "before it"
                )
                break
            raise SourceError(
                f"{path}: line {lineno} is not JSON ({exc}); is it an lm-eval samples_*.jsonl?"
            ) from exc
    return out


# --- finding the files ---------------------------------------------------------------------


def _siblings_json(path: Path, stamp: str) -> list[Path]:
    return sorted(p for p in path.parent.glob(f"*{stamp}.json") if p != path and p.is_file())


def _from_file(path: Path, warnings: list[str]) -> tuple[list[_Results], list[_Samples]]:
    """The file pointed at, plus its partner beside it (same timestamp) when there is one:
    lm-eval writes both into one folder, and a results file alone has no per-problem rows."""
    if path.suffix.lower() == ".jsonl":
        samples = _load_samples(path, warnings)
        partners = _siblings_json(path, samples.stamp) if samples.stamp else []
        return _quiet_results(partners), [samples]
    results = _load_results(path)
    partners = []
    if results.stamp:
        partners = [
            p for p in path.parent.glob(f"*samples_*{results.stamp}.jsonl") if samples_name(p)
        ]
    return [results], [_load_samples(p, warnings) for p in sorted(partners)]


def _quiet_results(paths: list[Path]) -> list[_Results]:
    """Results files among candidates found by name; anything else is passed over."""
    out = []
    for path in paths:
        try:
            out.append(_load_results(path))
        except SourceError:
            continue
    return out


def _from_folder(folder: Path, warnings: list[str]) -> tuple[list[_Results], list[_Samples]]:
    """Every results file (by content) and samples_<task>_<ts>.jsonl (by name) below `folder`."""
    try:
        jsons = sorted(p for p in folder.rglob("*.json") if p.is_file())
        jsonls = sorted(p for p in folder.rglob("*.jsonl") if p.is_file() and samples_name(p))
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from exc
    results: list[_Results] = []
    for path in jsons:
        try:
            results.append(_load_results(path))
        except SourceError as err:
            # Other JSON (configs, plots' data) is expected in a results folder; speak up
            # only when the file looks like lm-eval's by name.
            if _stamp(path) or path.name.startswith("results"):
                _skip_or_raise(err, warnings)
    samples: list[_Samples] = []
    for path in jsonls:
        try:
            samples.append(_load_samples(path, warnings))
        except SourceError as err:
            _skip_or_raise(err, warnings)
    return results, samples


def _skip_or_raise(err: SourceError, warnings: list[str]) -> None:
    """One bad file in a folder is skipped, except an LFS pointer: `git lfs pull` fixes it
    in one command, and importing without it would silently drop an evaluation."""
    if "git lfs pull" in str(err):
        raise err
    warnings.append(f"{err} (skipped)")


# --- one problem from lm-eval's per-filter rows --------------------------------------------


def _prompt(arguments: Any) -> str:
    """The prompt: `{"gen_args_0": {"arg_0": prompt, "arg_1": gen_kwargs}}` (0.4.3+) or
    `[[prompt, gen_kwargs]]` (older)."""
    first: Any = arguments
    if isinstance(first, dict):
        first = next(iter(first.values()), "")
    if isinstance(first, dict):
        first = first.get("arg_0", "")
    while isinstance(first, list | tuple) and first:
        first = first[0]
    return first if isinstance(first, str) else ""


def _response(resps: Any) -> str:
    """The raw generation, `resps[0][0]` (one request, one sample per problem for gsm8k)."""
    first: Any = resps
    while isinstance(first, list) and first:
        first = first[0]
    return first if isinstance(first, str) else ""


def _filter_name(row: dict[str, Any], index: int, known: list[str]) -> str:
    """`filter` since lm-eval 0.4.3; before it, rows came in the task's filter_list order."""
    name = row.get("filter")
    if isinstance(name, str):
        return name
    return known[index] if index < len(known) else f"filter-{index}"


def _number(value: Any) -> float | None:
    """A finite number, or None (bools, strings such as lm-eval's "N/A", NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _doc(rows: list[dict[str, Any]], doc_id: int, path: Path) -> dict[str, Any]:
    doc = rows[0]["doc"]
    if not isinstance(doc, dict) or not all(
        isinstance(doc.get(k), str) for k in ("question", "answer")
    ):
        raise SourceError(
            f"{path}: doc {doc_id} has no question/answer text; only GSM8K-style tasks "
            "(question, answer ending `#### n`) can be imported"
        )
    return {"doc_id": doc_id, "question": doc["question"], "answer": doc["answer"]}


def _by_doc(samples: _Samples) -> dict[int, list[dict[str, Any]]]:
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for row in samples.rows:
        raw = row["doc_id"]
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise SourceError(f"{samples.path}: doc_id {raw!r} is not a number")
        by_doc.setdefault(int(raw), []).append(row)
    return by_doc


def problem_rows(
    samples_path: Path, rows: list[dict[str, Any]], filters: list[str]
) -> list[dict[str, Any]]:
    """Our samples.jsonl rows, one per doc_id, from lm-eval's rows (one per filter per doc).

    `filters` names the filters in order, for files written before rows carried `filter`.
    """
    grouped = _by_doc(_Samples(samples_path, None, None, rows))
    out = []
    for doc_id in sorted(grouped):
        group = grouped[doc_id]
        first = group[0]
        row = sample_row(
            _doc(group, doc_id, samples_path),
            _prompt(first.get("arguments")),
            _response(first.get("resps")),
            n_tokens=None,
            truncated=None,
        )
        theirs = {
            _filter_name(r, i, filters): _number(r.get("exact_match")) for i, r in enumerate(group)
        }
        row["lm_eval_exact_match"] = {k: v for k, v in theirs.items() if v is not None}
        out.append(row)
    return out


# --- results.json in our shape -------------------------------------------------------------


def _task_config(data: dict[str, Any] | None, task: str) -> dict[str, Any]:
    configs = data.get("configs") if data else None
    config = configs.get(task) if isinstance(configs, dict) else None
    return config if isinstance(config, dict) else {}


def _per_task(data: dict[str, Any] | None, key: str, task: str) -> Any:
    block = data.get(key) if data else None
    return block.get(task) if isinstance(block, dict) else None


def _model_args(config: dict[str, Any]) -> dict[str, str]:
    """`pretrained=microsoft/Phi-3-mini-4k-instruct,dtype=float16` (or a dict, newer)."""
    raw = config.get("model_args")
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if not isinstance(raw, str):
        return {}
    pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {k.strip(): v.strip() for k, v in pairs}


def _run_config(data: dict[str, Any] | None) -> dict[str, Any]:
    config = data.get("config") if data else None
    return config if isinstance(config, dict) else {}


def model_name(data: dict[str, Any]) -> str | None:
    """The model evaluated: `pretrained=` (HF, vLLM) or `model=` (APIs) of model_args, else
    lm-eval's own `model_name` (config.model is the backend, e.g. "hf", not a model)."""
    args = _model_args(_run_config(data))
    for candidate in (args.get("pretrained"), args.get("model"), data.get("model_name")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _n_shot(data: dict[str, Any] | None, task: str) -> int | None:
    n_shot = _per_task(data, "n-shot", task)
    if n_shot is None:
        n_shot = _task_config(data, task).get("num_fewshot")
    return _int(n_shot)


def _n_effective(data: dict[str, Any] | None, task: str) -> int | None:
    block = _per_task(data, "n-samples", task)
    return _int(block.get("effective") if isinstance(block, dict) else None)


def _prompt_style(data: dict[str, Any] | None, task: str) -> str:
    n_shot = _n_shot(data, task)
    style = "lm-eval" if n_shot is None else f"lm-eval {n_shot}-shot"
    return f"{style} chat" if data and data.get("chat_template") else style


def _created_at(stamp: str | None, data: dict[str, Any] | None) -> str | None:
    """lm-eval's file timestamp (local time of its machine, no zone), else its `date`."""
    try:
        if stamp:
            return dt.datetime.strptime(stamp.split(".")[0], "%Y-%m-%dT%H-%M-%S").isoformat()
        date = _number(data.get("date")) if data else None
        return (
            dt.datetime.fromtimestamp(date, dt.UTC).isoformat(timespec="seconds") if date else None
        )
    except (ValueError, OverflowError, OSError):  # a stamp-shaped name that is no date
        return None


def _hardware(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """Device from lm-eval's config; the GPU's name from the `GPU <i>: …` line of its env."""
    device = str(_run_config(data).get("device") or "")
    kind, _, index = device.partition(":")
    if not kind:
        return None
    if kind != "cuda":
        return {"device": kind, "device_name": "CPU" if kind == "cpu" else device, "count": 1}
    env = str(data.get("pretty_env_info") or "") if data else ""
    match = re.search(rf"^GPU {re.escape(index or '0')}: (.+)$", env, re.MULTILINE)
    name = match.group(1).strip() if match else "GPU (name not recorded)"
    return {"device": "cuda", "device_name": name, "count": 1}


def _versions(data: dict[str, Any] | None) -> dict[str, str]:
    keys = {"lm_eval": "lm_eval_version", "transformers": "transformers_version"}
    return {name: str(data[key]) for name, key in keys.items() if data and data.get(key)}


def _raw(
    data: dict[str, Any] | None, task: str, results: _Results | None, samples: _Samples | None
) -> dict[str, Any]:
    """lm-eval's own numbers for this task, as written, so every figure can be traced back."""
    run = _run_config(data)
    raw: dict[str, Any] = {
        "task": task,
        "results": _per_task(data, "results", task),
        "n-samples": _per_task(data, "n-samples", task),
        "n-shot": _per_task(data, "n-shot", task),
        "version": _per_task(data, "versions", task),
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


def _runtime(data: dict[str, Any] | None) -> float | None:
    raw = data.get("total_evaluation_time_seconds") if data else None
    try:
        return round(float(raw), 3) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _counts_from_lm_eval(
    data: dict[str, Any], task: str, where: Path, warnings: list[str]
) -> tuple[int, dict[str, dict[str, int]], dict[str, float]]:
    """Counts rebuilt from lm-eval's means when there are no per-problem rows."""
    numbers = _per_task(data, "results", task) or {}
    n = _n_effective(data, task) or 0
    counts: dict[str, dict[str, int]] = {}
    metrics: dict[str, float] = {}
    for name in FILTERS:
        em = _number(numbers.get(f"exact_match,{name}"))
        if em is None:
            continue
        stderr = _number(numbers.get(f"exact_match_stderr,{name}"))
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
    expected = _n_effective(data, task)
    if expected is not None and expected != len(rows):
        warnings.append(
            f"{where}: {len(rows)} problems in the samples file, lm-eval's results say {expected}"
        )


def _eval_id(task: str | None, stamp: str | None, fallback: str, taken: set[str]) -> str:
    label = f"{task or 'samples'}-{stamp.split('.')[0]}" if stamp else fallback
    base = slugify(f"lm-eval-{label}", 64)
    eval_id, n = base, 1
    while eval_id in taken:
        n += 1
        eval_id = f"{base[:60]}-{n}"
    taken.add(eval_id)
    return eval_id


def _filter_names(data: dict[str, Any] | None, task: str) -> list[str]:
    listed = _task_config(data, task).get("filter_list")
    names = (
        [f.get("name") for f in listed if isinstance(f, dict)] if isinstance(listed, list) else []
    )
    return [n for n in names if isinstance(n, str)]


def _scored(
    pair: _Pair, task: str, warnings: list[str]
) -> tuple[list[dict[str, Any]], int, dict[str, dict[str, int]], dict[str, float]]:
    """(our rows, n, counts, metrics): ours from the samples, else lm-eval's rebuilt."""
    data = pair.data
    if pair.samples is None:
        assert data is not None
        n, counts, metrics = _counts_from_lm_eval(data, task, pair.path, warnings)
        return [], n, counts, metrics
    rows = problem_rows(pair.samples.path, pair.samples.rows, _filter_names(data, task))
    _compare(rows, data, task, pair.path, warnings)
    counts, metrics = counts_and_metrics(rows)
    return rows, len(rows), counts, metrics


def _build(pair: _Pair, eval_id: str, warnings: list[str]) -> ImportedEval:
    data, task = pair.data, pair.task or "gsm8k"
    rows, n, counts, metrics = _scored(pair, task, warnings)
    config = _task_config(data, task)
    dataset = config.get("dataset_path")
    results = {
        "eval_id": eval_id,
        "source": SOURCE,
        "task": task,
        "model": model_name(data) if data else None,
        "adapter": _model_args(_run_config(data)).get("peft"),
        "n": n,
        "seed": None,  # lm-eval takes the first `limit` problems in order, not a random sample
        "split": config.get("test_split") or "test",
        "data": f"{dataset} ({config.get('dataset_name')})" if dataset else None,
        "prompt_style": _prompt_style(data, task),
        "max_new_tokens": _max_new_tokens(config),
        "results": {"gsm8k": metrics},
        "counts": counts,
        "runtime_s": _runtime(data),
        "created_at": _created_at(pair.stamp, data),
        "hardware": _hardware(data),
        "versions": _versions(data),
        "lm_eval": _raw(data, task, pair.results, pair.samples) | _their_means(rows),
    }
    return ImportedEval(eval_id, rows, results)


def _max_new_tokens(config: dict[str, Any]) -> int | None:
    kwargs = config.get("generation_kwargs")
    return _int(kwargs.get("max_gen_toks") if isinstance(kwargs, dict) else None)


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


# --- pairing --------------------------------------------------------------------------------


def _gsm8k_like(data: dict[str, Any], task: str) -> bool:
    numbers = _per_task(data, "results", task)
    return isinstance(numbers, dict) and any(str(k).startswith("exact_match,") for k in numbers)


def _gsm8k_docs(samples: _Samples) -> bool:
    doc = samples.rows[0].get("doc") if samples.rows else None
    return isinstance(doc, dict) and all(
        isinstance(doc.get(k), str) for k in ("question", "answer")
    )


def _pairs(results: list[_Results], samples: list[_Samples], skipped: list[str]) -> list[_Pair]:
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
    pairs: list[_Pair] = []
    for result in results:
        for task in sorted(result.data["results"]):
            if not _gsm8k_like(result.data, task):
                skipped.append(f"{result.path}: task {task} has no exact_match; not GSM8K-style")
                continue
            partner = by_key.get((task, result.stamp)) if result.stamp else None
            if partner is not None:
                used.add(id(partner))
            pairs.append(_Pair(task, result.stamp, result, partner))
    pairs += [_Pair(s.task, s.stamp, None, s) for s in usable if id(s) not in used]
    return pairs


def read(path: Path) -> SourceData:
    """An lm-eval results file, samples file, or a folder of them, as evaluations."""
    warnings: list[str] = []
    if path.is_dir():
        results, samples = _from_folder(path, warnings)
    else:
        results, samples = _from_file(path, warnings)
    skipped: list[str] = []
    pairs = _pairs(results, samples, skipped)
    if not pairs:
        reason = skipped[0] if skipped else f"{path}: no results JSON or samples_*.jsonl in it"
        raise SourceError(f"{reason}; only lm-eval GSM8K-style evaluations can be imported")
    warnings.extend(f"{why}, skipped" for why in skipped)
    taken: set[str] = set()
    evals = [_build(p, _eval_id(p.task, p.stamp, p.path.stem, taken), warnings) for p in pairs]
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


def _newest_config(results: list[_Results]) -> dict[str, Any]:
    """lm-eval's run config (backend, model_args, batch size, seeds) of the newest results."""
    if not results:
        return {}
    newest = max(results, key=lambda r: (r.stamp or "", str(r.path)))
    config = _run_config(newest.data)
    return {"lm_eval": config} if config else {}


__all__ = ["is_results", "model_name", "problem_rows", "read", "samples_name"]
