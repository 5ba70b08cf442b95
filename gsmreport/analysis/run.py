"""RunAnalysis: every figure of one run, decided once, read by every surface.

The report, the comparison report, the TUI (runs table, run view, compare), `gsmreport runs`,
`gsmreport show`, the CI gates and `analysis.json` all read a run's figures from here; none
of them computes one of its own. So two surfaces can never disagree about the same run.

The rules, each stated once:
- metric rows: metrics.parquet, or the run's own logs when they are newer than it (a run
  still training, or one that ended after the process that launched it quit);
- runtime: run.yaml's `runtime_s` (the job's own wall clock), else `started_at` →
  `finished_at`, else the trainer's logged `train_runtime`, else, for a run still running,
  `started_at` → now (so far); always with its source;
- device-hours and cost: runtime × device count × price (analysis.cost.run_cost);
- exact match: rescored from samples.jsonl where it exists, else results.json's counts;
- the latest evaluation: eval_sections.latest (the one written last, ties by eval id);
- the run's kind (SFT, DPO, GRPO, reward model, classifier, seq2seq, evaluation-only), with
  the keys and config fields it rests on: analysis.run_kind;
- every logged series and the run's own task metrics (first/best/final): analysis.task_metrics.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from gsmreport.analysis.contamination import (
    Contamination,
    TrainingIndex,
    check,
    not_checked,
    training_index,
)
from gsmreport.analysis.cost import Cost, PointCost, per_point_costs, run_cost
from gsmreport.analysis.dates import RunDate, run_date
from gsmreport.analysis.eval_sections import (
    PRIMARY_FILTER,
    EvalSection,
    data_source,
    eval_sections,
    primary_score,
    written_order,
)
from gsmreport.analysis.evaluation import (
    EvalSummary,
    FilterScore,
    eval_folders,
    read_sample_dicts,
    summarize_eval,
)
from gsmreport.analysis.health import Health, check_health
from gsmreport.analysis.power import resolvable_two_samples
from gsmreport.analysis.run_kind import RunKind, detect_kind
from gsmreport.analysis.series import RunSeries, run_series
from gsmreport.analysis.series_stats import (
    Point,
    SeriesStats,
    all_series,
    final_point,
    index_series,
)
from gsmreport.analysis.summary import RunSummary
from gsmreport.analysis.system import SystemUsage, system_usage
from gsmreport.analysis.task_metrics import TaskMetric, task_metrics
from gsmreport.analysis.training import (
    CurveSummary,
    ThroughputFigures,
    TokenAccuracy,
    TrainingSummary,
    drop_pct,
    summarize_curve,
    summarize_training,
    throughput,
    token_accuracy,
)
from gsmreport.analysis.trends import LearningCurve, learning_curve
from gsmreport.core.errors import GsmReportError
from gsmreport.core.runs import RunRecord
from gsmreport.ingest.console import read_console
from gsmreport.ingest.schema import SeriesLayout


@dataclass(frozen=True)
class Runtime:
    seconds: float
    source: str  # which of the three rules gave it, in words


def _iso_seconds(start: str | None, end: str | None) -> float | None:
    if not (start and end):
        return None
    try:
        return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def run_runtime(record: RunRecord, logged: Callable[[], Point | None]) -> Runtime | None:
    """The run's runtime by the one rule (module docstring), with where it came from;
    `logged` finds the trainer's last finite train_runtime row, asked only when needed."""
    if record.runtime_s is not None and math.isfinite(record.runtime_s):
        return Runtime(record.runtime_s, "run.yaml runtime_s")
    span = _iso_seconds(record.started_at, record.finished_at)
    if span is not None and span >= 0:
        return Runtime(span, "run.yaml started_at → finished_at")
    point = logged()
    if point is not None:
        return Runtime(point.value, f"trainer's logged train_runtime (step {point.step})")
    if record.status == "running" and record.started_at:
        so_far = _seconds_since(record.started_at)
        if so_far is not None and so_far >= 0:
            return Runtime(so_far, "running: started_at → now (so far)")
    return None


def _seconds_since(start: str) -> float | None:
    try:
        begun = dt.datetime.fromisoformat(start)
    except ValueError:
        return None
    now = dt.datetime.now(begun.tzinfo) if begun.tzinfo else dt.datetime.now()
    return (now - begun).total_seconds()


def metrics_frame(run_dir: Path, run_id: str, *, rebuild: bool) -> pl.DataFrame:
    """The run's metric rows. `rebuild`: write a fresh metrics.parquet when it is stale (render);
    without it nothing is written and stale logs are read as they are (runs, TUI, show)."""
    from gsmreport.ingest.run import PARQUET, load_metrics, needs_ingest, read_sources
    from gsmreport.ingest.schema import empty_frame

    if rebuild:
        return load_metrics(run_dir, run_id)
    if needs_ingest(run_dir):
        try:
            frame = read_sources(run_dir, run_id).frame
        except (GsmReportError, OSError, ValueError):
            frame = empty_frame()
        if frame.height or not (run_dir / PARQUET).is_file():
            return frame
    try:
        return pl.read_parquet(run_dir / PARQUET)
    except (OSError, pl.exceptions.PolarsError):
        return empty_frame()


class RunAnalysis:
    """One run's figures. Built by `analyse_run`; treat as immutable. The heavier parts
    (evaluations with their failure categories, the learning-curve trend) are computed on
    first use and kept, so a caller that wants only the headline pays only for it."""

    def __init__(
        self,
        run_dir: Path,
        record: RunRecord,
        frame: pl.DataFrame,
        layout: SeriesLayout | None = None,
    ) -> None:
        self.run_dir = run_dir
        self.record = record
        self.frame = frame
        self._layout = layout  # the frame's series per row, when its builder knew them

    @property
    def id(self) -> str:
        return self.record.id

    @cached_property
    def training(self) -> TrainingSummary | None:
        return summarize_training(self.frame, self.series_index) if self.frame.height else None

    @cached_property
    def health(self) -> Health:
        """Checks before any story: did it train, did it finish (analysis.health)."""
        return check_health(self.frame, self.record, read_console(self.record))

    @cached_property
    def curve(self) -> LearningCurve | None:
        if not self.frame.height:
            return None
        return learning_curve(self.frame, withheld=self.health.verdict_withheld)

    @cached_property
    def throughput(self) -> ThroughputFigures | None:
        return throughput(self.frame, self.series_index) if self.frame.height else None

    # The training figures without the rest of the training summary: from it when it was
    # computed (a report), else by the very functions it uses, on the same series statistics.
    @cached_property
    def train_loss(self) -> CurveSummary | None:
        if "training" in self.__dict__:
            return self.training.train_loss if self.training else None
        return summarize_curve(self.frame, "train", "loss", self.series_index)

    @cached_property
    def train_token_accuracy(self) -> TokenAccuracy | None:
        if "training" in self.__dict__:
            found = self.training.token_accuracy if self.training else ()
            return next((a for a in found if a.split == "train"), None)
        return token_accuracy(self.frame, "train", self.series_index)

    @cached_property
    def panels(self) -> RunSeries:
        """Every logged series as chart panels, the most useful first (the run view's grid)."""
        return run_series(self.frame)

    @cached_property
    def system(self) -> SystemUsage | None:
        """Peak GPU memory and mean utilisation, from the log's system metrics."""
        return system_usage(self.frame) if self.frame.height else None

    @cached_property
    def steps(self) -> int | None:
        """How far training got: the highest step of any training row (loss, learning rate,
        the trainer's final summary), None for a run with no training rows (an evaluation)."""
        return max((s.last_step for s in self.series if s.split == "train"), default=None)

    @cached_property
    def runtime(self) -> Runtime | None:
        return run_runtime(
            self.record, lambda: final_point(self.series_index, "train", "runtime_s")
        )

    @cached_property
    def run_date(self) -> RunDate | None:
        """When the run ran (analysis.dates), shown beside an estimated cost."""
        return run_date(self.record)

    @cached_property
    def cost(self) -> Cost | None:
        return run_cost(self.record, self.runtime.seconds if self.runtime else None)

    @cached_property
    def evaluations(self) -> tuple[EvalSection, ...]:
        return tuple(eval_sections(self.run_dir, data_source(self.record.config)))

    @cached_property
    def latest_folder(self) -> Path | None:
        """The latest evaluation's folder: written last, ties by the greater folder name."""
        ordered = written_order(eval_folders(self.run_dir))
        return ordered[-1] if ordered else None

    @cached_property
    def latest(self) -> EvalSection | None:
        folder = self.latest_folder
        return next((s for s in self.evaluations if folder and s.folder == folder.name), None)

    @cached_property
    def latest_summary(self) -> EvalSummary | None:
        """The latest evaluation's scores alone (no breakdowns): what the headline needs."""
        if "evaluations" in self.__dict__:
            return self.latest.summary if self.latest else None
        return summarize_eval(self.latest_folder) if self.latest_folder else None

    @cached_property
    def _training_index(self) -> TrainingIndex | Contamination:
        return training_index(self.record.kind, self.record.config)

    @cached_property
    def contamination(self) -> dict[str, Contamination]:
        """Per evaluation folder: its problems checked against the run's own training texts
        (analysis/contamination.py); the training data is read and indexed once per run."""
        index, out = self._training_index, {}
        for section in self.evaluations:
            if isinstance(index, Contamination):
                out[section.folder] = index
                continue
            rows = read_sample_dicts(self.run_dir / "evals" / section.folder / "samples.jsonl")
            score = section.primary.filter if section.primary else PRIMARY_FILTER
            if not rows:
                out[section.folder] = not_checked("the evaluation kept no per-problem samples")
                continue
            out[section.folder] = check(index, rows, score, self.record.data or "")
        return out

    @cached_property
    def resolvable(self) -> dict[str, float | None]:
        """Per evaluation folder: the smallest accuracy difference against another evaluation
        of as many problems that its sample size detects at 80 % power, α = 0.05."""
        return {
            s.folder: resolvable_two_samples(s.primary.em, s.primary.n) if s.primary else None
            for s in self.evaluations
        }

    @cached_property
    def point_costs(self) -> tuple[PointCost, ...]:
        return per_point_costs(self.cost, self.evaluations)

    @cached_property
    def run_kind(self) -> RunKind:
        """What kind of run this is, with the evidence (analysis.run_kind)."""
        n_evaluations = len(eval_folders(self.run_dir))
        return detect_kind(
            self.frame,
            self.record.config,
            run_kind=self.record.kind,
            n_evaluations=n_evaluations,
            logged=self.series_index.keys(),
        )

    @cached_property
    def series(self) -> tuple[SeriesStats, ...]:
        """Every logged (split, metric) with count and first/min/max/final: the one place
        the end points of every curve are decided (analysis.series_stats)."""
        return all_series(self.frame, self._layout)

    @cached_property
    def series_index(self) -> dict[tuple[str, str], SeriesStats]:
        return index_series(self.series)

    @cached_property
    def task_metrics(self) -> tuple[TaskMetric, ...]:
        """The run's own task metrics (eval/test accuracy, WER, rewards, …), first/best/final."""
        return task_metrics(self.series)

    @property
    def exact_match(self) -> FilterScore | None:
        """The headline task accuracy: the latest evaluation's primary filter."""
        latest = self.latest_summary
        return primary_score(latest.scores) if latest else None

    def headline(self) -> RunSummary:
        """What the runs table, `gsmreport runs` and the gates show."""
        # The loss's end points straight from the series statistics the training summary
        # reads too: the smoothed curve, which only the report shows, is not computed here.
        loss = self.series_index.get(("train", "loss"))
        first, final = (loss.first, loss.final) if loss else (None, None)
        train_acc = self.train_token_accuracy
        em, cost, runtime = self.exact_match, self.cost, self.runtime
        r = self.record
        return RunSummary(
            id=r.id,
            kind=r.kind,
            status=r.status,
            model=r.model,
            method=r.method,
            data=r.data,
            created_at=r.created_at,
            final_loss=final.value if final else None,
            loss_drop_pct=drop_pct(first.value, final.value) if first and final else None,
            token_acc_final=train_acc.final.value if train_acc else None,
            em=em.em if em else None,
            em_low=em.low if em else None,
            em_high=em.high if em else None,
            n_eval=em.n if em else None,
            em_correct=em.correct if em else None,
            em_filter=em.filter if em else None,
            latest_eval=self.latest_summary.eval_id if self.latest_summary else None,
            runtime_s=runtime.seconds if runtime else None,
            device_hours=cost.device_hours if cost else None,
            cost_usd=cost.usd if cost else None,
            run_kind=self.run_kind.kind,
            em_flexible=self._latest_score("flexible-extract"),
            em_numeric=self._latest_score("numeric-match"),
            started_at=r.started_at,
            steps=self.steps,
            source=r.source.kind if r.source else None,
        )

    def _latest_score(self, name: str) -> float | None:
        """The latest evaluation's exact match under one named score, when it was scored."""
        scores = self.latest_summary.scores if self.latest_summary else ()
        return next((s.em for s in scores if s.filter == name), None)

    def to_dict(self) -> dict[str, Any]:
        """Every figure with its source, JSON-ready (`gsmreport show --json`, analysis.json)."""
        from gsmreport.analysis.export import analysis_dict

        return analysis_dict(self)


def analyse_run(
    run_dir: Path,
    record: RunRecord,
    *,
    rebuild: bool = False,
    frame: pl.DataFrame | None = None,
    layout: SeriesLayout | None = None,
) -> RunAnalysis:
    """The analysis of one run folder; `frame` when the caller already holds its metric rows,
    with `layout` when it also knows each row's series (the importer's numpy build)."""
    if frame is None:
        frame, layout = metrics_frame(run_dir, record.id, rebuild=rebuild), None
    return RunAnalysis(run_dir, record, frame, layout)
