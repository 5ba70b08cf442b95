"""Decide what kind of log each path is, and which runs a folder holds.

Detection is by name first (cheap and what users expect: `*.wandb`, `events.out.tfevents.*`,
`trainer_state.json`, `trainer_log.jsonl`), then by content for the files people rename
(`X__trainer_state.json`, lm-eval's `<model>_<timestamp>.json`). A folder that is itself one
run (a W&B run folder, a checkpoint or output folder, a TensorBoard log dir, an lm-eval output
folder) is one source; anything else is searched only with `recursive`.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from gsmreport.ingest.files import LFS_HEADER, SourceError
from gsmreport.ingest.mlflow_run import MlflowRef, file_store_uri, is_file_store
from gsmreport.ingest.source import SourceKind

# Enough of a file to tell an lm-eval results file from a trainer_state.json by its keys;
# both put their identifying key near the top.
_SNIFF_BYTES = 256 * 1024
_CHECKPOINT_RE = re.compile(r"^checkpoint-\d+$")
_WANDB_RUN_RE = re.compile(r"^(offline-)?run-\d{8}_\d{6}-[A-Za-z0-9]+$")

KNOWN = (
    "expected a trainer_state.json or checkpoint folder, a .wandb file or W&B run folder, "
    "TensorBoard events.out.tfevents.* files, a LLaMA-Factory trainer_log.jsonl, lm-eval "
    "results/samples files, an MLflow mlruns/ folder, a predictions file (question, gold, "
    "response), or a CSV/JSONL with --map"
)


@dataclass(frozen=True)
class Found:
    kind: SourceKind
    path: Path
    # TensorBoard only: the event files of one run when a log dir holds several runs
    # (HF reuses one `logging_dir` across launches, so each launch adds a file beside the last).
    files: tuple[Path, ...] = ()
    mlflow: MlflowRef | None = None  # MLflow only: which run of the store or tracking URI

    @property
    def key(self) -> str:
        """What makes a source the same source next time: its path (and first event file)."""
        if self.mlflow is not None:
            return f"{self.mlflow.uri}#{self.mlflow.run_id}"
        return self.key_at(str(self.path.resolve()))

    def key_at(self, resolved: str) -> str:
        """`key`, given this path resolved (source_keys resolves many at once)."""
        return f"{resolved}#{self.files[0].name}" if self.files else resolved


def source_keys(items: Sequence[Found]) -> list[str]:
    """Each item's `key`, resolving each parent folder once: a path's realpath costs a stat
    per component, and the runs of one search share all but the last (10,000 runs: 0.77 s
    for a resolve each). A name that is a symlink, or not a plain name, is resolved whole."""
    parents: dict[Path, str] = {}
    keys: list[str] = []
    for item in items:
        path = item.path
        if item.mlflow is not None or path.name in ("", ".", "..") or _maybe_link(path):
            keys.append(item.key)
            continue
        parent = parents.get(path.parent)
        if parent is None:
            parent = parents[path.parent] = str(path.parent.resolve())
        keys.append(item.key_at(os.path.join(parent, path.name)))
    return keys


def _maybe_link(path: Path) -> bool:
    try:
        return path.is_symlink()
    except OSError:  # cannot tell: resolve it whole, as `key` does
        return True


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SNIFF_BYTES)
    except PermissionError as exc:
        raise SourceError(f"{path}: permission denied (check the file's read permission)") from exc
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _first_line(head: bytes) -> bytes:
    for line in head.splitlines():
        if line.strip():
            return line
    return b""


def _by_name(name: str) -> SourceKind | None:
    if name.endswith(".wandb"):
        return "wandb"
    if "tfevents" in name:
        return "tensorboard"
    if name.endswith(".json") and "trainer_state" in name:
        return "trainer_state"
    if name.endswith(".jsonl") and "trainer_log" in name:
        return "llamafactory"
    if _lm_eval_samples(name) and "trainer_log" not in name:
        return "lm_eval"
    return None


def _by_content(path: Path, head: bytes, *, mapped: bool) -> SourceKind | None:
    suffix = path.suffix.lower()
    if suffix == ".json":
        if b'"log_history"' in head:
            return "trainer_state"
        if b'"results"' in head and (b'"n-samples"' in head or b'"configs"' in head):
            return "lm_eval"
        return "predictions" if mapped or _predictions_json(path, head) else None
    if suffix == ".jsonl":
        line = _first_line(head)
        if b'"current_steps"' in line:
            return "llamafactory"
        if b'"doc_id"' in line and b'"resps"' in line:
            return "lm_eval"
        if _predictions_record(line):
            return "predictions"
        return "csv" if mapped else None
    if suffix in (".csv", ".tsv"):
        return "predictions" if _predictions_header(head, suffix) else "csv"
    return None


# A predictions file (one generated answer per problem) is known by its field names: a
# question, a gold answer and a response under the names ingest/predictions.py looks for.


def _fields_hint(path: Path, head: bytes) -> str:
    """For a JSONL of records none of our readers knows: its field names, and how to name the
    ones a predictions file needs."""
    if path.suffix.lower() != ".jsonl":
        return ""
    try:
        record = json.loads(_first_line(head))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    if not isinstance(record, dict) or not record:
        return ""
    names = ", ".join(list(record)[:12])
    return (
        f"; fields found: {names}; for a predictions file name them with "
        "--map question=FIELD,gold=FIELD,response=FIELD"
    )


def _predictions_record(line: bytes) -> bool:
    from gsmreport.ingest.predictions import looks_like_predictions

    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False  # a first line longer than the sniffed bytes, or not JSON
    return isinstance(record, dict) and looks_like_predictions(record)


def _predictions_json(path: Path, head: bytes) -> bool:
    from gsmreport.ingest.predictions import CANDIDATES, load_records, looks_like_predictions

    if not any(f'"{name}"'.encode() in head for name in CANDIDATES["question"]):
        return False  # parse only what may be one (a folder holds configs, tokenizers …)
    try:
        records = load_records(path)
    except SourceError:
        return False
    return looks_like_predictions(records[0])


def _predictions_header(head: bytes, suffix: str) -> bool:
    from gsmreport.ingest.predictions import looks_like_predictions

    line = _first_line(head).decode("utf-8", "replace")
    names = next(csv.reader([line], delimiter="\t" if suffix == ".tsv" else ","), [])
    return looks_like_predictions(dict.fromkeys(names, ""))


def detect_file(path: Path, *, mapped: bool = False) -> Found:
    """The kind of one file; SourceError (one line) when it is none we read."""
    head = _head(path)
    if not head.strip():
        raise SourceError(f"{path}: empty file")
    if head.startswith(LFS_HEADER):
        raise SourceError(f"{path}: is a Git LFS pointer, not the file: run `git lfs pull`")
    kind = _by_name(path.name) or _by_content(path, head, mapped=mapped)
    if kind is None:
        raise SourceError(
            f"{path}: not a log gsmreport can read ({KNOWN}){_fields_hint(path, head)}"
        )
    return Found(kind, path)


@dataclass(frozen=True)
class _Entry:
    name: str
    is_dir: bool  # a folder, not through a symlink
    is_symlink: bool


def _listing(folder: Path) -> list[_Entry]:
    """A folder's entries, by name, in one scandir: their types come with the listing (no
    stat each), and every check below reads it rather than listing the folder again. One
    SourceError line when the folder cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            found = [_Entry(e.name, _is_dir(e), e.is_symlink()) for e in entries]
    except PermissionError as exc:
        raise SourceError(f"{folder}: permission denied (check the folder's permissions)") from exc
    except OSError as exc:
        raise SourceError(f"{folder}: cannot list ({exc.strerror or exc})") from exc
    return sorted(found, key=attrgetter("name"))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_wandb_run(folder: Path, names: set[str]) -> bool:
    return bool(fnmatch.filter(names, "run-*.wandb")) or (
        "files" in names and (folder / "files" / "wandb-summary.json").is_file()
    )


def _wandb_runs(folder: Path, listing: list[_Entry]) -> list[Path]:
    """Run folders in a `wandb/` folder (or a folder holding one); `latest-run` is a symlink."""
    root = folder
    if any(e.name == "wandb" for e in listing) and (folder / "wandb").is_dir():
        root = folder / "wandb"
        try:
            listing = _listing(root)
        except SourceError:
            return []
    return [root / e.name for e in listing if _WANDB_RUN_RE.match(e.name) and not e.is_symlink]


def mlflow_sources(uri: str, path: Path, experiment: str | None = None) -> list[Found]:
    """One source per MLflow run at `uri` (of `experiment` when given); SourceError for none."""
    from gsmreport.ingest.mlflow_run import list_runs

    runs = list_runs(uri, experiment)
    if not runs:
        within = f" in experiment {experiment!r}" if experiment else ""
        raise SourceError(f"{uri}: no MLflow runs{within}")
    return [Found("mlflow", path, mlflow=ref) for ref in runs]


def _detect_listed(folder: Path, listing: list[_Entry], experiment: str | None) -> list[Found]:
    """The sources a folder *is*, from its listing, without searching below it; [] when it
    is none of them."""
    names = {e.name for e in listing}
    # What `*/meta.yaml` would match: folders, symlinked ones too, not hidden ones.
    subfolders = [e.name for e in listing if (e.is_dir or e.is_symlink) and e.name[0] != "."]
    if is_file_store(folder, subfolders):
        return mlflow_sources(file_store_uri(folder), folder, experiment)
    if _is_wandb_run(folder, names):
        return [Found("wandb", folder)]
    runs = _wandb_runs(folder, listing)
    if runs:
        return [Found("wandb", run) for run in runs]
    checkpoints = [n for n in names if _CHECKPOINT_RE.match(n)]
    if "trainer_state.json" in names or any(
        (folder / n / "trainer_state.json").is_file() for n in checkpoints
    ):
        return [Found("trainer_state", folder)]
    if "trainer_log.jsonl" in names:
        return [Found("llamafactory", folder / "trainer_log.jsonl")]
    # Only files named as TensorBoard names them make a log dir; a renamed copy is a loose file.
    if any(n.startswith("events.out.tfevents") for n in names):
        return _tensorboard_runs(folder)
    if any(_lm_eval_samples(n) for n in names):
        return [Found("lm_eval", folder)]
    return []


def _lm_eval_samples(name: str) -> bool:
    # lm-eval names them samples_<task>_<timestamp>.jsonl; copies often carry a prefix.
    return name.endswith(".jsonl") and "samples_" in name


def _tensorboard_runs(folder: Path) -> list[Found]:
    """One source per run in the log dir; the whole folder when it is one run."""
    from gsmreport.ingest.tensorboard import group_event_files

    try:
        groups = group_event_files(folder)
    except SourceError:
        return [Found("tensorboard", folder)]  # the reader will say what is wrong
    if len(groups) <= 1:
        return [Found("tensorboard", folder)]
    return [Found("tensorboard", folder, tuple(group)) for group in groups]


def _loose_files(folder: Path, listing: list[_Entry], *, mapped: bool) -> list[Found | SourceError]:
    """Each recognisable file directly in `folder`; unrecognised ones are quietly passed over
    (a results folder holds READMEs and plots), but a recognised-by-name file that is broken
    (an LFS pointer named trainer_state.json) is reported."""
    out: list[Found | SourceError] = []
    for entry in listing:
        child = folder / entry.name
        if entry.is_dir or not child.is_file():
            continue
        try:
            out.append(detect_file(child, mapped=mapped))
        except SourceError as err:
            if _by_name(child.name) is not None or child.suffix.lower() in (".json", ".jsonl"):
                out.append(err)
    return out


def discover(
    path: Path, *, recursive: bool = False, mapped: bool = False, experiment: str | None = None
) -> list[Found | SourceError]:
    """Every source under one user-given path; per-item SourceErrors instead of raising,
    so one bad file never hides the good ones beside it. A path with nothing to read is one
    error; a subfolder found by the recursive search with nothing in it (plots, a README
    folder) is passed over, as a file that is not a log is."""
    found = _search(path, recursive=recursive, mapped=mapped, experiment=experiment)
    if not found:
        hint = "" if recursive else " (use --recursive to search its subfolders)"
        return [SourceError(f"{path}: no log gsmreport can read in this folder{hint}")]
    return found


def _search(
    path: Path, *, recursive: bool, mapped: bool, experiment: str | None
) -> list[Found | SourceError]:
    if not path.exists() and not path.is_symlink():
        return [SourceError(f"{path}: no such file or folder")]
    if path.is_file():
        try:
            return [detect_file(path, mapped=mapped)]
        except SourceError as err:
            return [err]
    try:
        listing = _listing(path)
        own = _detect_listed(path, listing, experiment)
        if own:
            return list(own)
        found = _loose_files(path, listing, mapped=mapped)
    except SourceError as err:
        return [err]
    except OSError as exc:
        # Probing names inside a folder we may not enter (mode 000 as a non-root user) raises
        # from Path.is_file(); that folder is one bad source, never the end of the search.
        return [_unreadable(path, exc)]
    if recursive:
        for entry in listing:
            if entry.is_dir and not entry.name.startswith("."):
                sub = path / entry.name
                found.extend(_search(sub, recursive=True, mapped=mapped, experiment=experiment))
    return found


def _unreadable(path: Path, exc: OSError) -> SourceError:
    if isinstance(exc, PermissionError):
        return SourceError(f"{path}: permission denied (check the folder's permissions)")
    return SourceError(f"{path}: cannot read ({exc.strerror or exc})")


def default_name(found: Found) -> str:
    """A run name from the path alone (so ids can be given out before any file is parsed)."""
    path = found.path
    if found.mlflow is not None:
        return f"mlflow-{found.mlflow.name}"
    if found.kind == "wandb":
        folder = path.parent if path.is_file() else path
        match = re.search(r"-([A-Za-z0-9]+)$", folder.name)
        return f"wandb-{match.group(1)}" if match else f"wandb-{folder.name}"
    if found.files:  # one run of a shared TensorBoard log dir: name it by its first file
        stamp = found.files[0].name.split(".")[3:4]
        return f"{path.name}-{stamp[0]}" if stamp else path.name
    if path.is_dir():
        return path.name if not _CHECKPOINT_RE.match(path.name) else path.parent.name
    stem = path.name
    for noise in (".jsonl", ".json", ".csv", ".tsv", "trainer_state", "trainer_log"):
        stem = stem.replace(noise, "")
    stem = stem.strip("_-. ")
    if not stem or stem.startswith("events.out"):
        parent = path.parent
        stem = parent.parent.name if _CHECKPOINT_RE.match(parent.name) else parent.name
    return f"{stem}"


__all__ = [
    "KNOWN",
    "Found",
    "default_name",
    "detect_file",
    "discover",
    "mlflow_sources",
    "source_keys",
]
