"""lm-evaluation-harness import: our rescoring against lm-eval's own per-row scores, pairing
of results and samples files, results-only import, and damaged input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gsmreport.core.runs import RUN_ID_RE
from gsmreport.gsm8k.answers import FILTERS, LM_EVAL_FILTERS, NUMERIC
from gsmreport.ingest import lm_eval
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.source import SourceData
from tests.conftest import shared_data

PREFIX = "pmemoli+Data-Science-Thesis__src_data_benchmark_results_gsm8k_"
STAMPS = ("2025-08-07T11-42-40.066002", "2025-08-11T10-35-08.100989")
# Keys our own eval job writes into results.json (jobs/evaluate.py `_write`), less run_id.
OUR_KEYS = {
    "eval_id",
    "model",
    "adapter",
    "n",
    "seed",
    "split",
    "data",
    "prompt_style",
    "max_new_tokens",
    "results",
    "counts",
    "runtime_s",
    "created_at",
    "hardware",
    "versions",
}


def _folder() -> Path:
    return shared_data("real-logs", "lm-eval")


def _results_file(stamp: str) -> Path:
    return _folder() / f"{PREFIX}gsm8k-phi-3-mini_{stamp}.json"


def _samples_file(stamp: str) -> Path:
    return _folder() / f"{PREFIX}samples_gsm8k_{stamp}.jsonl"


def _raw_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _one_line(err: pytest.ExceptionInfo[SourceError], path: Path, *words: str) -> None:
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message


# --- rescoring equals lm-eval's scoring ------------------------------------------------------


@pytest.mark.parametrize("stamp", STAMPS)
def test_our_rescoring_equals_lm_evals_exact_match_on_every_row(stamp: str) -> None:
    """Every (doc, filter) row lm-eval wrote: the same filtered string, byte for byte
    ("[invalid]" included), and the same exact_match; the counts are the raw file's sums."""
    raw = _raw_rows(_samples_file(stamp))
    (evaluation,) = lm_eval.read(_samples_file(stamp)).evals
    ours = {row["doc_id"]: row for row in evaluation.samples}
    assert len(ours) * len(LM_EVAL_FILTERS) == len(raw)  # one row per lm-eval filter per problem
    for row in raw:
        mine = ours[row["doc_id"]]
        name = row["filter"]
        (theirs,) = row["filtered_resps"]
        assert mine["filtered_resps"][name] == theirs, (row["doc_id"], name)
        assert mine["exact_match"][name] == int(row["exact_match"]), (row["doc_id"], name)
        assert mine["lm_eval_exact_match"][name] == row["exact_match"]
    for name in LM_EVAL_FILTERS:
        expected = sum(int(r["exact_match"]) for r in raw if r["filter"] == name)
        assert evaluation.results["counts"][name] == {"correct": expected, "n": len(ours)}
    # numeric-match is ours, beside them: never below strict-match on any row
    for mine in ours.values():
        assert mine["exact_match"][NUMERIC] >= mine["exact_match"]["strict-match"]


@pytest.mark.parametrize("stamp", STAMPS)
def test_our_counts_equal_lm_evals_reported_exact_match(stamp: str) -> None:
    with _results_file(stamp).open(encoding="utf-8") as handle:
        reported = json.load(handle)["results"]["gsm8k"]
    data = lm_eval.read(_results_file(stamp))
    (evaluation,) = data.evals
    assert data.warnings == []  # includes: no row where our scoring and lm-eval's differ
    for name in LM_EVAL_FILTERS:
        counts = evaluation.results["counts"][name]
        assert counts["correct"] / counts["n"] == pytest.approx(reported[f"exact_match,{name}"])


# --- the real files ------------------------------------------------------------------------


def test_folder_pairs_results_and_samples_by_timestamp() -> None:
    data = lm_eval.read(_folder())
    assert data.kind == "lm_eval"
    assert data.frame.is_empty()
    by_id = {e.eval_id: e for e in data.evals}
    assert set(by_id) == {"lm-eval-gsm8k-2025-08-07t11-42-40", "lm-eval-gsm8k-2025-08-11t10-35-08"}
    phi = by_id["lm-eval-gsm8k-2025-08-07t11-42-40"].results
    assert phi["lm_eval"]["samples_file"].endswith(f"samples_gsm8k_{STAMPS[0]}.jsonl")
    assert phi["lm_eval"]["results_file"].endswith(f"{STAMPS[0]}.json")
    assert phi["model"] == "microsoft/Phi-3-mini-4k-instruct"
    assert phi["n"] == 10
    assert phi["counts"] == {
        "strict-match": {"correct": 1, "n": 10},
        "flexible-extract": {"correct": 8, "n": 10},
        "numeric-match": {"correct": 8, "n": 10},  # strict's 1 and the 7 right last numbers
    }
    assert phi["prompt_style"] == "lm-eval 5-shot chat"  # run with Phi-3's chat template
    assert phi["created_at"] == "2025-08-07T11:42:40"
    assert phi["hardware"]["device_name"] == "NVIDIA GeForce RTX 2080 Ti"
    assert by_id["lm-eval-gsm8k-2025-08-11t10-35-08"].results["model"] == "gpt2"
    # Two models in one folder: said so, and each evaluation keeps its own.
    assert any("2 models" in w for w in data.warnings)


def test_results_shape_matches_our_eval_job() -> None:
    for evaluation in lm_eval.read(_folder()).evals:
        results = evaluation.results
        assert set(results) >= OUR_KEYS
        assert results["source"] == "lm-eval"
        assert results["split"] == "test"
        assert set(results["results"]["gsm8k"]) == {
            f"exact_match{kind},{name}" for kind in ("", "_stderr") for name in FILTERS
        }
        assert RUN_ID_RE.fullmatch(evaluation.eval_id)
        assert results["eval_id"] == evaluation.eval_id


def test_sample_rows_are_ours_plus_lm_evals_scores() -> None:
    (evaluation,) = lm_eval.read(_samples_file(STAMPS[1])).evals
    (row,) = evaluation.samples
    assert row["doc_id"] == 0
    assert row["target"] == "18"
    assert row["prediction"] == "84"
    assert row["category"] == "wrong answer"
    assert row["arguments"].startswith("Question: Jen and Tyler")  # the 5-shot prompt
    assert row["arguments"].endswith("Answer:")
    assert row["resps"][0][0].startswith(" Janet's ducks lay 16 eggs")
    assert row["lm_eval_exact_match"] == {"strict-match": 0.0, "flexible-extract": 0.0}


def test_one_file_brings_its_partner_from_beside_it() -> None:
    from_results = lm_eval.read(_results_file(STAMPS[0]))
    from_samples = lm_eval.read(_samples_file(STAMPS[0]))
    for data in (from_results, from_samples):
        (evaluation,) = data.evals
        assert len(evaluation.samples) == 10
        assert evaluation.results["model"] == "microsoft/Phi-3-mini-4k-instruct"
    assert from_results.model == "microsoft/Phi-3-mini-4k-instruct"


def test_results_only_import_counts_from_lm_evals_numbers(tmp_path: Path) -> None:
    path = tmp_path / "results_2025-08-07T11-42-40.066002.json"
    shutil.copy(_results_file(STAMPS[0]), path)
    data = lm_eval.read(path)
    (evaluation,) = data.evals
    assert evaluation.samples == []
    assert evaluation.results["n"] == 10
    assert evaluation.results["counts"] == {
        "strict-match": {"correct": 1, "n": 10},
        "flexible-extract": {"correct": 8, "n": 10},
    }  # numeric-match needs the responses: a results file alone leaves it unscored
    metrics = evaluation.results["results"]["gsm8k"]
    assert metrics["exact_match,flexible-extract"] == pytest.approx(0.8)
    (warning,) = data.warnings
    assert "no per-problem rows" in warning and str(path) in warning


def test_results_only_with_na_stderr(tmp_path: Path) -> None:
    path = tmp_path / "x_2025-08-11T10-35-08.100989.json"
    shutil.copy(_results_file(STAMPS[1]), path)
    (evaluation,) = lm_eval.read(path).evals
    metrics = evaluation.results["results"]["gsm8k"]
    assert metrics["exact_match_stderr,strict-match"] == 0.0  # lm-eval wrote "N/A" for n=1
    assert evaluation.results["counts"]["strict-match"] == {"correct": 0, "n": 1}


def test_samples_only_import(tmp_path: Path) -> None:
    path = tmp_path / f"samples_gsm8k_{STAMPS[0]}.jsonl"
    shutil.copy(_samples_file(STAMPS[0]), path)
    data = lm_eval.read(path)
    (evaluation,) = data.evals
    assert evaluation.eval_id == "lm-eval-gsm8k-2025-08-07t11-42-40"
    assert evaluation.results["model"] is None
    assert evaluation.results["counts"]["flexible-extract"] == {"correct": 8, "n": 10}
    assert evaluation.results["lm_eval"]["per_row_mean"]["exact_match,strict-match"] == 0.1
    assert data.warnings == []


def test_cut_off_last_line_keeps_the_rows_before_it(tmp_path: Path) -> None:
    path = tmp_path / f"samples_gsm8k_{STAMPS[0]}.jsonl"
    text = _samples_file(STAMPS[0]).read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n")[:-500], encoding="utf-8")
    data = lm_eval.read(path)
    (evaluation,) = data.evals
    assert len(evaluation.samples) == 10  # rows come filter by filter: all docs still there
    last = evaluation.samples[-1]
    assert last["doc_id"] == 9
    assert last["lm_eval_exact_match"] == {"strict-match": 1.0}  # its flexible row was cut
    (warning,) = data.warnings
    assert str(path) in warning and "cut off" in warning and "kept the 19 rows" in warning


def test_disagreement_with_lm_eval_is_a_warning(tmp_path: Path) -> None:
    rows = _raw_rows(_samples_file(STAMPS[1]))
    rows[0]["exact_match"] = 1.0  # as if lm-eval had scored doc 0 strict-match correct
    path = tmp_path / f"samples_gsm8k_{STAMPS[1]}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    data = lm_eval.read(path)
    (warning,) = data.warnings
    assert "strict-match scoring differs from lm-eval's on 1 of 1 problems (doc_id 0)" in warning


def _gsm8k_row(doc_id: int, response: str, **extra: Any) -> dict[str, Any]:
    doc = {"question": f"Q{doc_id}?", "answer": "2 + 2 = <<2+2=4>>4\n#### 4"}
    return {
        "doc_id": doc_id,
        "doc": doc,
        "target": doc["answer"],
        "arguments": [[f"Question: Q{doc_id}?\nAnswer:", {"until": ["Question:"]}]],
        "resps": [[response]],
        **extra,
    }


def test_old_rows_without_filter_take_the_config_order() -> None:
    rows = [
        _gsm8k_row(0, "so 4", exact_match=0.0),  # strict-match row (no `#### 4`)
        _gsm8k_row(0, "so 4", exact_match=1.0),  # flexible-extract row
    ]
    (row,) = lm_eval.problem_rows(Path("x.jsonl"), rows, ["strict-match", "flexible-extract"])
    assert row["arguments"] == "Question: Q0?\nAnswer:"
    assert row["lm_eval_exact_match"] == {"strict-match": 0.0, "flexible-extract": 1.0}
    assert row["exact_match"] == {"strict-match": 0, "flexible-extract": 1, "numeric-match": 1}


def test_other_tasks_in_a_results_file_are_skipped_with_a_warning(tmp_path: Path) -> None:
    with _results_file(STAMPS[0]).open(encoding="utf-8") as handle:
        data = json.load(handle)
    data["results"]["hellaswag"] = {"acc,none": 0.5}
    path = tmp_path / f"results_{STAMPS[0]}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    read = lm_eval.read(path)
    assert [e.results["task"] for e in read.evals] == ["gsm8k"]
    assert any("task hellaswag has no exact_match" in w for w in read.warnings)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("samples_gsm8k_2025-01-01T00-00-00.jsonl", b"\x00\x01\x02garbage", ("binary",)),
        ("samples_gsm8k_2025-01-01T00-00-00.jsonl", b"hello\nworld\n", ("line 1", "not JSON")),
        ("samples_gsm8k_2025-01-01T00-00-00.jsonl", b"[1, 2]\n", ("not an lm-eval sample",)),
        ("samples_gsm8k_2025-01-01T00-00-00.jsonl", b"", ("empty",)),
        ("results_2025-01-01T00-00-00.json", b'{"a": 1}', ("not an lm-eval results file",)),
        ("results_2025-01-01T00-00-00.json", b'{"results": {', ("not valid JSON",)),
        (
            "results_2025-01-01T00-00-00.json",
            b"version https://git-lfs.github.com/spec/v1\noid sha256:1\nsize 2\n",
            ("git lfs pull",),
        ),
    ],
    ids=["binary", "text", "not-a-sample", "empty", "other-json", "cut-json", "lfs"],
)
def test_bad_input_is_one_line_source_error(
    tmp_path: Path, name: str, content: bytes, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as err:
        lm_eval.read(path)
    _one_line(err, path, *words)


def test_samples_of_another_task_are_refused(tmp_path: Path) -> None:
    row = {"doc_id": 0, "doc": {"ctx": "A man"}, "resps": [["x"]], "arguments": []}
    path = tmp_path / "samples_hellaswag_2025-01-01T00-00-00.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(SourceError) as err:
        lm_eval.read(path)
    _one_line(err, path, "not GSM8K-style")


def test_lfs_pointer_in_a_folder_is_refused(tmp_path: Path) -> None:
    shutil.copy(_samples_file(STAMPS[1]), tmp_path / f"samples_gsm8k_{STAMPS[1]}.jsonl")
    pointer = tmp_path / f"samples_gsm8k_{STAMPS[0]}.jsonl"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:1\nsize 2\n")
    with pytest.raises(SourceError) as err:
        lm_eval.read(tmp_path)
    _one_line(err, pointer, "git lfs pull")


def test_garbage_beside_good_files_in_a_folder_is_a_warning(tmp_path: Path) -> None:
    shutil.copy(_samples_file(STAMPS[1]), tmp_path / f"samples_gsm8k_{STAMPS[1]}.jsonl")
    bad = tmp_path / f"samples_gsm8k_{STAMPS[0]}.jsonl"
    bad.write_bytes(b"\x00\xff garbage")
    (tmp_path / "notes.json").write_text('{"unrelated": true}')
    data: SourceData = lm_eval.read(tmp_path)
    assert len(data.evals) == 1
    (warning,) = data.warnings
    assert str(bad) in warning and "skipped" in warning


def test_empty_folder_is_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        lm_eval.read(tmp_path)
    _one_line(err, tmp_path)
