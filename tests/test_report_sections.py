"""The run report's analysis sections, checked against numbers computed here independently:
numpy fits and hand-written formulas, hand labels of the sample problems, table lookups.

Sections: learning curve (still improving? overfitting?), throughput and cost, task accuracy
with interval width and breakdowns, failure categories, outliers, findings, key settings and
the "All settings" appendix, and the one-line "not measured" of every section without data.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gsmreport.core.redact import REDACTED
from gsmreport.core.runs import Hardware, RunRecord, RunStore
from gsmreport.gsm8k.scoring import sample_row
from gsmreport.ingest import rows_from_log
from gsmreport.ingest.importer import import_paths
from gsmreport.report.context import hyperparameters
from gsmreport.report.render import render_run_report
from gsmreport.report.sections import key_settings
from tests.conftest import shared_data
from tests.report_samples import PROBLEMS, write_gsm_eval
from tests.run_fixtures import jsonl_line, write_record

Z95 = 1.959963984540054
# Student t 0.975 quantiles from printed tables (df = n − 2 of the fitted window).
T975 = {4: 2.776445105, 6: 2.446911851, 8: 2.306004135}
WOBBLE = (0.004, -0.003, 0.002, -0.004, 0.003, -0.002)


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def _section(md: str, heading: str) -> str:
    """The text under `heading` (e.g. "## Findings", "### Outliers") up to the next heading of
    the same or a higher level."""
    level = heading.split(" ", 1)[0]
    body = md.split(f"\n{heading}\n", 1)[1]
    stops = [m.start() for m in re.finditer(r"\n(#+) ", body) if len(m.group(1)) <= len(level)]
    return (body[: stops[0]] if stops else body).strip()


def _rows(section: str) -> list[list[str]]:
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]


def _run(
    root: Path,
    train: list[tuple[int, float]],
    evals: Sequence[tuple[int, float]] = (),
    run_id: str = "r",
    **record: Any,
) -> tuple[Path, RunRecord]:
    run_dir = root / "runs" / run_id
    run_dir.mkdir(parents=True)
    lines = [jsonl_line(s, {"loss": v}) for s, v in train]
    lines += [jsonl_line(s, {"eval_loss": v}) for s, v in evals]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return run_dir, write_record(run_dir, **record)


def _md(run: tuple[Path, RunRecord], out: Path, **kw: Any) -> str:
    run_dir, record = run
    return render_run_report(run_dir, record, out / record.id, **kw).md.read_text()


# --- still improving? ---------------------------------------------------------------------------


def _ols(steps: list[int], values: list[float]) -> tuple[float, float, float]:
    """Slope per 100 steps and its 95 % CI, by numpy and the textbook standard error."""
    x, y = np.array(steps, float), np.array(values, float)
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (intercept + slope * x)
    se = math.sqrt(float(residuals @ residuals) / (len(x) - 2) / float(((x - x.mean()) ** 2).sum()))
    half = T975[len(x) - 2] * se
    return slope * 100, (slope - half) * 100, (slope + half) * 100


def _fmt(value: float) -> str:
    return f"{value:.3g}".replace("-", "−")


def test_falling_curve_gives_the_more_epochs_sentence(tmp_path: Path) -> None:
    train = [(10 * i, 2.0 - 0.004 * 10 * i + WOBBLE[i % 6]) for i in range(1, 41)]
    md = _md(_run(tmp_path, train), tmp_path / "out")
    # Window: the last 20 % of steps 10..400, i.e. steps >= 400 − 0.2·390 = 322: 330..400.
    window = [(s, v) for s, v in train if s >= 322]
    assert [s for s, _ in window] == list(range(330, 401, 10))
    slope, low, high = _ols([s for s, _ in window], [v for _, v in window])
    assert high < 0  # the curve was made to fall: the whole interval is below zero
    section = _section(md, "### Still improving?")
    assert f"(steps 330–400, {len(window)} points): {_fmt(slope)} per 100 steps" in section
    assert f"95 % CI [{_fmt(low)}, {_fmt(high)}]" in section
    assert "more epochs would likely help" in section and "Method: OLS slope" in section
    finding = next(f for f in _section(md, "## Findings").splitlines() if "Still improving" in f)
    assert f"95 % CI [{_fmt(low)}, {_fmt(high)}]" in finding and "steps 330–400" in finding


def test_flat_curve_does_not_advise_more_epochs(tmp_path: Path) -> None:
    train = [(10 * i, 1.2 + WOBBLE[i % 6]) for i in range(1, 41)]
    md = _md(_run(tmp_path, train), tmp_path / "out")
    window = [(s, v) for s, v in train if s >= 322]
    _, low, high = _ols([s for s, _ in window], [v for _, v in window])
    assert low < 0 < high
    assert "more epochs would likely help" not in md
    assert "Verdict: **plateau or inconclusive**" in _section(md, "### Still improving?")
    assert "Plateau or inconclusive: training-loss slope" in _section(md, "## Findings")


def test_overfitting_is_named_with_its_step_and_blocks_the_more_epochs_advice(
    tmp_path: Path,
) -> None:
    train = [(10 * i, 2.0 - 0.004 * 10 * i + WOBBLE[i % 6]) for i in range(1, 41)]
    evals = [(50, 1.6), (100, 1.4), (150, 1.3), (200, 1.26), (250, 1.27), (300, 1.31)]
    evals += [(350, 1.36), (400, 1.42)]
    md = _md(_run(tmp_path, train, evals), tmp_path / "out")
    values = [v for _, v in evals]
    second = [abs(values[i + 1] - 2 * values[i] + values[i - 1]) for i in range(1, 7)]
    sigma = statistics.median(second) / (0.6744897501960817 * math.sqrt(6))
    threshold = 2 * math.sqrt(2) * sigma
    assert threshold < 1.42 - 1.26  # a real rise, by construction
    section = _section(md, "### Overfitting")
    assert "Verdict: **overfitting from step 200**" in section
    assert f"2·√2·σ = {threshold:.4f}" in section and "+0.1600 above that minimum" in section
    assert "more epochs would likely help" not in md
    assert "Verdict: **still falling, but overfitting**" in _section(md, "### Still improving?")
    assert "Overfitting from step 200: eval loss 1.2600" in _section(md, "## Findings")


def test_eval_loss_within_noise_is_not_called_overfitting(tmp_path: Path) -> None:
    train = [(10 * i, 1.2 + WOBBLE[i % 6]) for i in range(1, 21)]
    evals = [(40, 1.30), (80, 1.25), (120, 1.27), (160, 1.24), (200, 1.26)]
    md = _md(_run(tmp_path, train, evals), tmp_path / "out")
    assert "overfitting from" not in md.lower()
    assert "Verdict: **no overfitting detected**" in _section(md, "### Overfitting")


# --- task accuracy, breakdowns, failures, outliers ---------------------------------------------


@pytest.fixture
def gsm_md(tmp_path: Path) -> tuple[Path, str]:
    run = _run(tmp_path, [(10 * i, 2 - 0.1 * i) for i in range(1, 7)])
    write_gsm_eval(run[0], with_loss=True)
    return run[0], _md(run, tmp_path / "out", html=True)


def test_failure_table_counts_sum_to_the_wrong_answers(gsm_md: tuple[Path, str]) -> None:
    run_dir, md = gsm_md
    samples = [
        json.loads(x) for x in (run_dir / "evals/gsm/samples.jsonl").read_text().splitlines()
    ]
    wrong = sum(1 for r in samples if not r["exact_match"]["strict-match"])
    section = _section(md, "### Failure categories, evaluation gsm")
    table = {row[0]: (int(row[1]), row[2]) for row in _rows(section.split("####")[0])}
    assert sum(count for count, _ in table.values()) == wrong == 8
    by_hand = Counter(p.category for p in PROBLEMS if p.category != "correct")
    assert {k: c for k, (c, _) in table.items() if c} == dict(by_hand)
    assert all(share == f"{100 * c / wrong:.1f} %" for c, share in table.values())
    assert f"{wrong} of {len(PROBLEMS)} answers are wrong" in section
    # Each example carries its evidence: the false equation, the scale factor, the step.
    for evidence in ("2 + 1 = 4 (is 3)", "÷1000 of gold", "= step 1 of 4 of the gold solution"):
        assert f"Evidence: {evidence}" in section


def test_accuracy_by_step_count_matches_hand_counts(gsm_md: tuple[Path, str]) -> None:
    _, md = gsm_md
    section = _section(md, "#### By number of steps in the gold solution")
    rows = {row[0]: row[1:] for row in _rows(section)}
    buckets: dict[str, list[bool]] = {}
    for p in PROBLEMS:
        buckets.setdefault("5+" if p.steps >= 5 else str(p.steps), []).append(
            p.category == "correct"
        )
    assert set(rows) == set(buckets)
    for label, outcomes in buckets.items():
        n, k = len(outcomes), sum(outcomes)
        low, high = _wilson(k, n)
        assert rows[label] == [
            str(n),
            str(k),
            f"{100 * k / n:.1f} %",
            f"{100 * low:.1f} % – {100 * high:.1f} %",
        ]
    assert (
        "Exact match by number of steps in the gold solution](charts/accuracy_by_steps.png)"
        in section
    )
    # Topics by hand: the two questions with a "%" are both answered wrongly.
    topics = {row[0]: row[1:3] for row in _rows(_section(md, "#### By topic"))}
    assert topics["percentages"] == ["2", "0"]


def test_interval_width_sentence_is_computed_from_the_interval(tmp_path: Path) -> None:
    run_dir, record = _run(tmp_path, [], run_id="hundred", kind="eval", config={})
    eval_dir = run_dir / "evals" / "e100"
    eval_dir.mkdir(parents=True)
    rows = []
    for i in range(100):  # 37 correct of 100
        solution = f"{i}+1=<<{i}+1={i + 1}>>{i + 1}\n#### {i + 1}"
        doc = {"doc_id": i, "question": f"What is {i} + 1?", "answer": solution}
        answer = i + 1 if i < 37 else i + 2
        rows.append(sample_row(doc, "Q", f"{i} + 1 = {answer}\n#### {answer}", 8, False))
    (eval_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    md = _md((run_dir, record), tmp_path / "out")
    low, high = _wilson(37, 100)
    half = (high - low) / 2 * 100
    assert 9 < half < 10  # the DESIGN's "about ±9 points" with 100 problems
    assert f"With 100 problems the 95 % interval of strict-match is about ±{half:.1f} points" in md
    # Every wrong answer here writes a false sum: the arithmetic-slip row holds all 63.
    table = {r[0]: r[1] for r in _rows(_section(md, "### Failure categories, evaluation e100"))}
    assert table["arithmetic slip"] == "63"


def test_outliers_from_per_example_losses(gsm_md: tuple[Path, str]) -> None:
    _, md = gsm_md
    losses = [p.loss for p in PROBLEMS]
    q1, _, q3 = statistics.quantiles(losses, n=4, method="inclusive")  # type 7, like numpy's
    fence = q3 + 1.5 * (q3 - q1)
    above = [(i, p.loss) for i, p in enumerate(PROBLEMS) if p.loss > fence]
    section = _section(md, "### Outliers")
    assert f"{len(above)} of {len(losses)} per-example losses" in section
    assert f"Q3 + 1.5·IQR = {fence:.4f} (Q1 {q1:.4f}, Q3 {q3:.4f}" in section
    assert [r[:2] for r in _rows(section)][: len(above)] == [[str(i), f"{v:.4f}"] for i, v in above]


def test_findings_cite_exact_match_failure_mix_and_token_accuracy(
    gsm_md: tuple[Path, str],
) -> None:
    _, md = gsm_md
    findings = _section(md, "## Findings")
    low, high = _wilson(4, 12)
    assert f"33.3 % (4/12), 95 % Wilson interval {100 * low:.1f} %–{100 * high:.1f} %" in findings
    # All eight categories hold one wrong answer each: no single one is called the largest.
    assert "No failure category dominates on eval gsm: 8 categories tie" in findings
    for line in findings.splitlines():
        if "token accuracy" in line:
            assert "mean token accuracy (TRL" in line and "not task accuracy" in line


def test_html_shows_the_same_sections_escaped(gsm_md: tuple[Path, str], tmp_path: Path) -> None:
    html = (tmp_path / "out" / "r" / "report.html").read_text()
    for heading in ("Still improving?", "Overfitting", "By topic", "Outliers", "All settings"):
        assert heading in html
    assert "Evidence: 2 + 1 = 4 (is 3)." in html and "&lt;&lt;…&gt;&gt;" in html


# --- cost -----------------------------------------------------------------------------------------


def test_cost_from_the_default_table_names_source_and_date(tmp_path: Path) -> None:
    h100 = Hardware(device="cuda", device_name="NVIDIA H100 80GB HBM3", count=2).model_dump()
    run = _run(tmp_path, [(10, 2.0)], hardware=h100, price_per_device_hour=None, runtime_s=5400)
    write_gsm_eval(run[0])
    md = _md(run, tmp_path / "out")
    hours = 5400 / 3600 * 2  # 3 device-hours
    usd = hours * 3.99  # Lambda's on-demand H100 price in the dated table
    overview = {r[0]: r[1] for r in _rows(_section(md, "## Overview"))}
    assert overview["Device-hours"] == f"{hours:.4f} (2 × 1 h 30 min)"
    # A list price from the dated table is an estimate, with the table's date and the run's.
    assert overview["Cost"].startswith(
        f"estimated ${usd:.2f} at $3.99/device-hour, the default table's list price as of "
        "2026-11-22, for a run from "
    )
    assert "; default price for" in overview["Cost"]
    assert "https://lambda.ai/pricing" in overview["Cost"]
    assert "checked 2026-11-22" in overview["Cost"]
    per_point = usd / (4 / 12 * 100)
    assert overview["Cost per accuracy point"].startswith(f"${per_point:.4g} per point")
    assert f"that is an estimated ${usd:.2f} for a run " in _section(md, "## Findings")


def test_cost_with_unknown_gpu_or_run_price(tmp_path: Path) -> None:
    a6000 = Hardware(device="cuda", device_name="NVIDIA RTX A6000", count=1).model_dump()
    md = _md(
        _run(tmp_path, [(10, 2.0)], run_id="a", hardware=a6000, price_per_device_hour=None),
        tmp_path / "out",
    )
    overview = {r[0]: r[1] for r in _rows(_section(md, "## Overview"))}
    assert overview["Cost"] == "not measured (no price known for 'NVIDIA RTX A6000')"
    assert "so no cost is given" in _section(md, "## Findings")
    md = _md(_run(tmp_path, [(10, 2.0)], run_id="b", price_source="config"), tmp_path / "out")
    cost = {r[0]: r[1] for r in _rows(_section(md, "## Overview"))}["Cost"]
    assert cost == f"${42 / 3600 * 0.5:.4g} at $0.5/device-hour; price from the run: config"


# --- not measured -----------------------------------------------------------------------------


def test_sections_without_data_say_not_measured_in_one_line(tmp_path: Path) -> None:
    run = _run(tmp_path, [(10, 2.0), (20, 1.8)], hardware=None, runtime_s=None, config={})
    md = _md(run, tmp_path / "out")
    one_line = {
        "### Still improving?": "not measured (fewer than 5 finite training-loss points",
        "### Overfitting": "not measured (fewer than 3 finite eval-loss points)",
        "### Train/eval gap": "not measured",
        "## Token accuracy": "not measured",
        "## Task metrics": "not measured (the log holds no eval/test metric",
        # Without a GSM8K evaluation, no exact-match, failure or outlier sections: one line.
        "## GSM8K evaluation": "not measured (no GSM8K evaluation of this run, so no exact",
        "### Hyper-parameters (key settings)": "not measured (run.yaml has no resolved config)",
    }
    for heading, start in one_line.items():
        body = _section(md, heading)
        assert body.startswith(start) and "\n" not in body, (heading, body)
    overview = {r[0]: r[1] for r in _rows(_section(md, "## Overview"))}
    assert overview["Cost"] == "not measured (no runtime recorded)"
    assert overview["Cost per accuracy point"].startswith("not measured")


def test_per_example_loss_absent_from_some_rows_is_not_invented(tmp_path: Path) -> None:
    run = _run(tmp_path, [(10, 2.0)])
    eval_dir = write_gsm_eval(run[0], with_loss=True)
    rows = [json.loads(line) for line in (eval_dir / "samples.jsonl").read_text().splitlines()]
    for row in rows[3:]:
        del row["loss"]  # three losses only: quartiles would say nothing
    (eval_dir / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    section = _section(_md(run, tmp_path / "out"), "### Outliers")
    assert (
        section
        == "Evaluation gsm: not measured: fewer than 4 finite per-example losses (3 recorded)"
    )


# --- settings -------------------------------------------------------------------------------------


def test_key_settings_from_flat_and_nested_configs() -> None:
    wandb_like = {
        "learning_rate": 5e-05,
        "hidden_dropout": 0.1,  # not LoRA's dropout
        "r": 3,  # a bare `r` outside any LoRA section is not the LoRA rank
        "max_length": None,  # unset: left to the appendix
        "peft_config": {"default": {"r": 8, "lora_alpha": 32, "target_modules": ["q", "v"]}},
        "hub_token": "<HUB_TOKEN>",
    }
    got = [(s.label, s.key, s.value) for s in key_settings(hyperparameters(wandb_like))]
    assert got == [
        ("learning rate", "learning_rate", "5e-05"),
        ("LoRA rank", "peft_config.default.r", "8"),
        ("LoRA alpha", "peft_config.default.lora_alpha", "32"),
        ("LoRA target modules", "peft_config.default.target_modules", "q, v"),
    ]
    ours = {"training": {"epochs": 2, "grad_accum": 4}, "lora": {"r": 16, "dropout": 0.05}}
    labels = [s.label for s in key_settings(hyperparameters(ours))]
    assert labels == ["epochs", "gradient accumulation", "LoRA rank", "LoRA dropout"]


def test_large_config_key_settings_first_all_settings_last(tmp_path: Path) -> None:
    config: dict[str, Any] = {f"setting_{i:03d}": i for i in range(220)}
    config |= {"num_train_epochs": 3, "optim": "adamw_torch", "hub_token": "hf_abcdef"}
    config["peft_config"] = {"default": {"r": 8, "lora_dropout": 0.1}}
    md = _md(_run(tmp_path, [(10, 2.0)], config=config), tmp_path / "out")
    keys = _rows(_section(md, "### Hyper-parameters (key settings)"))
    assert [k[0] for k in keys] == ["epochs", "optimizer", "LoRA rank", "LoRA dropout"]
    appendix = _section(md, "## All settings")
    assert md.rstrip().endswith(appendix)  # the appendix closes the report
    rows = {row[0]: row[1] for row in _rows(appendix)}
    assert len(rows) == 225 and rows["hub_token"] == REDACTED and "hf_abcdef" not in md
    assert rows["setting_219"] == "219" and rows["peft_config.default.r"] == "8"


def test_rows_from_log_fixture_sanity() -> None:
    """The writer above logs what the trainer logs: `loss` as train, `eval_loss` as eval."""
    rows = rows_from_log({"eval_loss": 1.0, "step": 5}, run_id="r", source="s")
    assert [(r["split"], r["metric"]) for r in rows] == [("eval", "loss")]


# --- imported runs ----------------------------------------------------------------------------


def _import(root: Path, *parts: str) -> tuple[Path, RunRecord]:
    runs = root / "runs"
    (outcome,) = import_paths(runs, [shared_data("real-logs", *parts)])
    assert outcome.error is None and outcome.run_id, outcome
    return runs / outcome.run_id, RunStore(runs).read(outcome.run_id)


def test_imported_lm_eval_samples_get_the_failure_table(tmp_path: Path) -> None:
    run_dir, record = _import(tmp_path, "lm-eval")
    md = _md((run_dir, record), tmp_path / "out")
    for eval_dir in sorted((run_dir / "evals").iterdir()):
        rows = [json.loads(x) for x in (eval_dir / "samples.jsonl").read_text().splitlines()]
        assert all("lm_eval_exact_match" in r for r in rows)  # lm-eval's own scores kept
        wrong = sum(1 for r in rows if not r["correct"])
        section = _section(md, f"### Failure categories, evaluation {eval_dir.name}")
        table = _rows(section.split("####")[0])
        assert sum(int(r[1]) for r in table) == wrong
        # lm-eval rows do not say whether generation was cut off, and the report says so.
        if any(r[0] == "no final answer, wrong number" and r[1] != "0" for r in table):
            assert "the row does not record whether it was cut off" in section


def test_imported_trainer_state_renders_every_section_to_pdf(tmp_path: Path) -> None:
    run_dir, record = _import(
        tmp_path, "trainer_state", "Dheena731+tinyLlama-finetune__trainer_state.json"
    )
    paths = render_run_report(run_dir, record, tmp_path / "out" / record.id, pdf=True)
    assert paths.pdf is not None and paths.pdf.read_bytes().startswith(b"%PDF")
    md = paths.md.read_text()
    # 187 train-loss points: the fit has a window; 14 eval points: the noise is estimated.
    assert "Slope of the training loss over the last 20 % of the steps" in md
    assert "The noise of one eval reading is σ" in md
    assert "step 2800 of max_steps 2808" in _section(md, "## Data warnings")
    assert "### Outliers" not in md  # no GSM8K evaluation: one line says so instead
    assert _section(md, "## GSM8K evaluation").startswith("not measured (no GSM8K evaluation")
    # TRL's SFTTrainer: the evidence names the key it rests on.
    kind = {r[0]: r[1] for r in _rows(_section(md, "## Overview"))}["Kind (detected)"]
    assert kind.startswith("causal-LM SFT — evidence: mean_token_accuracy logged (eval, train)")
