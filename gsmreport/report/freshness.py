"""Is a run's report up to date? Decided from file stamps alone, so `render --all` over a
thousand unchanged runs reads a small JSON file per run and imports nothing heavy (no
polars, Altair, vl-convert or WeasyPrint: this module uses the standard library only).

Each render writes `.render.json` into the report folder: the gsmreport version, the run
folder, the size and mtime of every input of the run (INPUTS, and evals/**/ EVAL_INPUTS),
the size and mtime of every template file (ours, and the --templates folder's), and the
files it wrote. A report is up to date when all of these still match and every requested
output was written by that render. A run whose record said `running` is never up to date:
it is still changing, and reading it again is what notices a job that died.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsmreport import __version__

MANIFEST = ".render.json"
_FORMAT = 1  # bump when the manifest's meaning changes: every report is then stale once
INPUTS = ("run.yaml", "metrics.jsonl", "metrics.parquet", "trainer_state.json")
EVAL_INPUTS = ("results.json", "samples.jsonl", "eval.yaml")
# Written by the render itself (ingest of metrics.jsonl / trainer_state.json): its stamp is
# taken after rendering; a change to any other input while rendering leaves no manifest.
DERIVED = frozenset({"metrics.parquet"})
BUILTIN_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

Stamps = dict[str, list[int]]  # relative path -> [size, mtime_ns]


def _stamp(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def input_stamps(run_dir: Path) -> Stamps:
    """[size, mtime_ns] of every file of the run that a report reads.

    Plain strings and os.walk rather than Path objects: this runs once per run on every
    `render --all`, and pathlib's parsing was most of its cost over a thousand runs."""
    stamps: Stamps = {}
    base = os.fspath(run_dir)
    for name in INPUTS:
        found = _stamp(os.path.join(base, name))
        if found is not None:
            stamps[name] = found
    evals = os.path.join(base, "evals")
    cut = len(base) + len(os.sep)  # os.walk's paths all start with base + sep
    for root, _dirs, files in os.walk(evals):  # nothing when there is no evals folder
        for name in files:
            if name in EVAL_INPUTS:
                path = os.path.join(root, name)
                found = _stamp(path)
                if found is not None:
                    stamps[path[cut:].replace(os.sep, "/")] = found
    return stamps


def template_stamps(templates: Path | None) -> Stamps:
    """[size, mtime_ns] of every file in our templates folder and in the user's."""
    stamps: Stamps = {}
    for label, folder in (("builtin", BUILTIN_TEMPLATES), ("user", templates)):
        if folder is None or not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.is_file():
                st = entry.stat()
                stamps[f"{label}/{entry.name}"] = [st.st_size, st.st_mtime_ns]
    return stamps


def changed_while_rendering(before: Stamps, after: Stamps) -> bool:
    """True when an input other than the derived parquet changed during the render."""
    keys = (set(before) | set(after)) - DERIVED
    return any(before.get(k) != after.get(k) for k in keys)


def write_manifest(
    out_dir: Path,
    run_dir: Path,
    before: Stamps,
    outputs: Iterable[str],
    templates: Path | None,
    status: str,
) -> bool:
    """Record what this render read; nothing (False) when its inputs moved under it, so the
    next `render --all` renders it again. `before`: input_stamps taken when it started."""
    after = input_stamps(run_dir)
    if changed_while_rendering(before, after):
        return False
    data = {
        "format": _FORMAT,
        "version": __version__,
        "run_dir": os.path.abspath(run_dir),
        "status": status,
        "inputs": after,
        "templates": str(templates.resolve()) if templates else None,
        "template_files": template_stamps(templates),
        "outputs": sorted(outputs),
    }
    (out_dir / MANIFEST).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    return True


@dataclass(frozen=True)
class FreshnessCheck:
    """The part of the comparison shared by every run of a batch (templates stamped once)."""

    templates: str | None
    template_files: Stamps

    @classmethod
    def for_templates(cls, templates: Path | None) -> FreshnessCheck:
        return cls(str(templates.resolve()) if templates else None, template_stamps(templates))

    def up_to_date(self, run_dir: Path, out_dir: Path, outputs: Iterable[str]) -> bool:
        """The report in out_dir was rendered from the run's current inputs, these templates
        and this gsmreport, and wrote every file of `outputs`, which are all still there."""
        manifest = _read(out_dir / MANIFEST)
        if manifest is None:
            return False
        written = set(manifest.get("outputs") or ())
        if not all(name in written and (out_dir / name).is_file() for name in outputs):
            return False
        return (
            manifest.get("format") == _FORMAT
            and manifest.get("version") == __version__
            and manifest.get("status") != "running"
            and manifest.get("run_dir") == os.path.abspath(run_dir)
            and manifest.get("templates") == self.templates
            and manifest.get("template_files") == self.template_files
            and manifest.get("inputs") == input_stamps(run_dir)
        )


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # missing or damaged: render again
    return data if isinstance(data, dict) else None
