"""The command palette (ctrl+p): one entry per key binding of the current screen and the app.

Entries are derived from the BINDINGS themselves, so a new key is in the palette the moment
it exists and the two can never disagree; a binding's tooltip (else its footer description)
is the entry's title, its key the help line.
The runs screen adds "Sort by <column>" for every column, hidden or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

HIDDEN_ACTIONS = frozenset({"app.pop_screen", "pop_screen", "clear_filter"})


@dataclass(frozen=True)
class Entry:
    title: str
    help: str
    action: str  # run on `target`; "app.x" actions reach the app from any node
    target: DOMNode


def bindings_of(node: DOMNode) -> list[Binding]:
    """The node's own Binding objects (class BINDINGS, base classes included, first wins)."""
    seen: set[str] = set()
    out: list[Binding] = []
    for cls in type(node).__mro__:
        for binding in vars(cls).get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.action not in seen:
                seen.add(binding.action)
                out.append(binding)
    return out


def entries(node: DOMNode) -> Iterator[Entry]:
    """Palette entries for `node` (the screen under the palette), then for its app."""
    from gsmreport.tui.screens.runs import RunsScreen

    seen: set[str] = set()
    for target in (node, node.app):
        for binding in bindings_of(target):
            action = binding.action
            bare = action.removeprefix("app.") if target is node.app else action
            if action in HIDDEN_ACTIONS or bare in seen or not binding.description:
                continue
            seen.add(bare)
            key = node.app.get_key_display(binding)
            yield Entry(binding.tooltip or binding.description, f"key: {key}", action, target)
    if isinstance(node, RunsScreen):
        from gsmreport.tui.cells import COLUMNS

        for column in COLUMNS:
            yield Entry(
                f"Sort by {column.label}",
                "Sort the runs by this column (missing values last)",
                f"sort_by_column({column.key!r})",
                node,
            )


class GsmReportCommands(Provider):
    """Every action of the screen the palette was opened on, and the app's own."""

    def _entries(self) -> list[Entry]:
        return list(entries(self.screen))

    async def discover(self) -> Hits:
        for entry in self._entries():
            yield DiscoveryHit(entry.title, partial(run, entry), help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries():
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(entry.title), partial(run, entry), help=entry.help
                )


async def run(entry: Entry) -> None:
    await entry.target.app.run_action(entry.action, entry.target)
