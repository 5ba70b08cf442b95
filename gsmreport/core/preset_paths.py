"""A preset's relative paths are relative to the preset file, not to wherever gsmreport runs.

`configs/demo/lora.yaml` says `model: ../../.demo/tiny-llama`: that names the same folder
whether `gsmreport train` (or the TUI) is started in the repository, in `/tmp`, or anywhere
else. For presets written before this rule, a relative path that exists only relative to the
working directory is still found there, so no existing config stops working.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

# Dotted keys of a TrainConfig that name local files or folders.
PATH_KEYS = ("model", "data.path", "launch.accelerate_config")


def _looks_like_hub_id(value: str) -> bool:
    """`org/name` with no leading `.`/`~`/`/`: a Hub id unless a folder of that name exists."""
    return value.count("/") == 1 and not value.startswith((".", "~", "/")) and "\\" not in value


def anchor(value: str, base: Path) -> str:
    """`value` as the preset at `base` means it: absolute and `~` paths unchanged; a relative
    path resolved against `base` when it exists there, or when it exists nowhere and does not
    read as a Hub id (so the error names the folder the preset points at); kept as written
    when only the working directory has it (older presets) or when it is a Hub id."""
    if not value or value.startswith(("/", "~")) or Path(value).is_absolute():
        return value
    # normpath, not resolve(): `..` goes, symlinks stay as the user named them.
    beside = os.path.normpath(base.absolute() / value)
    if Path(beside).exists():
        return beside
    if Path(value).exists() or _looks_like_hub_id(value):
        return value
    return beside


def anchor_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of a preset's mapping with its path settings anchored at `base` (its folder)."""
    out = copy.deepcopy(data)
    for dotted in PATH_KEYS:
        *parents, last = dotted.split(".")
        node: Any = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(last), str):
            node[last] = anchor(node[last], base)
    return out
