"""The contamination check and the resolvable-difference figures (analysis/contamination.py,
analysis/power.py), on real GSM8K problems and through a rendered run report."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gsmreport.analysis.contamination import TrainingIndex, check, training_index, words
from gsmreport.analysis.power import resolvable_paired, resolvable_two_samples
from gsmreport.analysis.run import analyse_run
from gsmreport.report.render import render_run_report
from tests.conftest import shared_data
from tests.run_fixtures import make_train_run, write_record


def _rows(problems: list[dict[str, str]], correct: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "doc_id": i,
            "doc": {"question": p["question"], "answer": p["answer"]},
            "exact_match": {"strict-match": c},
        }
        for i, (p, c) in enumerate(zip(problems, correct, strict=True))
    ]


def _read(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _planted_folder(tmp_path: Path, planted: list[int]) -> tuple[Path, list[dict[str, str]]]:
    """A local GSM8K folder: 300 real training problems plus the test problems `planted`
    (one of them reworded in case and punctuation, so only a normalised match finds it)."""
    train = _read(shared_data("gsm8k", "train.jsonl"))[:300]
    test = _read(shared_data("gsm8k", "test.jsonl"))[:100]
    folder = tmp_path / "data"
    folder.mkdir()
    extra = [dict(test[i]) for i in planted]
    extra[0]["question"] = extra[0]["question"].upper().replace(",", " ,")
    rows = train + extra
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    return folder, test


def _config(folder: Path) -> dict[str, Any]:
    # val_fraction 0: every training row is trained on, so every planted problem is seen.
    return {"model": "tiny", "data": {"path": str(folder), "val_fraction": 0.0}}


def test_finds_exactly_the_planted_test_questions(tmp_path: Path) -> None:
    planted = [3, 17, 42, 58, 91]
    folder, test = _planted_folder(tmp_path, planted)
    clean_index = training_index("train", _config(folder))
    assert isinstance(clean_index, TrainingIndex)
    correct = [1 if i % 3 == 0 else 0 for i in range(len(test))]
    found = check(clean_index, _rows(test, correct), "strict-match")
    assert found.checked and found.n_training == 305 and found.n_eval == 100
    assert list(found.overlap_ids) == planted
    assert list(found.exact_ids) == planted  # whole questions, one of them reworded
    clean_ids = [i for i in range(100) if i not in planted]
    assert found.clean_n == 95
    assert found.clean_correct == sum(correct[i] for i in clean_ids)
    assert found.full_correct == sum(correct)
    assert found.clean_low is not None and found.clean_low < found.clean_accuracy  # type: ignore[operator]


def test_ngram_overlap_without_the_whole_question(tmp_path: Path) -> None:
    question = (
        "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and "
        "bakes muffins for her friends every day with four."
    )
    # The training text holds the middle of the question only: no whole match, one 13-gram.
    middle = " ".join(words(question)[3:17])
    index = TrainingIndex([f"Something else entirely. {middle} and more."])
    rows = [{"doc_id": 7, "doc": {"question": question}, "exact_match": {"strict-match": 1}}]
    found = check(index, rows, "strict-match")
    assert found.overlap_ids == (7,) and found.exact_ids == ()
    assert len(found.overlaps[0].ngram.split()) == 13
    # Twelve shared words are not enough.
    short = " ".join(words(question)[3:15])
    assert check(TrainingIndex([short]), rows, "strict-match").overlap_ids == ()


def test_not_checked_says_why(tmp_path: Path) -> None:
    assert not training_index("imported", {}).checked  # type: ignore[union-attr]
    hub = training_index("train", {"model": "m", "data": {"source": "gsm8k"}})
    assert "Hub dataset" in hub.reason  # type: ignore[union-attr]
    gone = training_index("train", {"model": "m", "data": {"path": str(tmp_path / "nope")}})
    assert "could not be read" in gone.reason  # type: ignore[union-attr]
    assert "evaluation-only" in training_index("eval", {"data": {}}).reason  # type: ignore[union-attr]


def test_report_states_contamination_and_resolvable_difference(tmp_path: Path) -> None:
    planted = [1, 2, 3, 4, 5]
    folder, test = _planted_folder(tmp_path, planted)
    run_dir, _ = make_train_run(tmp_path)
    # The fixture's evaluation asks "Question {doc_id}: how many?"; make its questions real.
    samples = run_dir / "evals" / "e1" / "samples.jsonl"
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    for row in rows:
        row["doc"]["question"] = test[row["doc_id"]]["question"]
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    record = write_record(
        run_dir, config={"model": "tiny", "data": {"path": str(folder), "val_fraction": 0.0}}
    )
    analysis = analyse_run(run_dir, record)
    found = analysis.contamination["e1"]
    expected = sorted(r["doc_id"] for r in rows if r["doc_id"] in planted)
    assert list(found.overlap_ids) == expected
    n = len(rows)
    em = analysis.evaluations[0].primary
    assert em is not None and em.n == n
    assert analysis.resolvable["e1"] == resolvable_two_samples(em.em, n)

    out = tmp_path / "report"
    paths = render_run_report(run_dir, record, out, html=True)
    text = paths.md.read_text()
    assert f"Contamination: {len(expected)} of {n} evaluated problems overlap" in text
    assert "at 80 % power and α = 0.05" in text
    html = (out / "report.html").read_text()
    assert f"Contamination: {len(expected)} of {n}" in html
    data = json.loads((out / "analysis.json").read_text())
    assert data["evaluations"][0]["contamination"]["checked"] is True


# --- resolvable differences ---------------------------------------------------------------


def _z_test_power(p: float, q: float, n: int, reps: int, seed: int) -> float:
    """Share of simulated pairs of n-problem evaluations (at p and q) that a two-sided
    two-proportion z-test at α = 0.05 calls different."""
    rng = np.random.default_rng(seed)
    a = rng.binomial(n, p, reps) / n
    b = rng.binomial(n, q, reps) / n
    pooled = (a + b) / 2
    se = np.sqrt(2 * pooled * (1 - pooled) / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(a - b) / se, 0.0)
    return float(np.mean(z > 1.959964))


@pytest.mark.parametrize(("p", "n"), [(0.5, 200), (0.3, 400), (0.05, 500)])
def test_two_sample_difference_has_eighty_percent_power(p: float, n: int) -> None:
    d = resolvable_two_samples(p, n)
    assert d is not None
    # The larger of the two directions is the one toward 50 % (more variance): up, here.
    power = _z_test_power(p, p + d, n, 20_000, 1)
    assert 0.76 < power < 0.86


def test_textbook_value_and_degenerate_sizes() -> None:
    # Fleiss: two groups of 100 at 50 % need about 20 points for 80 % power.
    d = resolvable_two_samples(0.5, 100)
    assert d is not None and 0.18 < d < 0.21
    assert resolvable_two_samples(0.5, 1) is None
    assert resolvable_two_samples(0.0, 100) is not None  # 0/100 can still be beaten
    assert resolvable_paired(0.0, 100) is None  # never disagree: nothing resolvable


def test_paired_difference_matches_connor_sample_size() -> None:
    psi, n = 0.2, 150
    d = resolvable_paired(psi, n)
    assert d is not None
    za, zb = 1.959964, 0.841621
    needed = (za * math.sqrt(psi) + zb * math.sqrt(psi - d * d)) ** 2 / (d * d)
    assert needed == pytest.approx(n, rel=1e-6)


def test_paired_difference_power_by_simulation() -> None:
    psi, n = 0.3, 300
    d = resolvable_paired(psi, n)
    assert d is not None
    rng = random.Random(3)
    from scipy import stats

    hits, reps = 0, 2000
    for _ in range(reps):
        # Each problem: discordant with probability psi; of those, B right with (psi+d)/2psi.
        disc = sum(1 for _ in range(n) if rng.random() < psi)
        c = sum(1 for _ in range(disc) if rng.random() < (psi + d) / (2 * psi))
        b = disc - c
        if disc and stats.binomtest(b, disc, 0.5).pvalue < 0.05:
            hits += 1
    # Connor's formula is a normal approximation to the exact test: allow a few points.
    assert 0.72 < hits / reps < 0.88
