"""Plain-text tables for the CLI (the TUI draws its own with DataTable)."""

from __future__ import annotations

from collections.abc import Sequence

from gsmreport.analysis.summary import RunSummary


def _f(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def _em(s: RunSummary) -> str:
    if s.em is None or s.em_low is None or s.em_high is None:
        return "—"
    return f"{s.em * 100:.1f} % [{s.em_low * 100:.1f}, {s.em_high * 100:.1f}] n={s.n_eval}"


def runs_table(rows: Sequence[RunSummary]) -> str:
    if not rows:
        return "no runs yet: try `gsmreport demo` or `gsmreport train CONFIG.yaml`"
    header = [
        "id",
        "kind",
        "method",
        "status",
        "final loss",
        "drop",
        "tok acc",
        "EM (strict) ± 95% CI",
    ]
    body = [
        [
            s.id,
            s.kind,
            s.method or "—",
            s.status,
            _f(s.final_loss, ".3f"),
            "—" if s.loss_drop_pct is None else f"{s.loss_drop_pct:.1f} %",
            _f(s.token_acc_final, ".3f"),
            _em(s),
        ]
        for s in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
