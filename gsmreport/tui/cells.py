"""Text for the runs table and the run screen: pure formatting, no Textual import.

Kept apart from the widgets so the numbers a person reads can be tested without a terminal.
"""

from __future__ import annotations

import datetime as dt

from gsmreport.analysis.summary import RunSummary

MISSING = "—"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "id"),
    ("kind", "kind"),
    ("model", "model"),
    ("method", "method"),
    ("status", "status"),
    ("final_loss", "final loss"),
    ("loss_drop", "loss drop"),
    ("token_acc", "token acc"),
    ("em", "EM ± 95% CI"),
    ("created", "created"),
)

NUMERIC_COLUMNS = frozenset({"final_loss", "loss_drop", "token_acc", "em"})


def fmt_float(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def fmt_pct(value: float | None, *, fraction: bool) -> str:
    """`fraction=True` for 0..1 values (accuracies); False for values already in percent."""
    if value is None:
        return MISSING
    return f"{value * 100 if fraction else value:.1f} %"


def fmt_em(s: RunSummary) -> str:
    """Exact match with its Wilson interval, e.g. `12.0 % [5.6, 23.8]`."""
    if s.em is None:
        return MISSING
    if s.em_low is None or s.em_high is None:
        return fmt_pct(s.em, fraction=True)
    return f"{s.em * 100:.1f} % [{s.em_low * 100:.1f}, {s.em_high * 100:.1f}]"


def fmt_time(iso: str | None) -> str:
    """ISO timestamp shown in local-free `YYYY-MM-DD HH:MM` (UTC as stored); raw text if odd."""
    if not iso:
        return MISSING
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return MISSING
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def row_cells(s: RunSummary) -> tuple[str, ...]:
    """One row of the runs table, in `COLUMNS` order."""
    return (
        s.id,
        s.kind,
        short_model(s.model),
        s.method or MISSING,
        s.status,
        fmt_float(s.final_loss),
        fmt_pct(s.loss_drop_pct, fraction=False),
        fmt_pct(s.token_acc_final, fraction=True),
        fmt_em(s),
        fmt_time(s.created_at),
    )


def short_model(model: str | None) -> str:
    """A Hub id as is (`org/name`); a local folder by its last component, to keep rows narrow."""
    if not model:
        return MISSING
    if model.startswith(("/", ".", "~")):
        return model.rstrip("/").rsplit("/", 1)[-1]
    return model
