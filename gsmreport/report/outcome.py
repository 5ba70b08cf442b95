"""What a batch render came to: counts, gate misses, the closing line and the exit code.

Pure: decided here once from the results and the gates, so the CLI only prints it and a CI
script (or the TUI) gets the same verdict as a value.
"""

from __future__ import annotations

from dataclasses import dataclass

from gsmreport.core.errors import GsmReportError, ThresholdFailed
from gsmreport.report.batch import BatchResult
from gsmreport.report.gate import Gate, GateFailure


@dataclass(frozen=True)
class RenderOutcome:
    results: tuple[BatchResult, ...]
    gates: tuple[Gate, ...]
    gate_failures: tuple[GateFailure, ...]

    @property
    def failed(self) -> list[BatchResult]:
        return [r for r in self.results if r.status == "error"]

    @property
    def passed_render(self) -> list[str]:
        return sorted(r.run_id for r in self.results if r.status != "error")

    @property
    def tally(self) -> str:
        """`3 rendered, 1 up to date, 1 failed` (zero counts left out)."""
        counts = {s: sum(r.status == s for r in self.results) for s in ("rendered", "up to date")}
        counts["failed"] = len(self.failed)
        return ", ".join(f"{n} {s}" for s, n in counts.items() if n)

    @property
    def gate_line(self) -> str | None:
        """The closing line when every gate passed; None without gates or with misses."""
        if not self.gates or self.gate_failures:
            return None
        wanted = ", ".join(g.requirement for g in self.gates)
        return f"gate: all {len(self.passed_render)} run(s) pass ({wanted})"

    def error(self) -> GsmReportError | None:
        """The command's failure, if any: a failed render (exit 1) wins over a gate (exit 3)."""
        if self.failed:
            return GsmReportError(
                f"{len(self.failed)} of {len(self.results)} reports failed", exit_code=1
            )
        if self.gate_failures:
            n_runs = len({m.run_id for m in self.gate_failures})
            return ThresholdFailed(
                f"{n_runs} of {len(self.passed_render)} run(s) failed the quality gate"
            )
        return None
