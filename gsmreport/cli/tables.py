"""`gsmreport runs` output: a plain-text table, JSON or CSV of the runs' headline rows.

The rows are RunSummary headlines (analysis.run.RunAnalysis.headline, cached per run), and
every number is printed through core/fmt.py, so a figure reads the same here, in the TUI and
in the report. JSON and CSV carry the raw values for CI scripts.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from typing import Literal

from gsmreport.analysis.export import jsonable
from gsmreport.analysis.summary import RunSummary
from gsmreport.core.fmt import DASH, duration, num, pct, pct_value, usd

Format = Literal["table", "json", "csv"]
FIELDS = tuple(f.name for f in dataclasses.fields(RunSummary))


def _em(s: RunSummary) -> str:
    if s.em is None or s.em_low is None or s.em_high is None:
        return DASH
    return (
        f"{pct(s.em, missing=DASH)} [{num(s.em_low * 100, 1)}, {num(s.em_high * 100, 1)}] "
        f"{s.em_correct}/{s.n_eval}"
    )


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
        "runtime",
        "cost",
    ]
    body = [
        [
            s.id,
            s.kind,
            s.method or DASH,
            s.status,
            num(s.final_loss, 4, missing=DASH),
            pct_value(s.loss_drop_pct, missing=DASH),
            pct(s.token_acc_final, missing=DASH),
            _em(s),
            duration(s.runtime_s, missing=DASH),
            usd(s.cost_usd, missing=DASH),
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


def runs_json(rows: Sequence[RunSummary]) -> str:
    # JSON has no NaN or infinity: they travel as strings, as in analysis.json.
    data = [jsonable(s) for s in rows]
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)


def runs_csv(rows: Sequence[RunSummary]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for s in rows:
        writer.writerow(["" if v is None else v for v in dataclasses.astuple(s)])
    return out.getvalue().rstrip("\n")


def format_runs(rows: Sequence[RunSummary], fmt: Format) -> str:
    if fmt == "json":
        return runs_json(rows)
    if fmt == "csv":
        return runs_csv(rows)
    return runs_table(rows)
