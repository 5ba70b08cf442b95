"""The report renderer the TUI calls, injectable so tests can hand in a failing one.

The default defers to `gsmreport.pipeline.render` and imports it only when a report is asked
for: the report stack (Altair, WeasyPrint) must not slow the first paint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gsmreport.errors import GsmReportError
from gsmreport.settings import Dirs


class ReportPathsLike(Protocol):
    """What `pipeline.render` returns: one path per format, None where not written."""

    @property
    def md(self) -> Path | None: ...

    @property
    def html(self) -> Path | None: ...

    @property
    def pdf(self) -> Path | None: ...


RenderFn = Callable[[Dirs, str], ReportPathsLike]


def render_with_pipeline(dirs: Dirs, run_id: str) -> ReportPathsLike:
    """Markdown + PDF through the one core the CLI also uses."""
    try:
        from gsmreport.pipeline import render

        paths: ReportPathsLike = render(dirs, run_id, pdf=True)
    except ImportError as exc:  # the report stack (or one of its libraries) is missing
        raise GsmReportError(f"report rendering is not available: {exc}") from exc
    return paths


def describe(paths: ReportPathsLike) -> str:
    """The written files, one per line, for the notification."""
    written = [p for p in (paths.md, paths.html, paths.pdf) if p is not None]
    return "\n".join(str(p) for p in written) or "no files were written"
