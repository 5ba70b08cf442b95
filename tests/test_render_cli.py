"""`gsmreport render` for CI: --out, --card, --all with staleness and workers, quality gates.

Through a subprocess, as a user or a CI job meets it: stdout lines, one `error:` line for a
mistake, and the documented exit codes (0 ok, 1 render failed, 2 usage, 3 gate failed).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gsmreport.core.redact import REDACTED
from gsmreport.core.runs import RunRecord
from gsmreport.core.settings import Dirs
from gsmreport.report.card import card_metadata, dataset_entry
from gsmreport.report.gate import parse_gate, valid_names
from tests.run_fixtures import make_train_run, write_metrics_jsonl, write_record
from tests.test_cli import _one_error_line, gsm


def _samples_em(run_dir: Path, name: str) -> tuple[int, int]:
    """(correct, n) of one filter, counted straight from samples.jsonl."""
    rows = [json.loads(line) for line in (run_dir / "evals" / "e1" / "samples.jsonl").open()]
    return sum(int(r["exact_match"][name]) for r in rows), len(rows)


def _front_matter(card: Path) -> tuple[dict[str, Any], str]:
    text = card.read_text(encoding="utf-8")
    assert text.startswith("---\n"), text[:80]
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def _no_eval_run(root: Path, run_id: str = "no-eval") -> Path:
    run_dir = root / "runs" / run_id
    write_metrics_jsonl(run_dir)
    write_record(run_dir)
    return run_dir


def test_out_writes_under_the_given_folder(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "demo-run")
    proc = gsm("render", "demo-run", "--html", "--out", "shared/site", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "shared" / "site" / "demo-run"
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert (out / "charts" / "loss.png").is_file()
    assert str(Path("shared/site/demo-run/report.md")) in proc.stdout
    assert not dirs.reports.exists()


def test_card_front_matter_carries_the_measured_exact_match(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, _ = make_train_run(tmp_path, "demo-run")
    proc = gsm("render", "demo-run", "--card", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    card = dirs.reports / "demo-run" / "README.md"
    assert str(card) in proc.stdout
    meta, body = _front_matter(card)
    assert meta["base_model"] == "tiny-llama" and meta["library_name"] == "peft"
    assert meta["pipeline_tag"] == "text-generation" and "lora" in meta["tags"]
    [entry] = meta["model-index"]
    assert entry["name"] == "demo-run"
    [result] = entry["results"]
    assert result["task"]["type"] == "text-generation"
    dataset = result["dataset"]
    assert (dataset["name"], dataset["type"], dataset["config"], dataset["split"]) == (
        "GSM8K",
        "openai/gsm8k",
        "main",
        "test",
    )
    by_filter = {m["config"]: m for m in result["metrics"]}
    assert set(by_filter) == {"strict-match", "flexible-extract"}
    for name, metric in by_filter.items():
        correct, n = _samples_em(run_dir, name)
        assert metric["type"] == "exact_match"
        assert metric["value"] == pytest.approx(100 * correct / n, abs=0.005)  # percent
        assert f"n={n}" in metric["name"]
    # The body: what was trained, secrets redacted, the evaluation with its honest interval.
    assert "hf_SECRET123" not in card.read_text() and REDACTED in body
    assert "training.learning_rate | 0.0002" in body
    assert "| strict-match | 33.3 % | 2 / 6 | 9.7 % – 70.0 % |" in body
    assert "about ±9 points" in body and "not task accuracy" in body


def test_card_without_evaluation_claims_no_results(tmp_path: Path, dirs: Dirs) -> None:
    _no_eval_run(tmp_path)
    proc = gsm("render", "no-eval", "--card", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    meta, body = _front_matter(dirs.reports / "no-eval" / "README.md")
    assert "model-index" not in meta
    evaluation = body.split("## Evaluation", 1)[1].split("\n## ", 1)[0]
    assert "not measured" in evaluation and "%" not in evaluation


def test_card_of_local_eval_data_does_not_claim_the_hub_dataset(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, _ = make_train_run(tmp_path, "local-data")
    results = run_dir / "evals" / "e1" / "results.json"
    data = json.loads(results.read_text())
    results.write_text(json.dumps({**data, "data": "/data/my-gsm8k-copy"}))
    assert gsm("render", "local-data", "--card", cwd=tmp_path).returncode == 0
    meta, body = _front_matter(dirs.reports / "local-data" / "README.md")
    dataset = meta["model-index"][0]["results"][0]["dataset"]
    assert dataset["type"] != "openai/gsm8k" and "local" in dataset["name"]
    assert "/data/my-gsm8k-copy" in body


def _statuses(stdout: str) -> dict[str, str]:
    """run id → "rendered" / "up to date", from the per-run lines (any finishing order)."""
    out = {}
    for line in stdout.splitlines():
        for status in ("rendered", "up to date"):
            if line.startswith(f"{status} "):
                out[line.removeprefix(f"{status} ").split(":")[0]] = status
    return out


def test_render_all_skips_up_to_date_runs(tmp_path: Path, dirs: Dirs) -> None:
    runs = ("run-a", "run-b", "run-c")
    for rid in runs:
        make_train_run(tmp_path, rid)
    first = gsm("render", "--all", "--jobs", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert _statuses(first.stdout) == dict.fromkeys(runs, "rendered")
    assert first.stdout.splitlines()[-1] == "3 rendered"

    second = gsm("render", "--all", "--jobs", "2", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert _statuses(second.stdout) == dict.fromkeys(runs, "up to date")
    assert second.stdout.splitlines()[-1] == "3 up to date"

    # A new evaluation result makes that run, and only that run, stale.
    results = dirs.runs / "run-b" / "evals" / "e1" / "results.json"
    later = time.time() + 5
    os.utime(results, (later, later))
    third = gsm("render", "--all", "--jobs", "2", cwd=tmp_path)
    assert third.returncode == 0, third.stderr
    assert _statuses(third.stdout) == {
        "run-a": "up to date",
        "run-b": "rendered",
        "run-c": "up to date",
    }
    assert third.stdout.splitlines()[-1] == "1 rendered, 2 up to date"

    # Asking for a format a report lacks makes it stale too; --force renders everything.
    html = gsm("render", "--all", "--html", "--jobs", "1", cwd=tmp_path)
    assert html.stdout.splitlines()[-1] == "3 rendered"
    assert all((dirs.reports / rid / "report.html").is_file() for rid in runs)
    forced = gsm("render", "--all", "--force", cwd=tmp_path)
    assert forced.stdout.splitlines()[-1] == "3 rendered"


def test_one_broken_run_fails_the_batch_not_the_others(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "good")
    bad_dir, _ = make_train_run(tmp_path, "bad")
    (bad_dir / "evals" / "e1" / "results.json").write_text("{not json")
    proc = gsm("render", "--all", "--jobs", "2", "--fail-under", "exact_match=0.1", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # a failed render outranks the gate (exit 3)
    assert "error: bad: " in proc.stderr and "unreadable results" in proc.stderr
    assert (dirs.reports / "good" / "report.md").is_file()
    assert proc.stdout.splitlines()[-1] == "1 rendered, 1 failed"
    assert "Traceback" not in proc.stderr


def test_fail_under_passes_and_fails(tmp_path: Path, dirs: Dirs) -> None:
    run_dir, _ = make_train_run(tmp_path, "demo-run")
    correct, n = _samples_em(run_dir, "strict-match")
    below, above = correct / n - 0.01, correct / n + 0.01
    ok = gsm("render", "demo-run", "--fail-under", f"exact_match={below:.3f}", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "gate: all 1 run(s) pass" in ok.stdout
    bad = gsm("render", "demo-run", "--fail-under", f"exact_match={above * 100:.1f}%", cwd=tmp_path)
    assert bad.returncode == 3, bad.stderr
    gate_line = f"gate: demo-run exact_match {correct / n:.3f} < {above:.3g} (strict-match, n={n})"
    assert gate_line in bad.stderr.splitlines()
    assert (dirs.reports / "demo-run" / "report.md").is_file()  # rendered, then gated


def test_numeric_match_and_flexible_extract_gates(tmp_path: Path, dirs: Dirs) -> None:
    from gsmreport.gsm8k.scoring import rescored_exact_match

    run_dir, _ = make_train_run(tmp_path, "demo-run")
    (samples,) = run_dir.glob("evals/*/samples.jsonl")
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    numeric = sum(rescored_exact_match(r)["numeric-match"] for r in rows) / len(rows)
    bad = gsm(
        "render", "demo-run", "--fail-under", f"numeric_match={numeric + 0.01:.3f}", cwd=tmp_path
    )
    assert bad.returncode == 3, bad.stderr
    assert f"gate: demo-run numeric_match {numeric:.3f} < " in bad.stderr
    assert f"(numeric-match, n={len(rows)})" in bad.stderr
    ok = gsm("render", "demo-run", "--fail-under", "flexible_extract=0", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_fail_over_for_lower_is_better_metrics(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "demo-run")  # final training loss 1.09
    proc = gsm("render", "demo-run", "--fail-over", "final_loss=1.0", cwd=tmp_path)
    assert proc.returncode == 3
    assert "gate: demo-run final_loss 1.090 > 1" in proc.stderr
    wrong_way = gsm("render", "demo-run", "--fail-under", "final_loss=1.0", cwd=tmp_path)
    assert wrong_way.returncode == 2
    assert "use --fail-over final_loss=1.0" in _one_error_line(wrong_way)


def test_unknown_metric_is_a_usage_error_before_rendering(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "demo-run")
    proc = gsm("render", "demo-run", "--fail-under", "accuracy=0.3", cwd=tmp_path)
    assert proc.returncode == 2
    line = _one_error_line(proc)
    assert "unknown metric 'accuracy'" in line and "exact_match" in line and "final_loss" in line
    assert not dirs.reports.exists()


def test_run_without_evaluation_fails_an_exact_match_gate(tmp_path: Path, dirs: Dirs) -> None:
    _no_eval_run(tmp_path)
    make_train_run(tmp_path, "evaluated")
    proc = gsm("render", "--all", "--fail-under", "exact_match=0.25", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    gate_lines = [line for line in proc.stderr.splitlines() if line.startswith("gate:")]
    assert gate_lines == [
        "gate: no-eval exact_match not measured (no evaluation), needs exact_match >= 0.25"
    ]
    assert proc.stderr.splitlines()[-1] == "error: 1 of 2 run(s) failed the quality gate"


@pytest.mark.parametrize(
    ("spec", "field", "threshold"),
    [
        ("exact_match=0.25", "em", 0.25),
        ("exact_match=25%", "em", 0.25),
        ("em = 12.5 %", "em", 0.125),
        ("loss_drop_pct=20%", "loss_drop_pct", 20.0),
        ("n_eval=100", "n_eval", 100.0),
    ],
)
def test_gate_specs(spec: str, field: str, threshold: float) -> None:
    gate = parse_gate(spec, "under")
    assert gate.field == field and gate.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("exact_match", "expected METRIC=VALUE"),
        ("exact_match=25", "share between 0 and 1"),
        ("exact_match=abc", "is not a number"),
        ("exact_match=nan", "finite"),
        ("n_eval=50%", "not a percentage"),
    ],
)
def test_bad_gate_specs(spec: str, fragment: str) -> None:
    from gsmreport.core.errors import UsageError

    with pytest.raises(UsageError, match=fragment):
        parse_gate(spec, "under")


def test_help_documents_gates_and_exit_codes(tmp_path: Path) -> None:
    proc = gsm("render", "--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for name in valid_names():
        assert name in text, f"gate metric {name} not in `render --help`"
    assert "3 a --fail-under/--fail-over gate failed" in text and "--card" in text


def _record(**fields: Any) -> RunRecord:
    base = {"id": "r", "kind": "train", "status": "completed", "method": "lora"}
    return RunRecord.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "base"),
    [
        ({"model": "google/gemma-2-2b-it"}, "google/gemma-2-2b-it"),
        ({"model": "/home/me/models/tiny"}, None),  # a local folder is not a Hub id
        ({"model": "./tiny"}, None),
        ({"model": "google/gemma-2-2b-it", "kind": "eval", "method": "none"}, None),
    ],
)
def test_card_base_model_only_for_hub_ids_of_trained_runs(
    fields: dict[str, Any], base: str | None
) -> None:
    meta = card_metadata(_record(**fields), [])
    assert meta.get("base_model") == base
    assert "model-index" not in meta  # no evaluation, no results claimed


def test_card_names_the_training_dataset_only_when_it_is_the_hub_one() -> None:
    assert card_metadata(_record(data="openai/gsm8k (main)"), [])["datasets"] == ["openai/gsm8k"]
    assert "datasets" not in card_metadata(_record(data="/data/gsm8k (main)"), [])
    assert "datasets" not in card_metadata(_record(data="gsm8k (synthetic)"), [])


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"data": "openai/gsm8k (main)", "prompt_style": "one-shot"}, ("openai/gsm8k", "main", 1)),
        (
            {"data": "gsm8k (socratic)", "prompt_style": "lm-eval 5-shot chat"},
            ("openai/gsm8k", "socratic", 5),
        ),
        ({"data": "/srv/data/gsm8k", "prompt_style": "zero-shot"}, ("gsm8k-format", None, 0)),
        ({"prompt_style": "plain"}, ("gsm8k-format", None, None)),
    ],
)
def test_card_dataset_entry(
    meta: dict[str, Any], expected: tuple[str, str | None, int | None]
) -> None:
    entry = dataset_entry(meta)
    shots = entry.get("args", {}).get("num_few_shot")
    assert (entry["type"], entry.get("config"), shots) == expected
    assert entry["split"] == "test"
