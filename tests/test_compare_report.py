"""`gsmreport render --compare`: three runs on the same problems, every number recomputed here.

The runs answer ten shared problems with correctness patterns chosen in this file, so the
exact-match counts, the discordant pairs, McNemar's p and the paired difference can be worked
out by hand below and compared with what the report prints.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gsmreport.analysis.compare_runs import load_run
from gsmreport.analysis.stats import wilson_interval
from gsmreport.core.errors import UsageError
from gsmreport.core.fmt import num, pct
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.report.compare_report import write_comparison
from gsmreport.report.compare_tables import find_setting, flatten
from tests.run_fixtures import SUMMARY, TRAIN, jsonl_line, train_log, write_record
from tests.test_cli import _one_error_line, gsm

DOCS = range(10)
# doc_id → correct, per run. base: 3 / 10; lora-a: 7 / 10; full-b: 4 / 10.
PATTERNS = {
    "base": {0, 1, 2},
    "lora-a": {0, 1, 3, 4, 5, 6, 7},
    "full-b": {0, 3, 8, 9},
}
LOSS_SCALE = {"lora-a": 1.0, "full-b": 0.8}  # full-b reaches the lower loss, yet scores lower
SPEED = {"lora-a": 11.4, "full-b": 5.7}


def write_samples(run_dir: Path, correct: set[int], eval_id: str = "e1") -> Path:
    """samples.jsonl and results.json in the eval job's format, right on the docs in `correct`."""
    eval_dir = run_dir / "evals" / eval_id
    eval_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for doc in DOCS:
        gold = str(10 + doc)
        ok = doc in correct
        answer = gold if ok else str(90 + doc)
        response = f"{run_dir.name} works it out: {doc} + 10 = {answer}\n#### {answer}"
        rows.append(
            {
                "doc_id": doc,
                "doc": {"question": f"What is {doc} + 10?", "answer": f"#### {gold}"},
                "target": gold,
                "resps": [[response]],
                "filtered_resps": {"strict-match": answer, "flexible-extract": answer},
                # flexible-extract also credits doc 9 to every run: a filter difference to see
                "exact_match": {
                    "strict-match": int(ok),
                    "flexible-extract": int(ok or doc == 9),
                    "numeric-match": int(ok),
                },
                "prediction": answer,
                "correct": ok,
                "category": "correct" if ok else "wrong answer",
            }
        )
    (eval_dir / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    results = {"eval_id": eval_id, "split": "test", "prompt_style": "zero-shot", "n": len(rows)}
    (eval_dir / "results.json").write_text(json.dumps(results))
    return eval_dir


def train_run(
    root: Path,
    run_id: str,
    *,
    method: str = "lora",
    scale: float | None = None,
    speed: float | None = None,
    correct: set[int] | None = None,
) -> Path:
    """A training run whose logged losses are the fixture's × `scale`, evaluated on DOCS."""
    run_dir = root / "runs" / run_id
    run_dir.mkdir(parents=True)
    scale = LOSS_SCALE[run_id] if scale is None else scale
    lines = [jsonl_line(s, train_log(s, loss * scale, acc)) for s, loss, acc in TRAIN]
    speed = SPEED[run_id] if speed is None else speed
    summary = {**SUMMARY, "train_samples_per_second": speed}
    lines.append(jsonl_line(TRAIN[-1][0], summary))
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    config: dict[str, Any] = {
        "model": "tiny-llama",
        "method": method,
        "lora": {"r": 16, "alpha": 32},
        "training": {"learning_rate": 2e-4, "epochs": 1.0, "batch_size": 8, "grad_accum": 4},
    }
    write_record(run_dir, method=method, config=config)
    write_samples(run_dir, PATTERNS[run_id] if correct is None else correct)
    return run_dir


def three_runs(root: Path) -> list[str]:
    base = root / "runs" / "base"
    base.mkdir(parents=True)
    write_record(base, kind="eval", method="none", runtime_s=None, config={"model": "tiny-llama"})
    write_samples(base, PATTERNS["base"])
    train_run(root, "lora-a")
    train_run(root, "full-b", method="full")
    return ["lora-a", "full-b", "base"]


def _discordant(a: str, b: str) -> tuple[int, int]:
    """(a right & b wrong, a wrong & b right) counted from the patterns."""
    return len(PATTERNS[a] - PATTERNS[b]), len(PATTERNS[b] - PATTERNS[a])


def _mcnemar_by_hand(b: int, c: int) -> float:
    n = b + c
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n)


def _row(md: str, label: str) -> list[str]:
    line = next(x for x in md.splitlines() if x.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")][1:]


@pytest.fixture
def compared(tmp_path: Path, dirs: Dirs) -> tuple[str, Path]:
    ids = three_runs(tmp_path)
    paths = write_comparison(RunStore(dirs.runs), ids, tmp_path / "out")
    return paths.md.read_text(), tmp_path / "out"


def test_results_table_exact_match_equals_the_counts(compared: tuple[str, Path]) -> None:
    md, _ = compared
    header = next(x for x in md.splitlines() if x.startswith("| | "))
    assert header == "| | lora-a | full-b | base |"
    strict = _row(md, "exact match (strict-match), correct / n")
    wilson = _row(md, "exact match (strict-match), 95 % Wilson interval")
    flexible = _row(md, "exact match (flexible-extract), correct / n")
    numeric = _row(md, "exact match (numeric-match), correct / n")
    for i, rid in enumerate(("lora-a", "full-b", "base")):
        k = len(PATTERNS[rid])
        assert strict[i] == f"{pct(k / 10)} ({k} / 10)"
        low, high = wilson_interval(k, 10)
        assert wilson[i] == f"{pct(low)} – {pct(high)}"
        k_flex = len(PATTERNS[rid] | {9})
        assert flexible[i] == f"{pct(k_flex / 10)} ({k_flex} / 10)"
        assert numeric[i] == strict[i]  # the fixture's numeric-match credits what strict does
    assert _row(md, "final train loss") == [
        f"{num(TRAIN[-1][1] * LOSS_SCALE[r])} (step 60)" for r in ("lora-a", "full-b")
    ] + ["not measured"]
    assert _row(md, "training samples/s") == ["11.40", "5.70", "not measured"]
    # The configuration table finds nested keys, and a full fine-tune shows no LoRA rank.
    assert _row(md, "learning rate") == ["0.0002", "0.0002", "— (evaluation only)"]
    assert _row(md, "LoRA r") == ["16", "— (full fine-tune)", "— (evaluation only)"]
    assert _row(md, "grad accumulation")[:2] == ["4", "4"]
    assert "Token accuracy" not in md and "mean token accuracy (TRL" in md


def test_paired_tests_match_hand_computed_mcnemar(compared: tuple[str, Path]) -> None:
    md, _ = compared
    assert "Base run: base (evaluation-only run of tiny-llama, the others' base model)" in md
    for rid in ("lora-a", "full-b"):
        b, c = _discordant("base", rid)
        p = _mcnemar_by_hand(b, c)
        diff = (len(PATTERNS[rid]) - len(PATTERNS["base"])) / 10 * 100
        cells = _row(md, rid)
        assert cells[0] == "10"
        assert cells[3].startswith(f"{'+' if diff >= 0 else '−'}{abs(diff):.1f} points (")
        assert cells[4] == f"{b} / {c}"
        assert cells[5] == f"{p:.4f}"
    # lora-a: base-only right {2}, lora-a-only right {3,4,5,6,7} → p = 2·(1 + 6)/64 = 0.21875
    assert _discordant("base", "lora-a") == (1, 5)
    assert _row(md, "lora-a")[5] == "0.2188"
    assert "no significant difference on 10 shared problems (McNemar p = 0.22" in md


def test_findings_are_only_what_the_data_supports(compared: tuple[str, Path]) -> None:
    md, _ = compared
    findings = md.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert "only 2 runs with both a final loss and an accuracy" in findings
    assert "not meaningful" in findings and "Spearman ρ =" not in findings
    # 7/10 against 4/10 is not significant paired (below), so no "disconnect" is claimed.
    assert "The lowest final training loss" not in findings
    assert (
        "No loss/accuracy disconnect is claimed: the lowest-loss run full-b and the most "
        "accurate run lora-a do not differ significantly (" in findings
    )
    assert "Highest exact match (strict-match): lora-a, 70.0 % (7 / 10" in findings
    assert "its lead over the runner-up full-b (40.0 %) is not significant" in findings
    assert "Fastest training by samples/s: lora-a at 11.40 samples/s, 2.0× full-b" in findings


def test_spearman_sentence_for_three_evaluated_training_runs(tmp_path: Path, dirs: Dirs) -> None:
    three_runs(tmp_path)
    train_run(tmp_path, "lora-c", scale=0.9, speed=8.0, correct={1, 2})
    paths = write_comparison(RunStore(dirs.runs), ["lora-a", "full-b", "lora-c"], tmp_path / "o")
    md = paths.md.read_text()
    assert (
        "only 3 runs with both a final loss and an accuracy: "
        "a rank correlation between them is not meaningful"
    ) in md
    # No eval-only run among them: the first run is the base.
    assert "Base run: lora-a (the first run given" in md


def test_side_by_side_shows_a_problem_where_runs_disagree(compared: tuple[str, Path]) -> None:
    md, _ = compared
    side = md.split("## Side by side", 1)[1]
    disagree = [d for d in DOCS if 0 < sum(d in p for p in PATTERNS.values()) < 3]
    assert disagree[:3] == [1, 2, 3]
    assert "disagree on 9 of their 10 shared problems" in side
    first = side.split("### Problem 1 (gold 11)", 1)[1].split("### Problem", 1)[0]
    assert "**lora-a** — correct" in first and "**full-b** — incorrect" in first
    assert "**base** — correct" in first
    assert "full-b works it out: 1 + 10 = 91" in first
    assert "### Problem 0" not in side  # all three right on doc 0: no disagreement to show


def test_charts_are_real_pngs(compared: tuple[str, Path]) -> None:
    _, out = compared
    for name in ("loss", "final_loss", "throughput", "accuracy"):
        png = out / "charts" / f"{name}.png"
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5_000, name
        assert f"(charts/{name}.png)" in compared[0]
    assert "smoothed by the run reports' rule (time-aware" in compared[0]


def test_settings_are_found_in_nested_and_flat_configs() -> None:
    flat = flatten({"training": {"learning_rate": 1e-4}, "peft_config": {"default": {"r": 8}}})
    assert find_setting(flat, ("learning_rate",)) == ("training.learning_rate", 1e-4)
    assert find_setting(flat, ("*peft*.r",)) == ("peft_config.default.r", 8)
    hf = flatten({"per_device_train_batch_size": 4, "max_length": 20, "max_seq_length": 1024})
    assert find_setting(hf, ("batch_size", "per_device_train_batch_size")) == (
        "per_device_train_batch_size",
        4,
    )
    assert find_setting(hf, ("max_seq_length", "max_length")) == ("max_seq_length", 1024)


def test_baseline_must_be_one_of_the_runs(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    with pytest.raises(UsageError, match="not one of the compared runs"):
        write_comparison(RunStore(dirs.runs), ids, tmp_path / "o", baseline="nope")


def test_runs_on_different_problems_are_not_paired(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    samples = dirs.runs / "full-b" / "evals" / "e1" / "samples.jsonl"
    rows = [json.loads(x) for x in samples.read_text().splitlines()]
    for row in rows:
        row["doc_id"] += 100
    samples.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    md = write_comparison(RunStore(dirs.runs), ids, tmp_path / "o").md.read_text()
    assert "- **full-b**: base and full-b share no evaluated problems, so no paired test." in md
    assert load_run(RunStore(dirs.runs), "full-b").strict is not None  # still scored alone


def test_runs_without_evaluations_say_not_measured(tmp_path: Path, dirs: Dirs) -> None:
    three_runs(tmp_path)
    for rid in ("lora-a", "full-b"):
        shutil.rmtree(dirs.runs / rid / "evals")
    paths = write_comparison(RunStore(dirs.runs), ["lora-a", "full-b"], tmp_path / "o")
    md = paths.md.read_text()
    # No GSM8K evaluation: no exact-match rows and no GSM8K wording, one line says why.
    assert "| exact match" not in md and "task accuracy on GSM8K" not in md
    assert "No run here has a GSM8K evaluation, so there is no exact match" in md
    for section in ("Paired tests", "Side by side"):
        body = md.split(f"## {section}\n\n", 1)[1].split("\n", 1)[0]
        assert body.startswith("not measured"), (section, body)
    assert "Final training loss vs exact match" not in md  # no GSM8K evaluation to relate
    assert {p.name for p in paths.charts} == {"loss.png", "final_loss.png", "throughput.png"}


def test_evaluation_settings_that_differ_are_named(tmp_path: Path, dirs: Dirs) -> None:
    ids = three_runs(tmp_path)
    results = dirs.runs / "full-b" / "evals" / "e1" / "results.json"
    results.write_text(json.dumps({**json.loads(results.read_text()), "prompt_style": "one-shot"}))
    md = write_comparison(RunStore(dirs.runs), ids, tmp_path / "o").md.read_text()
    assert (
        "The evaluations differ in prompt style (lora-a: zero-shot; full-b: one-shot; "
        "base: zero-shot)"
    ) in md


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["--compare", "lora-a"], ["--compare", "lora-a", "lora-a", "--pdf"], ["--compare"]]
)
def test_cli_needs_two_runs(tmp_path: Path, dirs: Dirs, args: list[str]) -> None:
    three_runs(tmp_path)
    proc = gsm("render", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "--compare needs at least two runs" in _one_error_line(proc)
    assert not dirs.reports.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--compare", "a", "b", "--pdf"], ["--compare", "a", "--compare", "b", "--pdf"]),
        (["x", "--compare=a", "b"], ["x", "--compare", "a", "--compare", "b"]),
        (["--compare", "a", "--", "b"], ["--compare", "a", "--", "b"]),
        (["--compare", "--html"], ["--compare=", "--html"]),
        (["--out", "d", "a"], ["--out", "d", "a"]),
    ],
)
def test_compare_takes_every_id_up_to_the_next_option(args: list[str], expected: list[str]) -> None:
    from gsmreport.cli.spread import spread_option as _spread_option

    assert _spread_option(args, "--compare") == expected


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["render", "lora-a", "--compare", "full-b", "base"], "not both"),
        (["render", "--all", "--compare", "full-b", "base"], "not both"),
        (["render", "--compare", "lora-a", "nope"], "run 'nope' not found"),
        (["render", "--compare", "lora-a", "../x"], "invalid run id"),
        (["render", "--compare", "lora-a", "base", "--name", "A B"], "invalid --name"),
        (["render", "--compare", "lora-a", "base", "--card"], "--card"),
        (["render", "lora-a", "--baseline", "base"], "--baseline"),
    ],
)
def test_cli_compare_usage_errors(
    tmp_path: Path, dirs: Dirs, args: list[str], fragment: str
) -> None:
    three_runs(tmp_path)
    proc = gsm(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert fragment in _one_error_line(proc)
    assert not dirs.reports.exists()


def test_cli_three_runs_writes_markdown_charts_and_pdf(tmp_path: Path, dirs: Dirs) -> None:
    three_runs(tmp_path)
    samples = dirs.runs / "lora-a" / "evals" / "e1" / "samples.jsonl"
    rows = [json.loads(x) for x in samples.read_text().splitlines()]
    rows[1]["resps"] = [["<script>alert(1)</script> #### 11"]]  # doc 1 is shown side by side
    samples.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    proc = gsm("render", "--compare", "lora-a", "full-b", "base", "--pdf", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = dirs.reports / "compare-lora-a-full-b-base"
    for name in ("compare.md", "compare.html", "compare.pdf", "charts/loss.png"):
        assert (out / name).is_file(), name
        assert str(out / name) in proc.stdout
    assert (out / "compare.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "compare.html").read_text()
    assert html.count("<svg") == 4 and "charts/loss.png" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(out / "compare.pdf"), "-"], capture_output=True, text=True
        ).stdout
        assert "Paired tests against base" in text and "McNemar" in text


def test_cli_name_out_and_baseline(tmp_path: Path, dirs: Dirs) -> None:
    three_runs(tmp_path)
    proc = gsm(
        "render",
        "--compare",
        "base",
        "lora-a",
        "--baseline",
        "lora-a",
        "--name",
        "ab",
        "--out",
        "site",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "site" / "compare-ab" / "compare.md").read_text()
    assert "Base run: lora-a (chosen with --baseline)" in md
    assert not dirs.reports.exists()


def test_each_evaluation_says_what_it_can_resolve(compared: tuple[str, Path]) -> None:
    from gsmreport.analysis.power import resolvable_paired, resolvable_two_samples

    md, _ = compared
    reach = md.split("## What each evaluation can resolve", 1)[1].split("\n## ", 1)[0]
    for rid, right in PATTERNS.items():
        points = resolvable_two_samples(len(right) / 10, 10)
        line = next(x for x in reach.splitlines() if x.startswith(f"- **{rid}**"))
        if points is None:
            assert "no difference is resolvable" in line
        else:
            assert f"about {points * 100:.1f} points" in line
        assert "Contamination: not checked" in line  # the fixture runs record no data path
    # Each paired verdict says what its shared problems resolve, from its discordant pairs.
    b, c = _discordant("base", "lora-a")
    paired = resolvable_paired((b + c) / 10, 10)
    assert paired is not None
    assert f"these 10 problems resolve about {paired * 100:.1f} points" in md
