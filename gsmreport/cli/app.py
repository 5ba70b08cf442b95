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
        # Not standalone: click's own usage errors (an unknown option, a missing argument)
        # come here and become one `error:` line like every other mistake, not a boxed panel.
        code = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except typer.TyperException as exc:  # the parser's errors (typer's own copy of click's)
        format_message = getattr(exc, "format_message", None)
        message = format_message() if callable(format_message) else str(exc)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        typer.echo(f"error: {message}{hint}", err=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except GsmReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
