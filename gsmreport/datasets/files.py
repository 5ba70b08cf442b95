"""Local data files: one jsonl / json / parquet file, or a folder holding `<split>.<ext>`.

Rows come back as plain dicts. Problems are one-line ConfigError / NotFoundError messages
naming the file (and line, for jsonl), so a bad data set never ends in a bare traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gsmreport.core.errors import ConfigError, NotFoundError

SUFFIXES = (".jsonl", ".json", ".parquet")


def split_file(path: Path, split: str) -> Path:
    """The file holding `split`: `path` itself when it is a file, else `<split>.<ext>` in it."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise NotFoundError(f"data path not found: {path}")
    for suffix in SUFFIXES:
        candidate = path / f"{split}{suffix}"
        if candidate.is_file():
            return candidate
    wanted = " or ".join(f"{split}{s}" for s in SUFFIXES)
    raise NotFoundError(f"{path}: no {wanted} (give a folder with one or a single data file)")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a jsonl, json (a list of objects) or parquet file."""
    if path.suffix == ".parquet":
        rows = _read_parquet(path)
    elif path.suffix == ".json":
        rows = _read_json(path)
    else:
        rows = _read_jsonl(path)
    if not rows:
        raise ConfigError(f"{path}: no rows in file")
    return rows


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{lineno}: expected a JSON object per line")
            rows.append(row)
    return rows


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ConfigError(f"{path}: expected a JSON list of objects (or use .jsonl)")
    return data


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import polars as pl

    try:
        return pl.read_parquet(path).to_dicts()
    except (OSError, pl.exceptions.PolarsError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: not a readable parquet file ({first})") from exc
