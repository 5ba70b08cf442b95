"""Open a rendered report (PDF, HTML) or its folder with the system's own opener.

`xdg-open` on Linux and the BSDs, `open` on macOS, `os.startfile` on Windows. Where there is
none (a server over SSH, a container), nothing is started and the caller shows the path so
the user can copy it. The opener is started detached: closing the TUI leaves the viewer open.
No Textual here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

Which = Callable[[str], str | None]


def opener_command(
    path: Path, platform: str = sys.platform, which: Which = shutil.which
) -> list[str] | None:
    """The command that opens `path` on `platform`, or None when this system has none
    (Windows is opened through os.startfile instead, see `open_path`)."""
    if platform == "darwin":
        tool = which("open")
    elif platform.startswith("win"):
        return None
    else:
        tool = which("xdg-open")
    return [tool, str(path)] if tool else None


def open_path(path: Path) -> str:
    """Open `path`; the one line to show the user either way."""
    if not path.exists():
        return f"not found: {path} (render the report first: r)"
    if sys.platform.startswith("win"):
        startfile = getattr(os, "startfile", None)
        if startfile is not None:
            startfile(str(path))
            return f"opened {path}"
    command = opener_command(path)
    if command is None:
        return f"no system opener here (xdg-open/open); the path to copy: {path}"
    try:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the viewer outlives the TUI and gets none of its keys
        )
    except OSError as exc:
        return f"could not start {command[0]} ({exc.strerror or exc}); the path to copy: {path}"
    return f"opened {path}"
