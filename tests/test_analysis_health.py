"""Health checks before any narrative: real runs that never learned or never finished, and one
small synthetic case per check. Expected values are read from the raw files, not from us."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gsmreport.analysis.health import Health, check_health
from gsmreport.analysis.run import RunAnalysis, analyse_run
from gsmreport.analysis.smoothing import MIN_SMOOTH_POINTS, smooth
from gsmreport.core.runs import RunRecord, read_record
from gsmreport.ingest import rows_from_log
from gsmreport.ingest.console import parse_console
from gsmreport.ingest.importer import import_paths
from gsmreport.ingest.schema import frame_from_rows
from gsmreport.report.context import build_context
from gsmreport.report.findings import training_findings
from tests.conftest import shared_data

JADEANT = "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"
TSEBAKA = ("real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment", "wandb")


def _imported(tmp_path: Path, source: Path) -> RunAnalysis:
    (outcome,) = import_paths(tmp_path / "runs", [source])
    assert outcome.error is None and outcome.run_id, outcome
    run_dir = tmp_path / "runs" / outcome.run_id
    return analyse_run(run_dir, read_record(run_dir / "run.yaml"))


def _names(health: Health) -> dict[str, str]:
    return {c.name: c.severity for c in health.checks}


def _findings(analysis: RunAnalysis) -> list[str]:
    assert analysis.training is not None
    return training_findings(analysis.training, analysis.curve, analysis.health)


# --- real runs ------------------------------------------------------------------------------


def test_zero_gradient_run_is_flagged_and_not_narrated(tmp_path: Path) -> None:
    folder = shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")
    # The same run's trainer_state.json (output_dir fine_tuned_optimized_llama) says what the
    # event file must: grad_norm 0.0 at every logged step, the eval readings all identical.
    state = json.loads(
        shared_data(
            "real-logs",
            "tensorboard",
            f"{JADEANT}__fine_tuned_optimized_llama_checkpoint-1593_trainer_state.json",
        ).read_text()
    )
    grad = [(e["step"], e["grad_norm"]) for e in state["log_history"] if "grad_norm" in e]
    evals = [(e["step"], e["eval_loss"]) for e in state["log_history"] if "eval_loss" in e]
    assert grad and all(v == 0 for _, v in grad) and len({v for _, v in evals}) == 1

    analysis = _imported(tmp_path, next(folder.glob("*1733898811*")))
    health = analysis.health
    assert _names(health) == {"grad_norm_zero": "fail", "eval_constant": "fail"}
    zero = health.checks[0]
    assert zero.steps == tuple(s for s, _ in grad)
    assert f"all {len(grad)} logged steps" in zero.message
    assert health.checks[1].steps == tuple(s for s, _ in evals)
    findings = _findings(analysis)
    assert not any("fell" in f or "No overfitting" in f for f in findings), findings
    assert findings[0].startswith("Not read as learning: gradient norm is exactly 0")
    assert analysis.curve is not None and not analysis.curve.more_epochs
    exported = analysis.to_dict()["health"]
    assert exported["narrative_withheld"] and exported["checks"][0]["steps"] == list(zero.steps)


def test_eval_only_launch_is_called_that(tmp_path: Path) -> None:
    folder = shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")
    analysis = _imported(tmp_path, next(folder.glob("*1733900565*")))
    frame = analysis.frame
    steps = set(frame.filter(pl.col("split") == "eval").get_column("step").to_list())
    assert steps == {0} and frame.filter(pl.col("split") == "train").height == 0
    health = analysis.health
    assert health.eval_only and _names(health) == {"eval_only": "fail"}
    assert analysis.record.status == "completed"  # what the importer wrote ...
    assert health.status_label(analysis.record.status).startswith("eval-only launch")  # ... shown
    findings = _findings(analysis)
    assert not any("fell 0.0" in f or "step 0 → step 0" in f for f in findings), findings


def test_stopped_wandb_run_says_where_and_why(tmp_path: Path) -> None:
    run = next(shared_data(*TSEBAKA).glob("run-*"))
    # The bar "N/TOTAL [" of the training loop, read here with a plain split: its last count
    # and its total; and the last line of the traceback.
    log = (run / "files" / "output.log").read_text()
    counts = [
        tuple(int(x) for x in m.split(" [")[0].split("/"))
        for m in re.findall(r"\d+/\d+ \[", log.replace("\r", "\n"))
    ]
    total = counts[0][1]
    reached = max(n for n, t in counts if t == total)
    last_line = [line for line in log.splitlines() if line.strip()][-1].strip()
    assert (reached, total, last_line) == (829, 1954, "KeyboardInterrupt")

    analysis = _imported(tmp_path, run)
    health = analysis.health
    assert _names(health) == {"stopped_early": "stopped"}
    assert health.progress is not None
    assert (health.progress.reached, health.progress.planned) == (reached, total)
    message = health.checks[0].message
    assert "stopped at step 829 of 1,954" in message and "KeyboardInterrupt" in message
    findings = _findings(analysis)
    assert not any("more epochs would" in f.lower() for f in findings), findings
    assert any(
        f.startswith("No verdict on further training: stopped at step 829") for f in findings
    )
    assert analysis.curve is not None and not analysis.curve.more_epochs
    # The narrative stays: the loss did fall before the stop.
    assert any(f.startswith("Training loss fell") for f in findings)


def test_sparse_eval_curve_is_smoothed_without_lag() -> None:
    """Dheena's 14 eval losses, every 200 steps: the old α = 0.1 EMA ended at 1.286 against an
    actual 1.122; the rule here must stay within the spread of the last readings."""
    state = json.loads(
        shared_data(
            "real-logs", "trainer_state", "Dheena731+tinyLlama-finetune__trainer_state.json"
        ).read_text()
    )
    evals = [(e["step"], e["eval_loss"]) for e in state["log_history"] if "eval_loss" in e]
    steps, values = [s for s, _ in evals], [v for _, v in evals]
    assert len(values) >= MIN_SMOOTH_POINTS
    smoothed = smooth(steps, values)
    assert smoothed is not None
    assert smoothed.half_life_steps == pytest.approx((steps[-1] - steps[0]) * 0.05)
    last = values[-3:]
    assert min(last) <= smoothed.values[-1] <= max(values[-4:]), (smoothed.values[-1], last)
    assert smooth(steps[:9], values[:9]) is None  # below the minimum: no smoothed curve


# --- one synthetic case per check -------------------------------------------------------------


def _frame(*series: tuple[str, str, list[tuple[int, float]]]) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for split, metric, points in series:
        prefix = "eval_" if split == "eval" else ""
        for step, value in points:
            rows += rows_from_log(
                {f"{prefix}{metric}": value, "step": step}, run_id="r", source="s"
            )
    return frame_from_rows(rows)


def _record(**config: Any) -> RunRecord:
    return RunRecord.model_validate(
        {"id": "r", "kind": "imported", "status": "completed", "config": config}
    )


FALLING = [(s, 2.0 / s) for s in range(1, 21)]


def test_healthy_run_passes_every_check() -> None:
    frame = _frame(
        ("train", "loss", FALLING),
        ("train", "grad_norm", [(s, 1.0 + s / 10) for s in range(1, 21)]),
        ("train", "learning_rate", [(s, 1e-4 * (1 - s / 40)) for s in range(1, 21)]),
        ("eval", "loss", [(10, 0.5), (20, 0.4)]),
    )
    health = check_health(frame, _record(lr_scheduler_type="linear"))
    assert health.checks == () and health.narrative_withheld is None
    assert {"grad_norm_zero", "loss_spike", "learning_rate_constant"} <= set(health.ran)


@pytest.mark.parametrize(
    ("series", "config", "name", "severity", "steps"),
    [
        (
            [("train", "grad_norm", [(1, math.nan), (2, math.inf)])],
            {},
            "grad_norm_non_finite",
            "fail",
            (1, 2),
        ),
        (
            [("train", "learning_rate", [(1, 0.0), (2, 0.0)])],
            {},
            "learning_rate_zero",
            "fail",
            (1, 2),
        ),
        (
            [("train", "learning_rate", [(1, 1e-4), (2, 1e-4), (3, 1e-4)])],
            {"lr_scheduler_type": "cosine"},
            "learning_rate_constant",
            "warn",
            (1, 2, 3),
        ),
        (
            [("train", "loss", [(1, 0.7), (2, 0.7), (3, 0.7)])],
            {},
            "loss_constant",
            "fail",
            (1, 2, 3),
        ),
        (
            [("train", "loss", [(1, 0.7), (2, 0.3), (3, 0.0), (4, 0.0)])],
            {},
            "loss_zero",
            "fail",
            (3, 4),
        ),
        (
            [("train", "loss", [*FALLING[:8], (9, 5.0), *FALLING[9:]])],
            {},
            "loss_spike",
            "warn",
            (9,),
        ),
        (
            [("train", "loss", [(1, 1.0), (2, math.nan), (3, math.nan), (4, 0.5)])],
            {},
            "non_finite",
            "warn",
            (2, 3),
        ),
        ([("train", "loss", [(1, 1.0), (2, 0.5), (3, math.nan)])], {}, "non_finite", "fail", (3,)),
        (
            [("train", "loss", FALLING), ("eval", "loss", [(5, 0.4), (10, 0.4), (20, 0.4)])],
            {},
            "eval_constant",
            "fail",
            (5, 10, 20),
        ),
        (
            [("train", "loss", FALLING)],
            {"max_steps": 40, "global_step": 20},
            "stopped_early",
            "stopped",
            (20,),
        ),
    ],
)
def test_each_check_fires_on_its_case(
    series: list[tuple[str, str, list[tuple[int, float]]]],
    config: dict[str, Any],
    name: str,
    severity: str,
    steps: tuple[int, ...],
) -> None:
    health = check_health(_frame(*series), _record(**config))
    fired = {c.name: c for c in health.checks}
    assert name in fired, health.checks
    assert (fired[name].severity, fired[name].steps) == (severity, steps)
    if severity == "fail":
        assert health.narrative_withheld and health.verdict_withheld
    if severity == "stopped":
        assert health.narrative_withheld is None and health.verdict_withheld


def test_stop_reason_from_the_run_state() -> None:
    frame = _frame(("train", "loss", FALLING))
    record = _record(max_steps=40).model_copy(
        update={"status": "interrupted", "error": "interrupted by signal 15"}
    )
    (check,) = check_health(frame, record).checks
    assert check.name == "stopped_early" and check.steps == (20,)
    assert "stopped at step 20 of 40 planned" in check.message
    assert "last logged training step" in check.message
    assert check.message.endswith("why: interrupted by signal 15 (run.yaml error)")


def test_a_completed_run_logged_every_n_steps_is_not_stopped() -> None:
    """LLaMA-Factory's total_steps 6566 with the last row at 6560: logging, not a stop."""
    frame = _frame(("train", "loss", [(s * 10, 1.0 / s) for s in range(1, 657)]))
    assert check_health(frame, _record(total_steps=6566)).checks == ()


def test_one_flat_eval_metric_beside_a_moving_eval_loss_is_not_a_failure() -> None:
    frame = _frame(
        ("eval", "loss", [(5, 0.5), (10, 0.4), (20, 0.3)]),
        ("eval", "entropy", [(5, 1.0), (10, 1.0), (20, 1.0)]),
    )
    assert check_health(frame, _record()).checks == ()


def test_console_log_parsing() -> None:
    text = (
        "  0%|   | 0/100 [00:00<?, ?it/s]\r 40%|███ | 40/100 [00:10<00:15]\n"
        "eval 100%|██| 7/7 [00:01<00:00]\n"
        "Traceback (most recent call last):\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB\n"
    )
    end = parse_console(text, Path("output.log"))
    assert (end.step, end.total) == (40, 100)
    assert end.exception == "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB"
    assert parse_console("no bar here", Path("x")).total is None


def test_report_context_shows_health_and_status(tmp_path: Path) -> None:
    folder = shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")
    analysis = _imported(tmp_path, next(folder.glob("*1733900565*")))
    context = build_context(analysis, {})
    assert context["health"] is analysis.health
    assert context["overview"]["status"].startswith("eval-only launch")
