"""The run report's outliers: per-example gold loss from samples.jsonl, the validation split
preferred, grouped by topic (GSM8K) or by instruction type (instruction data).

Rows are written here by hand, with losses chosen so that the Tukey fence and the outliers
can be worked out on paper; each expected figure is recomputed below with statistics.quantiles
(method "inclusive" is numpy's default linear interpolation).
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

import yaml

from gsmreport.core.runs import RunRecord
from gsmreport.report.render import render_run_report
from tests.run_fixtures import jsonl_line, write_record

# (doc_id, question or instruction, loss). Ten typical losses and two far above the rest.
GSM_ROWS = [
    (0, "A shirt costs $12. How much do 3 shirts cost?", 1.10),
    (1, "Tom walks 3 miles per hour for 2 hours. How far does he go?", 1.20),
    (2, "What is 25 percent of 80?", 1.00),
    (3, "Half of 18 apples are eaten. How many are left?", 1.30),
    (4, "A train leaves at 3 o'clock and travels 4 hours. When does it arrive?", 1.15),
    (5, "Sam has 7 marbles and finds 5 more. How many now?", 1.25),
    (6, "She paid $40 for 8 books. What was the price of one?", 1.05),
    (7, "A car goes 60 km/h for 3 hours. How far?", 1.20),
    (8, "Ann sold 12 cakes for $3 each. How much did she earn?", 1.10),
    (9, "A tank fills 1/4 of its volume in 5 minutes. How long to fill it?", 1.35),
    (10, "Jo earns $15 an hour for 40 hours a week. What is her salary?", 4.80),
    (11, "How many days are in 6 weeks?", 5.60),
]
INSTRUCTION_ROWS = [
    (0, "Write a short poem about autumn.", 1.9),
    (1, "Explain why the sky is blue.", 1.4),
    (2, "List five fruits that are red.", 1.2),
    (3, "Rewrite this sentence in the passive voice: The cat ate the fish.", 1.3),
    (4, "Calculate 12 * 7.", 1.1),
    (5, "Describe the water cycle in no more than 50 words.", 1.5),
    (6, "Summarize the plot of Hamlet.", 1.6),
    (7, "What is the capital of France?", 1.0),
    (8, "Name three primary colors.", 1.25),
    (9, "Compose a haiku about the sea.", 6.5),
    (10, "Classify the sentiment of this review: I loved it.", 1.35),
    (11, "Write a story about a dragon in exactly 100 words.", 7.2),
]


def _write_eval(
    run_dir: Path,
    eval_id: str,
    split: str,
    rows: list[tuple[int, str, float]],
    source: str | None = None,
) -> None:
    eval_dir = run_dir / "evals" / eval_id
    eval_dir.mkdir(parents=True)
    samples = [
        {
            "doc_id": doc,
            "doc": {"question": text, "answer": "It is 1.\n#### 1"},
            "target": "1",
            "resps": [["#### 2"]],
            "prediction": "2",
            "correct": False,
            "loss": loss,
        }
        for doc, text, loss in rows
    ]
    (eval_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in samples))
    results = {"eval_id": eval_id, "n": len(rows), "split": split, "model": "tiny"}
    (eval_dir / "results.json").write_text(json.dumps(results))
    if source is not None:
        config = {"model": "tiny", "split": split, "data": {"source": source}}
        (eval_dir / "eval.yaml").write_text(yaml.safe_dump({"config": config}))


def _run(root: Path, source: str | None = None) -> tuple[Path, RunRecord]:
    run_dir = root / "runs" / "r"
    run_dir.mkdir(parents=True)
    (run_dir / "metrics.jsonl").write_text(jsonl_line(10, {"loss": 2.0}) + "\n")
    extra: dict[str, Any] = {}
    if source is not None:
        extra["config"] = {"method": "lora", "data": {"source": source}}
    return run_dir, write_record(run_dir, **extra)


def _outliers(run: tuple[Path, RunRecord], out: Path) -> str:
    run_dir, record = run
    md = render_run_report(run_dir, record, out).md.read_text()
    return md.split("\n### Outliers\n", 1)[1].split("\n## ", 1)[0].strip()


def _tables(section: str) -> list[list[list[str]]]:
    """Each Markdown table of the section as rows of cells, header and rule dropped."""
    tables, current = [], []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip("|").split("|")])
        elif current:
            tables.append(current[2:])
            current = []
    return tables


def _fence(losses: list[float]) -> float:
    q1, _, q3 = statistics.quantiles(losses, n=4, method="inclusive")
    return q3 + 1.5 * (q3 - q1)


def test_gsm8k_outliers_come_from_the_validation_split_grouped_by_topic(tmp_path: Path) -> None:
    run = _run(tmp_path)
    # A test-split evaluation with its own (different) losses must not be the one used.
    test_rows = [(d, q, 1.0 + 0.01 * d) for d, q, _ in GSM_ROWS]
    _write_eval(run[0], "a-test", "test", test_rows)
    _write_eval(run[0], "b-val", "validation", GSM_ROWS)
    section = _outliers(run, tmp_path / "out")
    fence = _fence([loss for *_, loss in GSM_ROWS])
    above = [(d, loss) for d, _, loss in GSM_ROWS if loss > fence]
    assert [d for d, _ in above] == [10, 11]  # the two made far above the rest
    assert section.startswith("Evaluation b-val (validation split: the run's held-out")
    assert (
        "2 of 12 per-example losses (teacher-forced mean NLL of the gold solution) lie" in section
    )
    assert f"Q3 + 1.5·IQR = {fence:.4f}" in section
    assert "a-test" not in section.split("\n\n")[0]
    assert "Per-example losses of evaluation a-test are not used here" in section
    examples, groups = _tables(section)
    assert [r[:2] for r in examples] == [["11", "5.6000"], ["10", "4.8000"]]  # worst first
    assert "Grouped by topic" in section
    by_tag = {r[0]: r[1:] for r in groups}
    # Doc 10 is about money (earns, $, salary) and time (hour, week); doc 11 about time (days,
    # weeks): time holds both outliers, money one.
    assert by_tag["time"][0] == "2" and by_tag["money"][0] == "1"
    assert "creative" not in by_tag


def test_instruction_data_groups_outliers_by_instruction_type(tmp_path: Path) -> None:
    run = _run(tmp_path, source="alpaca")
    _write_eval(run[0], "val", "validation", INSTRUCTION_ROWS)
    section = _outliers(run, tmp_path / "out")
    fence = _fence([loss for *_, loss in INSTRUCTION_ROWS])
    assert [d for d, _, loss in INSTRUCTION_ROWS if loss > fence] == [9, 11]
    assert "Grouped by instruction type" in section
    examples, groups = _tables(section)
    assert [r[0] for r in examples] == ["11", "9"]
    by_tag = {r[0]: r[1:] for r in groups}
    # Both outliers ask for a creative text; the story also constrains its length.
    assert by_tag["creative"][:2] == ["2", "3"]  # outliers, examples (poem, haiku, story)
    assert by_tag["constrained"][:2] == ["1", "2"]  # "exactly 100 words", "no more than 50"
    assert by_tag["creative"][2] == "66.7 %"
    assert "rates" not in by_tag and "money" not in by_tag  # no GSM8K topics on instructions
    assert re.search(r"\| instruction type \| outliers \| examples \| share \|", section)


def test_the_evaluations_own_data_source_wins_over_the_runs(tmp_path: Path) -> None:
    run = _run(tmp_path, source="gsm8k")  # trained on GSM8K, evaluated on instructions
    _write_eval(run[0], "val", "validation", INSTRUCTION_ROWS, source="messages")
    assert "Grouped by instruction type" in _outliers(run, tmp_path / "out")


def test_without_a_validation_split_the_test_losses_are_used_and_named(tmp_path: Path) -> None:
    run = _run(tmp_path)
    _write_eval(run[0], "t", "test", GSM_ROWS)
    section = _outliers(run, tmp_path / "out")
    assert section.startswith(
        "Evaluation t (split test; no validation-split evaluation recorded per-example losses)"
    )
    assert "not used here" not in section
