"""The command line: a thin Typer shell over gsmreport.pipeline, one module per command.

Parses, calls the core, prints. Every user mistake is a GsmReportError, printed as one
`error:` line with its exit code; torch is never imported in this process.
"""

from __future__ import annotations

import sys

import typer

from gsmreport.cli.base import app

# Each command module registers its command on the app when imported, in this order in --help:
# the flow first (train, eval, ingest, render, runs, show), then the demo and the study.
# isort: off
from gsmreport.cli import train  # noqa: F401
from gsmreport.cli import evaluate  # noqa: F401
from gsmreport.cli import ingest  # noqa: F401
from gsmreport.cli import render  # noqa: F401
from gsmreport.cli import runs  # noqa: F401
from gsmreport.cli import demo  # noqa: F401
from gsmreport.cli import study  # noqa: F401

# isort: on
from gsmreport.core.errors import GsmReportError

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except GsmReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
