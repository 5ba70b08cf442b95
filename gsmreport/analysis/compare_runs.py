"""The runs of a comparison: each run's one analysis plus its answers, problem by problem.

A thin view over RunAnalysis (analysis.run): the comparison report, its tables and findings,
the TUI's compare screen and `gsmreport study`'s closing table read a run's figures through
it, so they show exactly what the run's own report and `gsmreport runs` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from gsmreport.analysis.compare import correct_by_doc
from gsmreport.analysis.cost import Cost, cost_per_point
from gsmreport.analysis.evaluation import EvalSummary, FilterScore, load_samples
from gsmreport.analysis.run import RunAnalysis, analyse_run
from gsmreport.analysis.training import CurveSummary, ThroughputFigures, TokenAccuracy, throughput
from gsmreport.core.runs import RunRecord, RunStore


@dataclass(frozen=True)
class Answer:
    """One run's answer to one problem (strict-match scoring)."""

    question: str
    gold: str
    prediction: str | None
    response: str
    correct: bool


@dataclass(frozen=True)
class RunData:
    analysis: RunAnalysis
    outcomes: dict[int, bool] = field(default_factory=dict)  # doc_id → correct (strict-match)
    answers: dict[int, Answer] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.analysis.id

    @property
    def record(self) -> RunRecord:
        return self.analysis.record

    @property
    def frame(self) -> pl.DataFrame:
        return self.analysis.frame

    @property
    def train_loss(self) -> CurveSummary | None:
        training = self.analysis.training
        return training.train_loss if training else None

    @property
    def eval_loss(self) -> CurveSummary | None:
        training = self.analysis.training
        return training.eval_loss if training else None

    @property
    def token_accuracy(self) -> tuple[TokenAccuracy, ...]:
        training = self.analysis.training
        return training.token_accuracy if training else ()

    @property
    def throughput(self) -> ThroughputFigures:
        return self.analysis.throughput or throughput(self.frame)

    @property
    def runtime_s(self) -> float | None:
        runtime = self.analysis.runtime
        return runtime.seconds if runtime else None

    @property
    def cost(self) -> Cost | None:
        return self.analysis.cost

    @property
    def cost_usd(self) -> float | None:
        return self.analysis.cost.usd if self.analysis.cost else None

    @property
    def cost_source(self) -> str | None:
        return self.analysis.cost.sentence if self.analysis.cost else None

    @property
    def usd_per_point(self) -> float | None:
        """Cost per point of strict-match exact match on the latest evaluation."""
        strict = self.strict
        return cost_per_point(self.cost_usd, strict.em if strict else None)

    @property
    def evaluation(self) -> EvalSummary | None:
        """The run's latest evaluation (the one rule of analysis.eval_sections.latest)."""
        latest = self.analysis.latest
        return latest.summary if latest else None

    def score(self, name: str) -> FilterScore | None:
        scores = self.evaluation.scores if self.evaluation else ()
        return next((s for s in scores if s.filter == name), None)

    @property
    def strict(self) -> FilterScore | None:
        return self.score("strict-match")


def _answers(analysis: RunAnalysis) -> tuple[dict[int, bool], dict[int, Answer]]:
    latest = analysis.latest
    path = analysis.run_dir / "evals" / latest.folder / "samples.jsonl" if latest else None
    if path is None or not path.is_file():
        return {}, {}
    samples = load_samples(path).filter(pl.col("em:strict-match").is_not_null())
    if samples.height == 0:
        return {}, {}
    outcomes = correct_by_doc(samples, "em:strict-match")
    answers = {
        int(r["doc_id"]): Answer(
            r["question"], r["gold"], r["prediction"], r["response"], outcomes[int(r["doc_id"])]
        )
        for r in samples.iter_rows(named=True)
    }
    return outcomes, answers


def load_run(store: RunStore, run_id: str) -> RunData:
    analysis = analyse_run(store.path(run_id), store.read(run_id), rebuild=True)
    outcomes, answers = _answers(analysis)
    return RunData(analysis, outcomes, answers)
