"""Contamination check: did the evaluated problems appear in the run's own training data?

Two tests, as the GPT-3 paper's contamination study framed them (Brown et al. 2020, app. C):
- exact: the evaluated question, normalised (lower case, runs of letters and digits only),
  appears whole inside a training example's text (prompt + completion);
- 13-gram: the question shares at least one run of 13 consecutive normalised words with a
  training example. A question shorter than 13 words can only match whole, so for it the two
  tests are the same.

A problem that either test flags is "overlapping"; the accuracy on the rest (the clean subset)
is shown beside the full accuracy, so a reader sees whether the score rests on memorised
problems. The check needs the training rows themselves: it runs for runs trained here from
local data (the same seeded sample and split the training job drew) and says why not otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gsmreport.analysis.stats import wilson_interval

NGRAM = 13  # the GPT-3 contamination study's n
MAX_EXAMPLES = 5  # overlapping problems quoted in a report
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-cased runs of letters and digits: punctuation and spacing never hide a match."""
    return _WORD.findall(text.lower())


def _ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    return (tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


class TrainingIndex:
    """The training texts, indexed once for both tests."""

    def __init__(self, texts: Iterable[str], n: int = NGRAM) -> None:
        self.n = n
        self.count = 0
        self._grams: set[int] = set()
        joined: list[str] = []
        for text in texts:
            tokens = words(text)
            self.count += 1
            joined.append(" ".join(tokens))
            self._grams.update(hash(g) for g in _ngrams(tokens, n))
        # Separators no word can contain, so a whole-question match never spans two examples.
        self._corpus = " | " + " | ".join(joined) + " | "

    def contains_whole(self, tokens: Sequence[str]) -> bool:
        return bool(tokens) and f" {' '.join(tokens)} " in self._corpus

    def shared_ngram(self, tokens: Sequence[str]) -> tuple[str, ...] | None:
        """The first n-gram of `tokens` found in the training texts, or None."""
        return next((g for g in _ngrams(tokens, self.n) if hash(g) in self._grams), None)


@dataclass(frozen=True)
class Overlap:
    doc_id: int
    exact: bool  # the whole question appears in a training example
    ngram: str  # the first shared n-gram ("" when only the whole question matched)
    question: str


@dataclass(frozen=True)
class Contamination:
    checked: bool
    reason: str  # why it was not checked ("" when checked)
    training_source: str = ""
    n_training: int = 0
    n_eval: int = 0
    ngram: int = NGRAM
    overlaps: tuple[Overlap, ...] = field(default_factory=tuple)
    full_correct: int = 0
    clean_correct: int = 0
    clean_n: int = 0
    clean_low: float | None = None  # 95 % Wilson interval of the clean accuracy
    clean_high: float | None = None

    @property
    def exact_ids(self) -> tuple[int, ...]:
        return tuple(o.doc_id for o in self.overlaps if o.exact)

    @property
    def overlap_ids(self) -> tuple[int, ...]:
        return tuple(o.doc_id for o in self.overlaps)

    @property
    def full_accuracy(self) -> float | None:
        return self.full_correct / self.n_eval if self.n_eval else None

    @property
    def clean_accuracy(self) -> float | None:
        return self.clean_correct / self.clean_n if self.clean_n else None

    @property
    def examples(self) -> tuple[Overlap, ...]:
        return self.overlaps[:MAX_EXAMPLES]


def not_checked(reason: str) -> Contamination:
    return Contamination(checked=False, reason=reason)


def check(
    index: TrainingIndex,
    rows: Sequence[Mapping[str, Any]],
    score: str,
    training_source: str = "",
) -> Contamination:
    """Flag each evaluated problem (samples.jsonl rows) whose question overlaps the training
    texts; `score` names the filter whose 0/1 in `exact_match` counts as correct."""
    overlaps: list[Overlap] = []
    full = clean = clean_n = 0
    for row in rows:
        doc = row.get("doc")
        question = str(doc.get("question", "")) if isinstance(doc, Mapping) else ""
        marks = row.get("exact_match")
        hit = int(bool(marks.get(score))) if isinstance(marks, Mapping) else 0
        full += hit
        tokens = words(question)
        exact = index.contains_whole(tokens)
        gram = index.shared_ngram(tokens)
        if exact or gram is not None:
            overlaps.append(
                Overlap(int(row.get("doc_id", -1)), exact, " ".join(gram or ()), question)
            )
            continue
        clean += hit
        clean_n += 1
    low, high = wilson_interval(clean, clean_n) if clean_n else (None, None)
    return Contamination(
        checked=True,
        reason="",
        training_source=training_source,
        n_training=index.count,
        n_eval=len(rows),
        ngram=index.n,
        overlaps=tuple(sorted(overlaps, key=lambda o: o.doc_id)),
        full_correct=full,
        clean_correct=clean,
        clean_n=clean_n,
        clean_low=low,
        clean_high=high,
    )


def training_index(kind: str, config: Mapping[str, Any]) -> TrainingIndex | Contamination:
    """The index of a run's training texts, or a not-checked result saying why there is none.

    Only local data is read: fetching a Hub dataset while rendering a report would make the
    report depend on the network (and on the set's current revision, not the one trained on).
    """
    from pydantic import ValidationError

    from gsmreport.core.config import DataConfig
    from gsmreport.core.errors import GsmReportError
    from gsmreport.datasets.formats import training_split

    if kind == "eval":
        return not_checked("an evaluation-only run: it has no training data of its own")
    data = config.get("data")
    if kind != "train" or not isinstance(data, Mapping):
        return not_checked("the run's training data is not recorded")
    try:
        cfg = DataConfig.model_validate(dict(data))
    except ValidationError:
        return not_checked("the run's data settings could not be read")
    if cfg.path is None:
        where = cfg.hub_id or cfg.source
        return not_checked(
            f"the training data is the Hub dataset {where}; the check reads local files only"
        )
    template = str(config.get("prompt_template") or "Question: {question}\nAnswer:")
    try:
        train, _ = training_split(cfg, template)
    except (GsmReportError, OSError, ValueError, KeyError) as exc:
        return not_checked(f"the training data could not be read ({exc})")
    return TrainingIndex(e.text + "\n" + e.completion for e in train)
