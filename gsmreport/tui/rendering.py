"""What a rendered report looks like to the TUI: its paths, and a line per file written.

The rendering itself is `gsmreport.pipeline` (called from the report screen's worker),
imported only when a report is asked for: the report stack must not slow the first paint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ReportPathsLike(Protocol):
    """What `pipeline.render` returns: one path per format, None where not written."""

    @property
    def md(self) -> Path | None: ...

    @property
    def html(self) -> Path | None: ...

    @property
    def pdf(self) -> Path | None: ...


def describe(paths: ReportPathsLike) -> str:
    """The written files, one per line, for the notification."""
    written = [p for p in (paths.md, paths.html, paths.pdf) if p is not None]
    return "\n".join(str(p) for p in written) or "no files were written"
