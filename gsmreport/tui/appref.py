"""The running GsmReportApp from any widget or screen, typed (Textual types `.app` loosely)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from gsmreport.tui.app import GsmReportApp


def gsm_app(node: DOMNode) -> GsmReportApp:
    # Imported here: app.py imports the screens, which import this module.
    from gsmreport.tui.app import GsmReportApp

    app = node.app
    assert isinstance(app, GsmReportApp)
    return app
