"""Errors meant for a person: a one-line message and the exit code the CLI should use.

Anything that is the user's mistake (bad config, bad run id, missing path) raises one of
these; the CLI prints `error: <message>` and exits with `exit_code`, never a traceback.
"""

from __future__ import annotations


class GsmReportError(Exception):
    """Base class: `str(err)` is the one line shown to the user."""

    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(GsmReportError):
    """The user asked for something malformed (bad id, bad option value)."""

    exit_code = 2


class ConfigError(UsageError):
    """A config file is missing, not YAML, or does not validate."""


class NotFoundError(UsageError):
    """A run, evaluation, model or data path that does not exist."""


class JobFailed(GsmReportError):
    """A training or evaluation child process ended other than `completed`."""

    exit_code = 1


class ThresholdFailed(GsmReportError):
    """A `--fail-under` gate was not met (for CI)."""

    exit_code = 3


def error_line(error: BaseException | None) -> str:
    """A GsmReportError's own one-line reason; anything else named, so it can be reported.
    What the TUI's dialogs and job statuses show for a failure."""
    if isinstance(error, GsmReportError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"
