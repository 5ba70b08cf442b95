"""lm-eval's output files: recognising them (results JSON by its keys, samples JSONL by its
name), loading them, and finding a file's partner or every file below a folder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsmreport.ingest.files import SourceError, load_json, read_text

_STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?"


_STAMP_END_RE = re.compile(rf"({_STAMP})$")


# The last `samples_` in the name: shared copies carry a prefix (`repo__path_samples_…`).
_SAMPLES_RE = re.compile(rf"^(?:.*_)?samples_(?P<task>.+?)_(?P<stamp>{_STAMP})\.jsonl$")


_SAMPLE_KEYS = ("doc_id", "doc", "resps")


_RESULTS_MARKERS = ("configs", "config", "n-samples")


@dataclass
class ResultsFile:
    path: Path
    data: dict[str, Any]
    stamp: str | None


@dataclass
class SamplesFile:
    path: Path
    task: str | None
    stamp: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)  # lm-eval's, one per filter


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


def _load_results(path: Path) -> ResultsFile:
    data = load_json(path)
    if not is_results(data):
        raise SourceError(
            f'{path}: not an lm-eval results file (no "results" with "configs", "config" or '
            '"n-samples"); point at lm-eval\'s results_*.json or samples_*.jsonl'
        )
    return ResultsFile(path, data, _stamp(path))


def _parse_line(line: str, path: Path, lineno: int) -> dict[str, Any]:
    row = json.loads(line)  # JSONDecodeError is the caller's: it knows if the line is the last
    if not isinstance(row, dict) or any(key not in row for key in _SAMPLE_KEYS):
        raise SourceError(
            f"{path}: line {lineno} is not an lm-eval sample (needs {', '.join(_SAMPLE_KEYS)}); "
            "is it a samples_<task>_<timestamp>.jsonl written by lm-eval --log_samples?"
        )
    return row


def _load_samples(path: Path, warnings: list[str]) -> SamplesFile:
    """All rows; a cut-off last line (an interrupted write) is a warning, any other bad line
    means the file is not what it claims to be."""
    task, stamp = samples_name(path) or (None, None)
    out = SamplesFile(path, task, stamp)
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


def from_file(path: Path, warnings: list[str]) -> tuple[list[ResultsFile], list[SamplesFile]]:
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


def _quiet_results(paths: list[Path]) -> list[ResultsFile]:
    """Results files among candidates found by name; anything else is passed over."""
    out = []
    for path in paths:
        try:
            out.append(_load_results(path))
        except SourceError:
            continue
    return out


def from_folder(folder: Path, warnings: list[str]) -> tuple[list[ResultsFile], list[SamplesFile]]:
    """Every results file (by content) and samples_<task>_<ts>.jsonl (by name) below `folder`."""
    try:
        jsons = sorted(p for p in folder.rglob("*.json") if p.is_file())
        jsonls = sorted(p for p in folder.rglob("*.jsonl") if p.is_file() and samples_name(p))
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from exc
    results: list[ResultsFile] = []
    for path in jsons:
        try:
            results.append(_load_results(path))
        except SourceError as err:
            # Other JSON (configs, plots' data) is expected in a results folder; speak up
            # only when the file looks like lm-eval's by name.
            if _stamp(path) or path.name.startswith("results"):
                _skip_or_raise(err, warnings)
    samples: list[SamplesFile] = []
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
