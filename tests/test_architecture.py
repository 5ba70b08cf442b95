"""Import boundaries, checked in fresh interpreters (DESIGN.md: import direction)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

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
