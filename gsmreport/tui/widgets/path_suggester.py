"""Completion of file-system paths for an Input: type the start, → accepts the suggestion."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


def complete_path(value: str) -> str | None:
    """The first entry (folders first, then files, each alphabetical) that starts with what
    was typed in its folder; folders end in "/" so the next part can be typed at once."""
    if not value:
        return None
    expanded = os.path.expanduser(value)
    folder, partial = os.path.split(expanded)
    base = Path(folder or ".")
    try:
        entries = sorted(
            (not p.is_dir(), p.name) for p in base.iterdir() if p.name.startswith(partial)
        )
    except OSError:  # not a folder, no permission, vanished while typing
        return None
    # Hidden entries only when asked for with a leading dot: they are rarely logs.
    entries = [e for e in entries if partial.startswith(".") or not e[1].startswith(".")]
    if not entries:
        return None
    is_file, name = entries[0]
    # Keep the user's own spelling of the folder part (~, relative) and add the rest.
    suggestion = value[: len(value) - len(partial)] + name + ("" if is_file else "/")
    return suggestion if suggestion != value else None


class PathSuggester(Suggester):
    """Reads the folder on every keystroke: the file system changes under a running TUI."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)
