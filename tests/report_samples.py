"""A GSM8K-style evaluation with one wrong answer of every failure category, for report tests.

Rows are built by `scoring.sample_row`, exactly as the eval job writes them. Each problem is
listed with the category a reader would give it by hand and the gold step count, so tests can
check the report's tables against these hand labels rather than against the analysis code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsmreport.gsm8k.scoring import counts_and_metrics, sample_row


@dataclass(frozen=True)
class Problem:
    question: str
    solution: str  # gold, with <<a*b=c>> annotations and "#### n"
    response: str
    category: str  # by hand: "correct" or one of failures.CATEGORIES
    steps: int  # <<…>> annotations in `solution`, counted by hand
    truncated: bool = False
    loss: float = 1.0  # per-example validation loss, when the rows carry one


PROBLEMS: tuple[Problem, ...] = (
    Problem(
        "Janet's ducks lay 16 eggs per day. She eats 3 and bakes with 4. She sells the rest "
        "for $2 each. How much does she make?",
        "16-3-4=<<16-3-4=9>>9 eggs.\n9*2=<<9*2=18>>18 dollars.\n#### 18",
        "16 - 3 - 4 = 9 eggs. 9 * 2 = 18 dollars.\n#### 18",
        "correct",
        2,
        loss=0.82,
    ),
    Problem(
        "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts "
        "in total does it take?",
        "2/2=<<2/2=1>>1\n2+1=<<2+1=3>>3\n#### 3",
        "White: 2 / 2 = 1 bolt. Total: 2 + 1 = 4 bolts.\n#### 4",
        "arithmetic slip",
        2,
        loss=0.95,
    ),
    Problem(
        "Josh buys a house for $80,000 and puts in $50,000 in repairs. This increased the "
        "value of the house by 150%. How much profit did he make?",
        "80000+50000=<<80000+50000=130000>>130000\n80000*1.5=<<80000*1.5=120000>>120000\n"
        "120000+80000=<<120000+80000=200000>>200000\n"
        "200000-130000=<<200000-130000=70000>>70000\n#### 70000",
        "He spent 80000 + 50000 = 130000 dollars.\n#### 130000",
        "partial answer",
        4,
        loss=1.10,
    ),
    Problem(
        "James runs 3 sprints 3 times a week. Each sprint is 60 meters. How many meters does "
        "he run a week?",
        "3*3=<<3*3=9>>9\n9*60=<<9*60=540>>540\n#### 540",
        "3 * 3 = 9 sprints; 9 * 60 = 540 meters, which is 0.54 km.\n#### 0.54",
        "unit or scale slip",
        2,
        loss=0.90,
    ),
    Problem(
        "Wendi feeds each of her 20 chickens 3 cups of feed a day. She gives 15 cups in the "
        "morning and 25 cups in the afternoon. How many cups does the final meal need?",
        "3*20=<<3*20=60>>60\n60-15-25=<<60-15-25=20>>20\n#### 20",
        "She gives 25 cups in the afternoon.\n#### 25",
        "copied a number from the question",
        2,
        loss=1.05,
    ),
    Problem(
        "Kylar buys 16 glasses at $5 each; every second glass costs only 60% of the price. "
        "How much does he pay?",
        "5*0.6=<<5*0.6=3>>3\n16/2=<<16/2=8>>8\n8*5=<<8*5=40>>40\n8*3=<<8*3=24>>24\n"
        "40+24=<<40+24=64>>64\n#### 64",
        "He pays 60 dollars.\n#### 60\nQuestion: Kylar buys 20 more glasses...",
        "run-on",
        5,
        loss=4.80,  # the outlier
    ),
    Problem(
        "Toulouse has twice as many sheep as Charleston, which has 4 times as many as "
        "Seattle. Seattle has 20 sheep. How many sheep do they have together?",
        "4*20=<<4*20=80>>80\n2*80=<<2*80=160>>160\n20+160+80=<<20+160+80=260>>260\n#### 260",
        "Seattle has 20, Charleston 80 and Toulouse 160, so 260 sheep together.",
        "right number, wrong format",
        3,
        loss=1.00,
    ),
    Problem(
        "Carla downloads a 200 GB file at 2 GB per minute. How many minutes does it take?",
        "200/2=<<200/2=100>>100\n#### 100",
        "First she downloads 2 GB, then 2 GB more, then 2 GB more, " * 12,
        "truncated",
        1,
        truncated=True,
        loss=0.97,
    ),
    Problem(
        "John has 3 boxes of 12 pencils. How many pencils does he have?",
        "3*12=<<3*12=36>>36\n#### 36",
        "3 * 12 = 36 pencils.\n#### 36",
        "correct",
        1,
        loss=0.70,
    ),
    Problem(
        "A bakery makes 5 cakes per day for 7 days. How many cakes is that?",
        "5*7=<<5*7=35>>35\n#### 35",
        "5 * 7 = 35 cakes.\n#### 35",
        "correct",
        1,
        loss=0.75,
    ),
    Problem(
        "Eliza earns $10 an hour for the first 40 hours and 1.2 times that for 5 hours of "
        "overtime. How much does she earn?",
        "10*40=<<10*40=400>>400\n10*1.2=<<10*1.2=12>>12\n12*5=<<12*5=60>>60\n"
        "400+60=<<400+60=460>>460\n#### 460",
        "She works 45 hours, so she earns 10 * 45 = 450 dollars.\n#### 450",
        "reasoning error",
        4,
        loss=1.20,
    ),
    Problem(
        "Mark has 4 apples and buys 3 bags of 2 apples each, then eats 1. How many apples "
        "are left?",
        "3*2=<<3*2=6>>6\n4+6=<<4+6=10>>10\n10-1=<<10-1=9>>9\n#### 9",
        "3 * 2 = 6; 4 + 6 = 10; 10 - 1 = 9 apples.\n#### 9",
        "correct",
        3,
        loss=0.88,
    ),
)


def sample_rows(with_loss: bool = False) -> list[dict[str, Any]]:
    rows = []
    for doc_id, p in enumerate(PROBLEMS):
        doc = {"doc_id": doc_id, "question": p.question, "answer": p.solution}
        row = sample_row(doc, f"Question: {p.question}\nAnswer:", p.response, 64, p.truncated)
        if with_loss:
            row["loss"] = p.loss
        rows.append(row)
    return rows


def write_gsm_eval(run_dir: Path, eval_id: str = "gsm", *, with_loss: bool = False) -> Path:
    """evals/<eval_id>/ with samples.jsonl and results.json, as `gsmreport eval` writes them."""
    eval_dir = run_dir / "evals" / eval_id
    eval_dir.mkdir(parents=True, exist_ok=True)
    rows = sample_rows(with_loss)
    counts, metrics = counts_and_metrics(rows)
    (eval_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = {
        "eval_id": eval_id,
        "run_id": run_dir.name,
        "model": "tiny-llama",
        "adapter": "runs/golden-run/model",
        "n": len(rows),
        "seed": 1234,
        "split": "test",
        "data": "gsm8k-style (hand-written)",
        "prompt_style": "zero-shot",
        "max_new_tokens": 256,
        "results": {"gsm8k": metrics},
        "counts": counts,
        "runtime_s": 3.2,
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    (eval_dir / "results.json").write_text(json.dumps(results))
    return eval_dir
