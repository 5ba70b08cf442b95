"""Prediction dumps as evaluations: the real Haskely file (1,319 generations), OpenAI's
per-model shape, CSV with --map, auto-detection and its one-line failures, and the failure
taxonomy pinned against examples labelled by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gsmreport.analysis.failures import (
    ARITHMETIC,
    COPIED,
    PARTIAL,
    REASONING,
    SCALE,
    classify,
    failure_table,
)
from gsmreport.core.settings import Dirs
from gsmreport.ingest import predictions
from gsmreport.ingest.detect import detect_file
from gsmreport.ingest.files import SourceError
from tests.conftest import shared_data
from tests.test_cli import gsm


def _haskely() -> Path:
    (path,) = sorted(shared_data("real-logs", "predictions").glob("*gen_datas.jsonl"))
    return path


def _raw(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- the real 1,319 predictions --------------------------------------------------------------


def test_haskely_dump_is_an_evaluation_of_every_problem() -> None:
    path = _haskely()
    raw = _raw(path)
    assert detect_file(path).kind == "predictions"  # found by its field names alone
    data = predictions.read(path)
    assert data.warnings == []
    (evaluation,) = data.evals
    rows = evaluation.samples
    assert len(rows) == len(raw) == evaluation.results["n"] == 1319
    assert [r["doc_id"] for r in rows] == [r["index"] for r in raw]
    for mine, theirs in zip(rows, raw, strict=True):
        assert mine["doc"]["question"] == theirs["gsm8k_data"]["question"]
        assert mine["resps"] == [[theirs["output_str"]]]
        assert mine["arguments"] == theirs["input_str"]
    # strict-match by hand: the first "#### n" of the output, as text, against the gold's
    strict = 0
    for r in raw:
        found = re.search(r"#### (\-?[0-9\.\,]+)", r["output_str"])
        gold = r["gsm8k_data"]["answer"].split("#### ")[-1]
        written = found.group(1).replace(",", "").rstrip(".") if found else None
        strict += written == gold.replace(",", "")
    counts = evaluation.results["counts"]
    assert counts["strict-match"] == {"correct": strict, "n": 1319}
    assert set(counts) == {"strict-match", "flexible-extract", "numeric-match"}
    assert evaluation.results["fields"] == {
        "question": "gsm8k_data.question",
        "gold": "gsm8k_data.answer",
        "id": "index",
        "prompt": "input_str",
        "response": "output_str",
    }


# Labelled by reading each response against the question and gold solution (the categories'
# definitions in analysis/failures.py, first that fits), before running the classifier.
HAND_LABELS = {
    470: COPIED,  # every step true, answers 2: the pen's price in the question
    212: ARITHMETIC,  # 2 * 1.5 + 2 * 6 written as 18 (is 15)
    582: ARITHMETIC,  # 70/100 * 76,000 written as 55,200 (is 53,200)
    959: REASONING,  # Jeffrey given Jason's 2 balls; every equation true
    74: ARITHMETIC,  # 1.87 * 9 written as 17.59
    108: ARITHMETIC,  # 11 + 5 = 6
    1178: REASONING,  # "2x = 2x ... x = 1": no false arithmetic, wrong setup
    797: REASONING,  # sings Deck the Halls once; 150 + 240 and 390 / 2 are both true
    139: ARITHMETIC,  # 48 + 22 = 60
    533: REASONING,  # algebra with X (X*2 - 40 = $2,400) is no false arithmetic
    864: ARITHMETIC,  # 5000 - 20 = 480
    87: REASONING,  # compounding a monthly raise: every step true
    1303: PARTIAL,  # answers 3, the gold's 9 - 6 = 3 step
    759: SCALE,  # 60 for 60,000: ÷1000
}


def test_failure_taxonomy_agrees_with_hand_labels_on_real_predictions() -> None:
    (evaluation,) = predictions.read(_haskely()).evals
    by_doc = {row["doc_id"]: row for row in evaluation.samples}
    assert len(HAND_LABELS) >= 10
    got = {doc_id: classify(by_doc[doc_id]) for doc_id in HAND_LABELS}
    assert got == HAND_LABELS
    table = {fc.category: fc.count for fc in failure_table(evaluation.samples)}
    wrong = sum(1 for r in evaluation.samples if not r["correct"])
    assert sum(table.values()) == wrong
    # every hand-labelled category is one the table counts
    assert all(table[c] > 0 for c in set(HAND_LABELS.values()))


def test_cli_imports_the_dump_with_and_without_map(tmp_path: Path, dirs: Dirs) -> None:
    path = _haskely()
    auto = gsm("ingest", str(path), "--name", "auto", cwd=tmp_path)
    assert auto.returncode == 0, auto.stderr
    assert "(predictions, 0 metric rows, 1 eval(s))" in auto.stdout
    mapped = gsm(
        "ingest",
        str(path),
        "--name",
        "mapped",
        "--map",
        "question=gsm8k_data.question,gold=gsm8k_data.answer,response=output_str",
        cwd=tmp_path,
    )
    assert mapped.returncode == 0, mapped.stderr
    for run in ("auto", "mapped"):
        (samples,) = (dirs.runs / run / "evals").glob("*/samples.jsonl")
        assert len(samples.read_text().splitlines()) == 1319
    shown = gsm("show", "mapped", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    for name in ("strict-match", "flexible-extract", "numeric-match"):
        assert f"{name} " in shown.stdout


# --- other shapes ----------------------------------------------------------------------------

QUESTIONS = [
    ("Ann has 3 apples and buys 4 more. How many?", "3 + 4 = <<3+4=7>>7\nA: 7", "7"),
    ("A box holds 12 eggs. How many in 2 boxes?", "12 * 2 = <<12*2=24>>24\nA: 24", "24"),
    ("Tom pays $1,200 and $300. How much in all?", "1,200 + 300 = 1,500\nA: 1,500", "1500"),
]


def _openai_shape(path: Path) -> Path:
    """The shape of OpenAI's example_model_solutions.jsonl (grade-school-math): question,
    ground_truth ending "A: n", and one {is_correct, solution} object per model."""
    answers = {"6b_finetuning": ["7", "25", "1,500"], "175b_verification": ["7", "24", "12"]}
    lines = []
    for i, (question, truth, gold) in enumerate(QUESTIONS):
        record: dict[str, Any] = {"question": question, "ground_truth": truth}
        for model, given in answers.items():
            record[model] = {
                "is_correct": given[i].replace(",", "") == gold,
                "solution": f"Working it out step by step.\nA: {given[i]}",
            }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_openai_model_solutions_give_one_evaluation_per_model(tmp_path: Path) -> None:
    path = _openai_shape(tmp_path / "example_model_solutions.jsonl")
    raw = _raw(path)
    assert detect_file(path).kind == "predictions"
    data = predictions.read(path)
    by_model = {e.results["model"]: e for e in data.evals}
    assert set(by_model) == {"6b_finetuning", "175b_verification"}
    for model, evaluation in by_model.items():
        counts = evaluation.results["counts"]
        # no "#### n" anywhere: lm-eval's strict-match scores none, as it would
        assert counts["strict-match"] == {"correct": 0, "n": 3}
        # numeric-match reads the last number: the file's own is_correct judgement
        expected = sum(bool(r[model]["is_correct"]) for r in raw)
        assert counts["numeric-match"] == {"correct": expected, "n": 3}


def test_csv_with_any_column_names_and_map(tmp_path: Path) -> None:
    path = tmp_path / "preds.csv"
    path.write_text(
        "q,sol,out\n"
        + "".join(f'"{q}","{s}","so #### {g}"\n' for q, s, g in QUESTIONS)
        + '"One more?","#### 29","#### 29.00"\n'
    )
    with pytest.raises(SourceError) as err:
        predictions.read(path)
    message = str(err.value)
    assert "\n" not in message and "fields found: q, sol, out" in message and "--map" in message
    data = predictions.read(path, {"question": "q", "gold": "sol", "response": "out"})
    (evaluation,) = data.evals
    counts = evaluation.results["counts"]
    assert counts["strict-match"] == {"correct": 3, "n": 4}  # "#### 29.00" is not 29 to lm-eval
    assert counts["numeric-match"] == {"correct": 4, "n": 4}
    (row,) = [r for r in evaluation.samples if r["doc_id"] == 3]
    assert classify(row) == "right number, wrong format"


def test_cli_unknown_fields_is_one_line_naming_them(tmp_path: Path, dirs: Dirs) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_text(json.dumps({"prob": "Q?", "truth": "#### 3", "said": "#### 3"}) + "\n")
    proc = gsm("ingest", str(path), "--map", "question=prob,gold=truth", cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert "response" in line and "prob, truth, said" in line and "Traceback" not in proc.stderr
    bare = gsm("ingest", str(path), cwd=tmp_path)  # no --map: nothing to recognise it by
    assert bare.returncode == 1
    (line,) = [x for x in bare.stderr.splitlines() if x.startswith("error:")]
    assert "fields found: prob, truth, said" in line and "--map question=FIELD" in line
    ok = gsm("ingest", str(path), "--map", "question=prob,gold=truth,response=said", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_gold_forms() -> None:
    assert predictions.gold_solution("x\n#### 1,450,000") == "x\n#### 1,450,000"
    assert predictions.gold_solution("so A: 18.") == "so A: 18.\n#### 18"
    assert predictions.gold_solution(42) == "#### 42"
    assert predictions.gold_solution("no number") is None
    assert predictions.gold_solution(None) is None


# --- a CSV of accuracies attached to its runs --------------------------------------------------


def test_runs_csv_attaches_each_row_to_its_run(tmp_path: Path, dirs: Dirs) -> None:
    import csv

    from gsmreport.core.runs import RunRecord, RunStore

    folder = shared_data("real-logs", "trainer_state")
    (table,) = sorted(folder.glob("YuZh98*runs.csv"))
    (state,) = sorted(folder.glob("YuZh98*run2_r16_seed43.json"))
    imported = gsm("ingest", str(state), "--name", "run2-r16-seed43", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    RunStore(dirs.runs).create(RunRecord(id="run0-base", kind="eval", status="completed"))

    proc = gsm("ingest", str(table), "--attach-key", "run_id", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the later of two identical (run, scorer) rows is kept, and the rest are named
    assert "same scorer again" in proc.stderr and "no run matches run_id run1_r8" in proc.stderr

    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    for run_id, key in (("run0-base", "run0_base"), ("run2-r16-seed43", "run2_r16_seed43")):
        expected = {
            r["answer_regex"]: (int(r["n_correct"]), int(r["n_problems"]))
            for r in rows
            if r["run_id"] == key
        }
        got = {}
        for results in (dirs.runs / run_id / "evals").glob("*/results.json"):
            data = json.loads(results.read_text())
            got[data["scorer"]] = (
                data["counts"]["reported"]["correct"],
                data["counts"]["reported"]["n"],
            )
            # another tool's accuracy is never filed under one of our scores' names
            assert set(data["counts"]) == {"reported"}
        assert got == expected
    shown = gsm("show", "run2-r16-seed43", cwd=tmp_path)
    assert "reported 69.1 % (911/1319)" in shown.stdout


def test_attach_key_mistakes_are_one_line(tmp_path: Path, dirs: Dirs) -> None:
    (table,) = sorted(shared_data("real-logs", "trainer_state").glob("YuZh98*runs.csv"))
    for args, words in (
        (["--attach-key", "nope"], ["'nope' is not a column", "run_id, adapter"]),
        (["--attach-key", "run_id"], ["no row could be attached", "import those runs first"]),
    ):
        proc = gsm("ingest", str(table), *args, cwd=tmp_path)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert all(w in line for w in words), line


def test_json_object_holding_a_list_of_records(tmp_path: Path) -> None:
    records = [
        {"question": q, "answer": f"#### {g}", "completion": f"It is {g}."} for q, _, g in QUESTIONS
    ]
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"model": "m", "predictions": records}))
    assert detect_file(path).kind == "predictions"
    (evaluation,) = predictions.read(path).evals
    counts = evaluation.results["counts"]
    assert counts["strict-match"] == {"correct": 0, "n": 3}  # no "#### n" in the completions
    assert counts["flexible-extract"] == {"correct": 3, "n": 3}  # "1500." loses its "."
    assert counts["numeric-match"] == {"correct": 3, "n": 3}
