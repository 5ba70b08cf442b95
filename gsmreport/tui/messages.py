"""Every message of the TUI: small dataclasses, no behaviour.

Screens never reach into the App: they post a request (`OpenRun`, `ShowError`, …) to
themselves, it bubbles up to the App, and the App's handler opens the screen or the dialog.
So no screen imports the App module, and the App is the one place that knows every screen.
Workers post past-tense messages (`RunsRead`) to the screen that started them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from gsmreport.pipeline import RunSummary

# Textual's Message sets itself up in `__post_init__`, which the dataclass `__init__` calls.


@dataclass
class RunsRead(Message):
    """The watcher read these runs' summaries (new or changed on disk) and saw these go."""

    summaries: tuple[RunSummary, ...]
    removed: tuple[str, ...] = ()


@dataclass
class OpenRun(Message):
    """Show one run in full (the App reads it; an unreadable run becomes an error dialog)."""

    run_id: str


@dataclass
class OpenCompare(Message):
    """Show these runs side by side, in this order."""

    run_ids: tuple[str, ...]


@dataclass
class OpenReport(Message):
    """The report screen: one run's report, or the comparison report of several."""

    run_ids: tuple[str, ...]
    render: bool = False  # start rendering as soon as the screen is shown


@dataclass
class OpenEvaluate(Message):
    """The evaluate form, on this finished training run or (None) on a base model."""

    run_id: str | None = None


@dataclass
class OpenSamples(Message):
    """Browse one evaluation's problems, one at a time."""

    run_id: str
    eval_id: str


@dataclass
class ShowError(Message):
    """Tell the user something failed: a title and the one-line reason."""

    title: str
    message: str
