"""A run as the plain files in its `files/` folder tell it (W&B before the `.wandb` log, or
what the log lacks): config.yaml, wandb-summary.json, wandb-metadata.json, wandb-history.jsonl."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from gsmreport.ingest import files
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.wandb_run.locate import LEGACY_FILES
from gsmreport.ingest.wandb_run.records import WandbLog

WANDB_CONFIG_KEYS = frozenset({"_wandb", "wandb_version"})


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that reads `5e-05` as a float, not a string.

    wandb-core (Go) writes config.yaml as YAML 1.2, where `5e-05` is a float; PyYAML speaks
    YAML 1.1, whose float pattern needs a dot in the mantissa — a learning rate would
    otherwise come back as the string "5e-05".
    """


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def flatten_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Plain {key: value} from any of W&B's config forms, without W&B's own entries.

    config.yaml wraps every key as {desc, value} (0.15) or {value} (later); leet, the API and
    some exports give plain values. A config counts as wrapped only when *every* entry is, so
    a user's own dict that happens to hold a `value` key is not unwrapped by mistake.
    """
    entries = {str(k): v for k, v in raw.items() if k not in WANDB_CONFIG_KEYS}
    wrapped = bool(entries) and all(
        isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"}
        for v in entries.values()
    )
    return {k: (v["value"] if wrapped else v) for k, v in entries.items()}


def _read_config_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(files.read_text(path), Loader=_ConfigLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"{path}: not valid YAML ({problem}); the file may be cut off") from exc
    return flatten_config(files.require_mapping(loaded, path, "a W&B config"))


def _read_history_jsonl(path: Path) -> list[dict[str, Any]]:
    # Written instead of a .wandb log by W&B before 0.10: one history dict per line.
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(files.read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise SourceError(
                f"{path}: line {number} is not valid JSON; is the file cut off?"
            ) from exc
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _read_legacy(run_dir: Path, name: str, problems: list[str]) -> Any:
    """One files/ entry parsed, or None when absent or broken (broken: noted in problems)."""
    path = run_dir / "files" / name
    if not path.exists():
        return None
    try:
        if name == "config.yaml":
            return _read_config_yaml(path)
        if name == "wandb-history.jsonl":
            return _read_history_jsonl(path)
        return files.require_mapping(files.load_json(path), path, f"a W&B {name}")
    except SourceError as exc:
        problems.append(str(exc))
        return None


def log_from_legacy(run_dir: Path) -> WandbLog:
    """The run as the plain files in files/ tell it; SourceError when none is readable."""
    problems: list[str] = []
    history, summary, config, metadata = (
        _read_legacy(run_dir, name, problems) for name in LEGACY_FILES
    )
    if history is None and summary is None and config is None and metadata is None:
        found = "; ".join(problems) or (
            "no run-*.wandb and no files/wandb-summary.json; pass a run-*/ folder of a wandb/ "
            "folder"
        )
        raise SourceError(f"{run_dir}: no readable W&B log ({found})")
    return WandbLog(
        history=history or [],
        summary=summary or {},
        config=config or {},
        environment=metadata or {},
        notes=problems,
    )


_GAP_FILLERS = (
    ("wandb-summary.json", "summary"),
    ("config.yaml", "config"),
    ("wandb-metadata.json", "environment"),
)


def fill_gaps(log: WandbLog, run_dir: Path) -> None:
    """Take from files/ what the .wandb log lacks (0.18 runs keep host facts only there)."""
    for name, attr in _GAP_FILLERS:
        if not getattr(log, attr):
            value = _read_legacy(run_dir, name, log.notes)
            if value:
                setattr(log, attr, value)
