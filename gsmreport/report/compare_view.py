"""The comparison as the TUI's compare screen shows it: smoothed train-loss curves and the
comparison report's own tables. No Textual import; the screen gets it through pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gsmreport.analysis.compare_runs import load_run
from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS, smooth
from gsmreport.analysis.training import series
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.report.compare_tables import TableRow, config_table, results_table


@dataclass(frozen=True)
class Comparison:
    """What the screen shows, computed off the UI thread."""

    curves: dict[str, list[tuple[float, float]]]  # run id -> (step, smoothed train loss)
    smoothing: str  # the rule the curves were drawn by, for the chart's title
    results: list[TableRow]
    config: list[TableRow]
    notes: list[str]


def load_comparison(dirs: Dirs, run_ids: Sequence[str]) -> Comparison:
    """Every figure through the comparison report's loaders and table builders."""
    store = RunStore(dirs.runs)
    runs = [load_run(store, run_id) for run_id in run_ids]
    curves: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        loss = series(run.frame, "train", "loss")
        points = [(float(x), y) for x, y in loss.iter_rows() if math.isfinite(y)]
        # The run reports' one rule (analysis.smoothing); a curve too short to smooth is raw.
        found = smooth([x for x, _ in points], [y for _, y in points])
        ys = list(found.values) if found is not None else [y for _, y in points]
        curves[run.id] = [(x, y) for (x, _), y in zip(points, ys, strict=True)]
    config, notes = config_table(runs)
    label = f"train loss, smoothed (raw below {MIN_SMOOTH_POINTS} points)"
    return Comparison(curves, label, results_table(runs), config, notes)
