"""GSM8K-format word problems generated locally, for demos and tests without the Hub.

Each problem is `{question, answer}` where the answer reasons in one to three steps with
GSM8K's calculator annotations (`<<a*b=c>>`) and ends with `#### <number>`, so everything
downstream (extraction, step counts, reports) treats it exactly like the real data set.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from gsmreport.core.fsutil import atomic_write_text

Problem = dict[str, str]
_NAMES = ["Ava", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivan", "June"]
_ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "shells", "cards"]


def _add(r: random.Random) -> Problem:
    n, it = r.choice(_NAMES), r.choice(_ITEMS)
    a, b = r.randint(2, 60), r.randint(2, 40)
    c = a + b
    return {
        "question": f"{n} has {a} {it}. {n} gets {b} more {it}. How many {it} does {n} have now?",
        "answer": f"{n} has {a}+{b}=<<{a}+{b}={c}>>{c} {it} now.\n#### {c}",
    }


def _sub(r: random.Random) -> Problem:
    n, it = r.choice(_NAMES), r.choice(_ITEMS)
    b = r.randint(2, 30)
    a = b + r.randint(1, 50)
    c = a - b
    return {
        "question": f"{n} had {a} {it} and gave away {b} of them. How many {it} are left?",
        "answer": f"{n} has {a}-{b}=<<{a}-{b}={c}>>{c} {it} left.\n#### {c}",
    }


def _mul(r: random.Random) -> Problem:
    it = r.choice(_ITEMS)
    a, b = r.randint(2, 12), r.randint(2, 12)
    c = a * b
    return {
        "question": f"A box holds {a} {it}. How many {it} are in {b} boxes?",
        "answer": f"{b} boxes hold {a}*{b}=<<{a}*{b}={c}>>{c} {it}.\n#### {c}",
    }


def _two_step(r: random.Random) -> Problem:
    n = r.choice(_NAMES)
    rate, hours, days = r.randint(5, 20), r.randint(2, 8), r.randint(2, 6)
    per_day = rate * hours
    total = per_day * days
    return {
        "question": (
            f"{n} earns ${rate} per hour and works {hours} hours a day. "
            f"How much does {n} earn in {days} days?"
        ),
        "answer": (
            f"Each day {n} earns {rate}*{hours}=<<{rate}*{hours}={per_day}>>{per_day} dollars.\n"
            f"In {days} days that is {per_day}*{days}=<<{per_day}*{days}={total}>>{total} dollars."
            f"\n#### {total}"
        ),
    }


def _three_step(r: random.Random) -> Problem:
    n, it = r.choice(_NAMES), r.choice(_ITEMS)
    packs, per_pack, extra, lost = r.randint(2, 6), r.randint(3, 10), r.randint(1, 20), 0
    bought = packs * per_pack
    have = bought + extra
    lost = r.randint(1, have - 1)
    left = have - lost
    return {
        "question": (
            f"{n} buys {packs} packs of {per_pack} {it} and already had {extra} {it}. "
            f"Then {n} loses {lost} {it}. How many {it} does {n} have?"
        ),
        "answer": (
            f"The packs hold {packs}*{per_pack}=<<{packs}*{per_pack}={bought}>>{bought} {it}.\n"
            f"With the old ones that is {bought}+{extra}=<<{bought}+{extra}={have}>>{have} {it}.\n"
            f"After losing some, {have}-{lost}=<<{have}-{lost}={left}>>{left} {it} remain.\n"
            f"#### {left}"
        ),
    }


_KINDS: list[Callable[[random.Random], Problem]] = [_add, _sub, _mul, _two_step, _three_step]


def generate(n: int, seed: int) -> list[Problem]:
    """`n` problems, the same for the same seed, cycling through the problem kinds."""
    rng = random.Random(seed)
    return [_KINDS[i % len(_KINDS)](rng) for i in range(n)]


def socratic(problem: Problem) -> Problem:
    """The problem as GSM8K's socratic subset words it: each step after a sub-question and
    ` ** `, the `#### n` line unchanged."""
    *steps, final = problem["answer"].split("\n")
    asked = [f"What is worked out next? ** {step}" for step in steps]
    return {**problem, "answer": "\n".join([*asked, final])}


def write_gsm8k_folder(folder: Path, n_train: int = 400, n_test: int = 100, seed: int = 0) -> Path:
    """Write train.jsonl and test.jsonl (disjoint seeds) in GSM8K's own format, and their
    socratic twins (train_socratic.jsonl, test_socratic.jsonl), so that a config with
    `data.subset: socratic` runs on the demo data as it would on the real GSM8K folder."""
    for name, count, s in (("train", n_train, seed), ("test", n_test, seed + 10_000)):
        problems = generate(count, s)
        lines = "".join(json.dumps(p) + "\n" for p in problems)
        atomic_write_text(folder / f"{name}.jsonl", lines)
        twins = "".join(json.dumps(socratic(p)) + "\n" for p in problems)
        atomic_write_text(folder / f"{name}_socratic.jsonl", twins)
    return folder
