"""What a screen may rely on: the App's folders seen through a Protocol, and worker failures
turned into one-line error dialogs in one place.

Screens never import the App module (it imports them): they read the App through `Host`
and ask it for things by posting messages (gsmreport.tui.messages).
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from textual.screen import Screen
from textual.worker import Worker, WorkerState

from gsmreport.core.errors import error_line
from gsmreport.core.settings import Dirs
from gsmreport.tui.messages import ShowError


@runtime_checkable
class Host(Protocol):
    """What a screen may ask of the App it runs in (GsmReportApp is one)."""

    @property
    def dirs(self) -> Dirs: ...


class HostedScreen(Screen[None]):
    """A screen of the gsmreport App.

    A subclass names its worker groups whose failure the user must see, with the title of the
    dialog, in `FAILURE_TITLES`; its own `on_worker_state_changed` (run before this one, as
    Textual calls each class's handler down the MRO) only puts its widgets right.
    """

    FAILURE_TITLES: ClassVar[dict[str, str]] = {}  # worker group -> error dialog title

    @property
    def host(self) -> Host:
        app = self.app
        assert isinstance(app, Host), "gsmreport screens run inside an App with `dirs`"
        return app

    @property
    def dirs(self) -> Dirs:
        return self.host.dirs

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Textual posts Worker.StateChanged to the worker's own node and never bubbles it, so
        # the App cannot see a screen's workers fail; this one handler hands each failure to
        # the App's ShowError handler, as a title and the one-line reason.
        title = self.FAILURE_TITLES.get(event.worker.group)
        if title is not None and event.state == WorkerState.ERROR:
            self.post_message(ShowError(title, error_line(event.worker.error)))
