"""A checkbox whose state reads without colour: `✓` when on, blank when off.

Textual's Checkbox draws `X` in both states and tells them apart by colour alone, which a
colour-blind user, a monochrome terminal or a screenshot in a bug report cannot see.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

ON, OFF = "✓", " "


class Check(Checkbox):
    @property
    def _button(self) -> Content:
        # The base class draws BUTTON_INNER; swap it for the state before drawing (`value`
        # repaints the widget when it changes, so this runs on every change).
        self.BUTTON_INNER = ON if self.value else OFF
        return super()._button
