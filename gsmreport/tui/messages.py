"""Messages the app and its workers post to screens; past tense, small, no behaviour."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from gsmreport.analysis.summary import RunSummary
from gsmreport.tui.rendering import ReportPathsLike


class ReportRendered(Message):
    """A report for `run_id` was written; screens showing that run refresh its paths."""

    def __init__(self, run_id: str, paths: ReportPathsLike) -> None:
        super().__init__()
        self.run_id = run_id
        self.paths = paths


class RunsRead(Message):
    """The watcher read these runs' summaries (new or changed on disk) and saw these go."""

    def __init__(self, summaries: Sequence[RunSummary], removed: Sequence[str] = ()) -> None:
        super().__init__()
        self.summaries = tuple(summaries)
        self.removed = tuple(removed)
