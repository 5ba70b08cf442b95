"""Import boundaries, checked in fresh interpreters (DESIGN.md: import direction)."""

from __future__ import annotations

import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import gsmreport

HEAVY = ("torch", "transformers", "trl", "peft")


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(out.stdout.split())


def test_help_does_not_import_torch() -> None:
    loaded = _modules_after(
        "import sys\nsys.argv=['gsmreport','--help']\nfrom gsmreport.cli import app as cli\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass"
    )
    assert not [m for m in HEAVY if m in loaded]
    assert "textual" not in loaded


def _all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(gsmreport.__path__, "gsmreport."))


def test_textual_only_under_tui() -> None:
    core = [
        m for m in _all_modules() if not m.startswith("gsmreport.tui") and m != "gsmreport.__main__"
    ]
    loaded = _modules_after(
        "\n".join(f"import {m}" for m in core if not m.startswith("gsmreport.jobs"))
    )
    assert "textual" not in loaded


def test_core_and_tui_do_not_import_the_ml_stack() -> None:
    # Everything outside jobs/ (which runs in the child process) must stay light.
    light = [
        m
        for m in _all_modules()
        if not m.startswith("gsmreport.jobs") and m != "gsmreport.__main__"
    ]
    loaded = _modules_after("\n".join(f"import {m}" for m in light))
    assert not [m for m in HEAVY if m in loaded], "a core or TUI module imports the ML stack"


REPO = Path(__file__).resolve().parents[1]


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's contracts (pyproject.toml [tool.importlinter]) on the package under
    `root`, in a fresh interpreter whose import path starts there."""
    code = "import sys\nfrom importlinter.cli import lint_imports\nsys.exit(lint_imports())"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contracts_are_kept() -> None:
    """cli|tui -> pipeline -> report -> analysis -> ingest -> core; the TUI reads through the
    pipeline only; nothing imports jobs/ (torch); textual only under tui/."""
    proc = _lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 kept, 0 broken" in proc.stdout


def test_import_contracts_catch_a_planted_violation(tmp_path: Path) -> None:
    """The contracts are live: the TUI importing analysis/ directly breaks one."""
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    shutil.copytree(REPO / "gsmreport", copy / "gsmreport", ignore=shutil.ignore_patterns("*.pyc"))
    cells = copy / "gsmreport" / "tui" / "cells.py"
    cells.write_text(cells.read_text() + "\nfrom gsmreport.analysis.run import RunAnalysis\n")
    proc = _lint_imports(copy)
    assert proc.returncode != 0
    assert "gsmreport.tui.cells -> gsmreport.analysis.run" in proc.stdout
