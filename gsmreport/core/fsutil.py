"""Atomic file writes: a reader never sees half a file, a crash never leaves one behind."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


def umask() -> int:
    """The process's umask, read without changing it."""
    current = os.umask(0)
    os.umask(current)
    return current


_FILE_MODE = 0o666 & ~umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; a report or run.yaml should get the usual permissions.
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


# libyaml's C emitter/parser when PyYAML was built with it: ~10x faster than pure Python,
# which matters when listing or importing a thousand runs.
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def dump_yaml(obj: Any) -> str:
    return str(yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, allow_unicode=True))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def atomic_write_yaml(path: Path, obj: Any) -> None:
    atomic_write_text(path, dump_yaml(obj))
