"""Find the W&B run folders and the `.wandb` log a user's path points at."""

from __future__ import annotations

import re
from pathlib import Path

from gsmreport.ingest.files import SourceError

_RUN_DIR_RE = re.compile(r"^(offline-)?run-\d{8}_\d{6}-.+$")
LEGACY_FILES = ("wandb-history.jsonl", "wandb-summary.json", "config.yaml", "wandb-metadata.json")


def find_runs(folder: Path) -> list[Path]:
    """Run folders (`run-*`, `offline-run-*`) in a `wandb/` folder or a folder holding one.

    A run folder itself gives [folder]. `latest-run` (a symlink to one of the others) and
    files such as `debug.log` are skipped. Sorted oldest first (the names carry the start time).
    """
    if not folder.is_dir():
        raise SourceError(
            f"{folder}: no such folder (expected a wandb/ folder or a W&B run folder)"
        )
    if _is_run_dir(folder):
        return [folder]
    runs: list[Path] = []
    for parent in (folder, folder / "wandb"):
        runs.extend(_run_dirs_in(parent))
    return sorted(set(runs), key=lambda p: (p.name.removeprefix("offline-"), str(p)))


def _run_dirs_in(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    try:
        children = list(parent.iterdir())
    except OSError as exc:
        raise SourceError(f"{parent}: cannot list the folder ({exc.strerror or exc})") from exc
    return [
        child
        for child in children
        if _RUN_DIR_RE.match(child.name) and child.is_dir() and not child.is_symlink()
    ]


def _is_run_dir(folder: Path) -> bool:
    return any(folder.glob("*.wandb")) or any(
        (folder / "files" / name).is_file() for name in LEGACY_FILES
    )


def _wandb_file_in(run_dir: Path, warnings: list[str]) -> Path | None:
    candidates = sorted(run_dir.glob("*.wandb"))
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    # Not seen in practice; prefer the file named after the folder's run id.
    run_id = run_dir.name.rsplit("-", 1)[-1]
    chosen = next((c for c in candidates if c.name == f"run-{run_id}.wandb"), candidates[-1])
    warnings.append(f"{run_dir}: {len(candidates)} .wandb files; read {chosen.name} only")
    return chosen


def locate(path: Path, warnings: list[str]) -> tuple[Path | None, Path | None]:
    """(run folder, .wandb file) for a path that is either; either may be None."""
    if path.is_file():
        parent = path.parent
        return (parent if (parent / "files").is_dir() else None), path
    if not path.is_dir():
        raise SourceError(f"{path}: no such file or folder")
    runs = find_runs(path)
    if not runs:
        raise SourceError(
            f"{path}: no W&B run here (expected a run-*.wandb file, a run-*/ folder or a "
            "wandb/ folder holding them)"
        )
    if len(runs) > 1:
        raise SourceError(
            f"{path}: holds {len(runs)} W&B runs; read them one at a time, e.g. {runs[-1]}"
        )
    return runs[0], _wandb_file_in(runs[0], warnings)
