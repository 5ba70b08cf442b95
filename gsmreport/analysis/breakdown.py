"""Accuracy broken down by gold step count and by topic; loss outliers grouped by tag.

Tags come from fixed keyword lists (below, printed by the report so a reader can check them),
never from a model: the same question always gets the same tags. A question may carry several
tags, so per-tag counts can sum to more than the number of questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gsmreport.analysis.sample_view import Rows, iter_views
from gsmreport.analysis.stats import wilson_interval

UNTAGGED = "untagged"
OTHER = "other"
UNKNOWN_STEPS = "unknown"
MAX_STEP_BUCKET = 5  # 5 and more share one bucket: few GSM8K problems need more

# GSM8K topics. Word boundaries keep "rate" out of "separate"; "seconds" is plural only so that
# the ordinal "second" does not mark a question as being about time.
TOPIC_KEYWORDS: dict[str, str] = {
    "rates": r"\b(?:mph|km/h|kph|speed|rates?|per (?:hour|minute|second|day)|an hour|a minute"
    r"|miles per|kilometers per|how fast)\b",
    "percentages": r"%|\bpercent(?:age)?s?\b",
    "fractions": r"\b(?:half|halves|thirds?|quarters?|fourths?|fifths?|sixths?|eighths?"
    r"|tenths?|fractions?)\b|\b\d+/\d+\b",
    "money": r"\$|\b(?:dollars?|cents?|prices?|costs?|paid|pays?|earns?|earned|profits?|spends?"
    r"|spent|sells?|sold|buys?|bought|salary|wages?)\b",
    "time": r"\b(?:hours?|minutes?|seconds|days?|weeks?|months?|years?|o'clock)\b",
}
TOPICS = (*TOPIC_KEYWORDS, UNTAGGED)

_SMALL = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|some|a few)"
# Instruction data sets (Alpaca-style): what the instruction asks for.
INSTRUCTION_KEYWORDS: dict[str, str] = {
    "creative": r"\b(?:write|compose|create) an? (?:\w+ )?(?:story|poem|song|haiku|limerick|joke"
    r"|dialogue|script|tweet|slogan|letter)\b|\b(?:imagine|invent|poem|lyrics|haiku|short story)\b",
    "constrained": rf"\bin {_SMALL} (?:words?|sentences?|paragraphs?|lines?)\b|\bno more than\b"
    r"|\bat (?:most|least) \d+|\bexactly \d+|\bwithout using\b|\bword limit\b|\bin one sentence\b",
    "explanation": r"\bexplain\b|\bdescribe\b|^\s*why\b|\bwhat (?:is|are)\b"
    r"|^\s*how (?:does|do|is|can|did)\b|\bdifference between\b",
    "list": rf"\blist\b|\bname {_SMALL}\b|\bgive (?:me )?{_SMALL}\b|\benumerate\b"
    rf"|\bsuggest {_SMALL}\b|\bbrainstorm\b",
    "rewrite": r"\b(?:rewrite|rephrase|paraphrase|edit|translate|summari[sz]e|convert)\b"
    r"|\bcorrect the\b|\bmake (?:it|this|the \w+) more\b",
    "math": r"\b(?:calculate|compute|solve|equation|sum of|product of)\b"
    r"|\d+\s*[-+*/×^]\s*\d+",
    "classification": r"\b(?:classify|categori[sz]e|sentiment)\b|\b(?:determine|identify) "
    r"(?:whether|if)\b|\bis it (?:positive|negative)\b",
}
INSTRUCTION_TYPES = (*INSTRUCTION_KEYWORDS, OTHER)

_TOPIC_RES = {k: re.compile(v, re.IGNORECASE) for k, v in TOPIC_KEYWORDS.items()}
_INSTRUCTION_RES = {
    k: re.compile(v, re.IGNORECASE | re.MULTILINE) for k, v in INSTRUCTION_KEYWORDS.items()
}


def topic_tags(question: str) -> tuple[str, ...]:
    """Every topic whose keywords occur in the question, in TOPICS order; ("untagged",) if none."""
    tags = tuple(name for name, pattern in _TOPIC_RES.items() if pattern.search(question))
    return tags or (UNTAGGED,)


def instruction_tags(instruction: str) -> tuple[str, ...]:
    """Every instruction type whose keywords occur, in INSTRUCTION_TYPES order; ("other",)."""
    tags = tuple(name for name, pattern in _INSTRUCTION_RES.items() if pattern.search(instruction))
    return tags or (OTHER,)


def step_bucket(steps: int | None) -> str:
    if steps is None:
        return UNKNOWN_STEPS
    return f"{MAX_STEP_BUCKET}+" if steps >= MAX_STEP_BUCKET else str(steps)


@dataclass(frozen=True)
class Bucket:
    label: str
    n: int
    correct: int
    accuracy: float
    low: float  # Wilson 95 %
    high: float


def _buckets(counts: Mapping[str, tuple[int, int]], order: Sequence[str]) -> tuple[Bucket, ...]:
    out = []
    for label in order:
        if label in counts:
            n, correct = counts[label]
            low, high = wilson_interval(correct, n)
            out.append(Bucket(label, n, correct, correct / n, low, high))
    return tuple(out)


def _tally(counts: dict[str, tuple[int, int]], label: str, correct: bool) -> None:
    n, ok = counts.get(label, (0, 0))
    counts[label] = (n + 1, ok + int(correct))


def accuracy_by_steps(rows: Rows) -> tuple[Bucket, ...]:
    """Accuracy per number of `<<…>>` steps in the gold solution: 0 (if any), 1, 2, 3, 4, 5+.

    The count is the row's gold_steps, or recomputed from doc.answer; rows with neither go to
    "unknown".
    """
    counts: dict[str, tuple[int, int]] = {}
    for view in iter_views(rows):
        _tally(counts, step_bucket(view.gold_steps), view.correct)
    order = [str(i) for i in range(MAX_STEP_BUCKET)] + [f"{MAX_STEP_BUCKET}+", UNKNOWN_STEPS]
    return _buckets(counts, order)


def accuracy_by_topic(rows: Rows) -> tuple[Bucket, ...]:
    """Accuracy per topic tag (TOPIC_KEYWORDS); a question counts once in each of its tags."""
    counts: dict[str, tuple[int, int]] = {}
    for view in iter_views(rows):
        for tag in topic_tags(view.question):
            _tally(counts, tag, view.correct)
    return _buckets(counts, TOPICS)


# --- per-example loss outliers ---------------------------------------------------------------

QUARTILE_METHOD = "numpy linear interpolation (Hyndman & Fan type 7)"
MIN_OUTLIER_POINTS = 4


@dataclass(frozen=True)
class TagOutliers:
    tag: str
    outliers: int
    n: int  # examples carrying the tag
    share: float  # outliers / n


@dataclass(frozen=True)
class Outliers:
    n: int  # finite losses
    non_finite: int  # NaN / ±inf losses, left out of the quartiles and the outliers
    q1: float
    q3: float
    iqr: float
    threshold: float  # q3 + 1.5·iqr
    count: int
    examples: tuple[tuple[int, float], ...]  # (doc_id, loss) above the threshold, worst first
    by_tag: tuple[TagOutliers, ...]
    quartile_method: str


def outliers(
    losses: Sequence[tuple[int, float]], tags: Mapping[int, Sequence[str]]
) -> Outliers | None:
    """Examples whose per-example loss is above Q3 + 1.5·IQR (Tukey's fence), grouped by tag.

    `losses`: (doc_id, teacher-forced NLL) per validation example; `tags`: doc_id → its tags
    (topic_tags or instruction_tags); a doc without tags counts as "untagged". None with fewer
    than 4 finite losses, where quartiles say nothing.
    """
    finite = [(doc, float(loss)) for doc, loss in losses if math.isfinite(loss)]
    if len(finite) < MIN_OUTLIER_POINTS:
        return None
    q1, q3 = (float(q) for q in np.percentile([loss for _, loss in finite], [25, 75]))
    threshold = q3 + 1.5 * (q3 - q1)
    above = sorted(((d, v) for d, v in finite if v > threshold), key=lambda x: (-x[1], x[0]))
    outlier_ids = {d for d, _ in above}
    per_tag: dict[str, tuple[int, int]] = {}
    for doc, _ in finite:
        for tag in tags.get(doc) or (UNTAGGED,):
            n, hits = per_tag.get(tag, (0, 0))
            per_tag[tag] = (n + 1, hits + int(doc in outlier_ids))
    by_tag = tuple(
        TagOutliers(tag, hits, n, hits / n)
        for tag, (n, hits) in sorted(per_tag.items(), key=lambda kv: (-kv[1][1], kv[0]))
    )
    return Outliers(
        n=len(finite),
        non_finite=len(losses) - len(finite),
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        threshold=threshold,
        count=len(above),
        examples=tuple(above),
        by_tag=by_tag,
        quartile_method=QUARTILE_METHOD,
    )
