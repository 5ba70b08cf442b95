"""Messages the app and its workers post to screens; past tense, small, no behaviour."""

from __future__ import annotations

from collections.abc import Sequence

from textual.message import Message

from gsmreport.analysis.summary import RunSummary


class RunsRead(Message):
    """The watcher read these runs' summaries (new or changed on disk) and saw these go."""

    def __init__(self, summaries: Sequence[RunSummary], removed: Sequence[str] = ()) -> None:
        super().__init__()
        self.summaries = tuple(summaries)
        self.removed = tuple(removed)
