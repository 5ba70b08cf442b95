"""Every key binding, screen by screen, read from the screens' own BINDINGS (never retyped)."""

from __future__ import annotations

import importlib
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

# (title, module, class): screens are imported here, not at the top, because most of them are
# only loaded when first opened; a screen not installed is left out rather than failing.
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("Runs", "gsmreport.tui.screens.runs", "RunsScreen"),
    ("Run", "gsmreport.tui.screens.run_detail", "RunScreen"),
    ("Samples", "gsmreport.tui.screens.samples", "SampleBrowser"),
    ("Compare", "gsmreport.tui.screens.compare", "CompareScreen"),
    ("Train", "gsmreport.tui.screens.train", "TrainScreen"),
    ("Live job", "gsmreport.tui.screens.live", "LiveScreen"),
    ("Evaluate", "gsmreport.tui.screens.evaluate", "EvaluateScreen"),
    ("Report", "gsmreport.tui.screens.report", "ReportScreen"),
    ("Import", "gsmreport.tui.screens.import_", "ImportScreen"),
)
PALETTE = Binding("ctrl+p", "command_palette", "Palette", tooltip="Command palette: every action")


def screen_bindings() -> list[tuple[str, list[Binding]]]:
    sections: list[tuple[str, list[Binding]]] = []
    for title, module, name in SCREENS:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        sections.append((title, bindings_of_class(cls)))
    return sections


def bindings_of_class(cls: type, *, stop_at: type | None = Screen) -> list[Binding]:
    """`cls`'s described bindings and those it inherits, up to (not including) `stop_at`:
    Textual's own screen keys (focus, copy) are listed once, under "Everywhere"."""
    seen: set[str] = set()
    out: list[Binding] = []
    mro = cls.__mro__
    for klass in mro[: mro.index(stop_at)] if stop_at in mro else mro:
        for binding in vars(klass).get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.key not in seen and binding.description:
                seen.add(binding.key)
                out.append(binding)
    return out


def binding_table(node: DOMNode, bindings: list[Binding]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", width=10)
    table.add_column()
    for binding in bindings:
        # "ctrl+c,super+c" is two keys; get_key_display would run them together.
        keys = [Binding(key.strip(), binding.action) for key in binding.key.split(",")]
        shown = " ".join(node.app.get_key_display(k) for k in keys)
        table.add_row(shown, Text(binding.tooltip or binding.description))
    return table


class HelpScreen(Screen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("question_mark", "app.pop_screen", "Back", show=False),
        Binding("q", "app.pop_screen", "Back", show=False),
    ]

    def on_mount(self) -> None:
        self.sub_title = "help"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="help"):
            yield Static("Keys", id="help-title")
            everywhere = [
                PALETTE,
                *bindings_of_class(type(self.app), stop_at=None),
                *bindings_of_class(Screen, stop_at=None),
            ]
            yield Static("Everywhere", classes="help-heading")
            yield Static(binding_table(self, everywhere), classes="help-keys")
            for title, bindings in screen_bindings():
                yield Static(title, classes="help-heading")
                yield Static(binding_table(self, bindings), classes="help-keys")
        yield Footer()
