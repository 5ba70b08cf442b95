"""A modal question with a few answers; dismisses with the key of the one chosen.

`ConfirmDialog(title, message, [(key, label), …])` — the first choice has the focus, so
Enter takes it; Escape dismisses with None ("decide nothing"), which callers treat as the
cautious answer.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

BUTTON_PREFIX = "choice-"


class ConfirmDialog(ModalScreen[str | None]):
    CSS_PATH = "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_dialog", "Cancel"),
        Binding("left", "app.focus_previous", "Previous", show=False),
        Binding("right", "app.focus_next", "Next", show=False),
    ]

    def __init__(self, title: str, message: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        if not choices:
            raise ValueError("ConfirmDialog needs at least one choice")
        self.title_text = title
        self.message = message
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(self.title_text, id="confirm-title")
            yield Static(self.message, id="confirm-message", markup=False)
            with Horizontal(id="confirm-choices"):
                for i, (key, label) in enumerate(self.choices):
                    yield Button(
                        label,
                        id=f"{BUTTON_PREFIX}{key}",
                        variant="primary" if i == 0 else "default",
                        compact=True,
                    )

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(str(event.button.id).removeprefix(BUTTON_PREFIX))

    def action_dismiss_dialog(self) -> None:
        self.dismiss(None)
