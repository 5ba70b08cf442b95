"""Messages the app posts to its screens; past tense, small, no behaviour."""

from __future__ import annotations

from textual.message import Message

from gsmreport.tui.rendering import ReportPathsLike


class ReportRendered(Message):
    """A report for `run_id` was written; screens showing that run refresh its paths."""

    def __init__(self, run_id: str, paths: ReportPathsLike) -> None:
        super().__init__()
        self.run_id = run_id
        self.paths = paths
