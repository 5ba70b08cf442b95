"""Quality gates for CI: `--fail-under exact_match=0.25`, `--fail-over final_loss=1.5`.

Pure: a spec string becomes a Gate, a RunSummary is checked against gates, nothing is read
or printed here. A run that lacks the metric fails its gate ("not measured"): a CI gate that
silently passes because the evaluation never ran would defeat its purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

from gsmreport.analysis.summary import RunSummary
from gsmreport.core.errors import UsageError

Direction = Literal["under", "over"]

# Every numeric RunSummary field can be gated; derived, so a new figure is gateable at once.
METRICS: tuple[str, ...] = tuple(
    f.name for f in fields(RunSummary) if str(f.type).split(" ")[0] in ("float", "int")
)
ALIASES = {
    "exact_match": "em",
    "exact_match_low": "em_low",
    "exact_match_high": "em_high",
    "token_accuracy": "token_acc_final",
    "flexible_extract": "em_flexible",
    "numeric_match": "em_numeric",
}
# Shares in [0, 1]: "25%" means 0.25, and a bare 25 is refused as an obvious slip.
FRACTIONS = frozenset({"em", "em_low", "em_high", "token_acc_final", "em_flexible", "em_numeric"})
# Already in percent (13.5 means 13.5 %): "25%" means 25.
PERCENTS = frozenset({"loss_drop_pct"})
LOWER_IS_BETTER = frozenset({"final_loss", "cost_usd", "runtime_s", "device_hours"})
_NOT_MEASURED = {
    "em": "no evaluation",
    "em_low": "no evaluation",
    "em_high": "no evaluation",
    "n_eval": "no evaluation",
    "em_correct": "no evaluation",
    "final_loss": "no training loss logged",
    "loss_drop_pct": "no training loss logged",
    "token_acc_final": "no token accuracy logged",
    "cost_usd": "no cost: no runtime, hardware or price known for the run",
    "device_hours": "no device-hours: no runtime or hardware recorded",
    "runtime_s": "no runtime recorded",
    "em_flexible": "no evaluation scored with flexible-extract",
    "em_numeric": "no evaluation scored with numeric-match",
}


@dataclass(frozen=True)
class Gate:
    name: str  # as the user wrote it (e.g. exact_match), used in messages
    field: str  # the RunSummary field (e.g. em)
    threshold: float
    direction: Direction

    @property
    def requirement(self) -> str:
        return f"{self.name} {'>=' if self.direction == 'under' else '<='} {self.threshold:g}"


@dataclass(frozen=True)
class GateFailure:
    run_id: str
    gate: Gate
    value: float | None
    message: str  # one line, e.g. "gate: r1 exact_match 0.180 < 0.25 (strict-match, n=50)"


def valid_names() -> list[str]:
    return sorted(set(METRICS) | set(ALIASES))


def parse_gate(spec: str, direction: Direction) -> Gate:
    """`METRIC=VALUE` (VALUE may end in %) → Gate; any mistake is a UsageError (exit 2)."""
    flag = f"--fail-{direction}"
    name, sep, raw = (part.strip() for part in spec.partition("="))
    if not sep or not name or not raw:
        raise UsageError(f"{flag} {spec!r}: expected METRIC=VALUE, e.g. exact_match=0.25")
    field = ALIASES.get(name, name)
    if field not in METRICS:
        raise UsageError(f"{flag}: unknown metric {name!r}; valid: {', '.join(valid_names())}")
    other = "over" if direction == "under" else "under"
    if (field in LOWER_IS_BETTER) == (direction == "under"):
        better = "lower" if field in LOWER_IS_BETTER else "higher"
        raise UsageError(
            f"{flag} {name}: {better} is better for {name}, so this gate would pass bad runs; "
            f"use --fail-{other} {name}={raw}"
        )
    return Gate(name, field, _threshold(flag, name, field, raw), direction)


def _threshold(flag: str, name: str, field: str, raw: str) -> float:
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%").strip())
    except ValueError:
        raise UsageError(f"{flag} {name}={raw}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} {name}={raw}: the threshold must be a finite number")
    if percent and field not in FRACTIONS | PERCENTS:
        raise UsageError(f"{flag} {name}={raw}: {name} is not a percentage; drop the %")
    if percent and field in FRACTIONS:
        value /= 100
    if field in FRACTIONS and not 0 <= value <= 1:
        raise UsageError(
            f"{flag} {name}={raw}: {name} is a share between 0 and 1; "
            f"write e.g. {name}=0.25 or {name}=25%"
        )
    return value


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.3f}"


def check(summary: RunSummary, gates: list[Gate]) -> list[GateFailure]:
    """The gates this run fails, each with its one-line message; [] when all pass."""
    failures = []
    for gate in gates:
        raw = getattr(summary, gate.field)
        value = None if raw is None else float(raw)
        where = f"gate: {summary.id} {gate.name}"
        if value is None or math.isnan(value):
            reason = _NOT_MEASURED.get(gate.field, "no value")
            message = f"{where} not measured ({reason}), needs {gate.requirement}"
        elif (gate.direction == "under" and value < gate.threshold) or (
            gate.direction == "over" and value > gate.threshold
        ):
            sign = "<" if gate.direction == "under" else ">"
            message = f"{where} {_show(value)} {sign} {gate.threshold:g}{_context(summary, gate)}"
        else:
            continue
        failures.append(GateFailure(summary.id, gate, value, message))
    return failures


def _context(summary: RunSummary, gate: Gate) -> str:
    """What the figure rests on, so a CI log says how much a miss means."""
    if gate.field in ("em", "em_low", "em_high"):
        return f" (strict-match, n={summary.n_eval})"
    if gate.field in ("em_flexible", "em_numeric"):
        name = "flexible-extract" if gate.field == "em_flexible" else "numeric-match"
        return f" ({name}, n={summary.n_eval})"
    return ""
