"""The TUI's own layering: the App knows every screen, no screen or widget knows the App.

Read from the source (every import statement, lazy and TYPE_CHECKING ones included), because
an import cycle hidden behind a function-level import still ties the modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gsmreport.tui

TUI = Path(gsmreport.tui.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, wherever the import statement sits."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def importers(folder: str, forbidden: str) -> list[str]:
    return sorted(
        path.name
        for path in (TUI / folder).glob("*.py")
        if any(m == forbidden or m.startswith(f"{forbidden}.") for m in imported_modules(path))
    )


def test_screens_never_import_the_app() -> None:
    # They post messages (gsmreport.tui.messages) that the App handles instead.
    assert importers("screens", "gsmreport.tui.app") == []


def test_widgets_import_neither_the_app_nor_screens() -> None:
    assert importers("widgets", "gsmreport.tui.app") == []
    assert importers("widgets", "gsmreport.tui.screens") == []


def test_the_probe_sees_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    # Guards the two tests above against passing because the probe sees nothing.
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from gsmreport.tui.app import GsmReportApp\n"
        "def f() -> None:\n    import gsmreport.tui.screens.runs\n",
        encoding="utf-8",
    )
    found = imported_modules(source)
    assert "gsmreport.tui.app" in found and "gsmreport.tui.screens.runs" in found
