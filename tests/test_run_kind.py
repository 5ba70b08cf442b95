"""Run kind, task metrics and every series, on real third-party logs (issue 14).

Expected values come from the raw files beside each log (W&B's wandb-summary.json,
config.yaml and output.log; the trainer_state.json files of the TensorBoard runs), never from
our own reader.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from gsmreport import pipeline
from gsmreport.analysis.run_kind import detect_kind
from gsmreport.analysis.run_setup import training_setup
from gsmreport.analysis.series_stats import Point, all_series
from gsmreport.analysis.task_metrics import direction, task_metrics
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.ingest.schema import canonical, empty_frame
from gsmreport.report.compare_report import write_comparison
from tests.conftest import shared_data

RAJA = ("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project", "wandb")
RAJA_RUN = "run-20241126_055203-vxmvktnt"
TSEBAKA = ("real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment", "wandb")
TSEBAKA_RUN = "run-20241216_132720-chk58nkd"
JADE = "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"
JADE_STATES = ("lora_4bit_llama", "fine_tuned_optimized_llama")


def _section(md: str, heading: str) -> str:
    body = md.split(f"\n{heading}\n", 1)[1]
    level = heading.split(" ", 1)[0]
    return re.split(rf"\n#{{1,{len(level)}}} ", body, maxsplit=1)[0].strip()


def _table(section: str) -> dict[tuple[str, str], list[str]]:
    """(split, metric) → the other cells, of a `| split | metric | … |` table."""
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return {(r[0].strip(), r[1].strip()): [c.strip() for c in r[2:]] for r in rows[1:]}


def _sig(value: float, step: int) -> str:
    return f"{value:.4g} (step {step})".replace("-", "−")


def _config_yaml(run_dir: Path) -> dict[str, Any]:
    raw = yaml.safe_load((run_dir / "files" / "config.yaml").read_text())
    return {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in raw.items()}


# --- ingest: the test split ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("test/accuracy", ("test", "accuracy")),
        ("test_loss", ("test", "loss")),
        ("test_runtime", ("test", "runtime_s")),
        ("eval/accuracy", ("eval", "accuracy")),
        ("eval_wer", ("eval", "wer")),
        ("train/loss", ("train", "loss")),
        ("rewards/margins", ("train", "rewards/margins")),
    ],
)
def test_split_prefixes(key: str, expected: tuple[str, str]) -> None:
    assert canonical(key) == expected


# --- real W&B, TensorBoard and lm-eval runs -------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Dirs:
    """raja, tsebaka, the JadeAnt TensorBoard runs and the lm-eval outputs, imported and
    rendered once for the module."""
    root = tmp_path_factory.mktemp("kinds")
    dirs = Dirs(runs=root / "runs", reports=root / "reports")
    raja, tsebaka = shared_data(*RAJA, RAJA_RUN), shared_data(*TSEBAKA, TSEBAKA_RUN)
    jade = shared_data("real-logs", "tensorboard", JADE, "logs_llama")
    lm_eval = root / "lm-eval"  # plain copies: ../shared may be read-only
    shutil.copytree(shared_data("real-logs", "lm-eval"), lm_eval, copy_function=shutil.copyfile)
    for path, name in ((raja, "raja"), (tsebaka, "tsebaka"), (lm_eval, "lm-eval")):
        (outcome,) = pipeline.import_logs(dirs, [path], name=name)
        assert outcome.ok, outcome.error
    outcomes = pipeline.import_logs(dirs, [jade])
    assert outcomes and all(o.ok for o in outcomes)
    for record in pipeline.list_runs(dirs):
        pipeline.render(dirs, record.id)
    return dirs


def _report(dirs: Dirs, run_id: str) -> str:
    return (dirs.reports / run_id / "report.md").read_text()


def test_raja_is_a_sequence_classifier_with_its_test_split(imported: Dirs) -> None:
    run_dir = shared_data(*RAJA, RAJA_RUN)
    summary = json.loads((run_dir / "files" / "wandb-summary.json").read_text())
    config = _config_yaml(run_dir)
    analysis = pipeline.analyse(imported, "raja")
    frame = analysis.frame
    # W&B's test/* keys land in the test split, none left in train.
    test = frame.filter(pl.col("split") == "test")
    assert dict(zip(test["metric"], test["value"], strict=True)) == {
        "accuracy": summary["test/accuracy"],
        "loss": summary["test/loss"],
        "runtime_s": summary["test/runtime"],
        "samples_per_second": summary["test/samples_per_second"],
        "steps_per_second": summary["test/steps_per_second"],
    }
    assert not frame.filter(pl.col("metric").str.starts_with("test")).height

    kind = analysis.run_kind
    assert kind.kind == "sequence-classification"
    labels = len(config["id2label"])
    assert labels == 3 and config["peft_config"]["default"]["task_type"] == "SEQ_CLS"
    assert "PEFT task_type=SEQ_CLS" in kind.evidence
    assert f"id2label has {labels} labels" in kind.evidence
    assert any("no token accuracy" in e for e in kind.evidence)

    # eval accuracy: the four evaluations HF printed to output.log, then the summary's last.
    log = (run_dir / "files" / "output.log").read_text()
    printed = [float(v) for v in re.findall(r"'eval_accuracy': ([0-9.]+)", log)]
    assert len(printed) == 4
    accuracies = [*printed, summary["eval/accuracy"]]
    best = max(accuracies)
    md = _report(imported, "raja")
    rows = _table(_section(md, "## Task metrics"))
    first, best_cell, final, points = rows[("eval", "accuracy")]
    assert first.startswith(f"{printed[0]:.4g} (step ")
    assert best_cell.startswith(f"{best:.4g} (step ") and "higher is better" in best_cell
    assert final == _sig(summary["eval/accuracy"], summary["train/global_step"])
    assert points == str(len(accuracies))
    test_cells = rows[("test", "accuracy")]
    assert test_cells[2] == _sig(summary["test/accuracy"], summary["train/global_step"])
    assert rows[("test", "loss")][1].endswith("lower is better)")
    # Not a GSM8K run: no exact-match sections, and the overview names the kind.
    assert "## Task accuracy" not in md and "### Failure categories" not in md
    assert "| Kind (detected) | sequence classification — evidence: PEFT task_type=SEQ_CLS" in md
    assert "| Cost per accuracy point | not measured (no GSM8K evaluation: " in md
    # How far it trained, one figure on every surface: the last loss is logged at step 450,
    # the run went on to 498; the comparison's Runs table once said 450 where `runs` said 498.
    setup = training_setup(analysis)
    [row] = [r for r in pipeline.summaries(imported) if r.id == "raja"]
    assert setup is not None and setup.steps == row.steps == summary["train/global_step"]
    written = json.loads((imported.reports / "raja" / "analysis.json").read_text())
    assert written["run_kind"]["kind"] == "sequence-classification"
    assert {(m["split"], m["metric"]) for m in written["task_metrics"]} == set(rows)


def test_card_of_a_classifier_names_its_kind_not_gsm8k(imported: Dirs, tmp_path: Path) -> None:
    """The model card of raja's classifier: no gsm8k tag, a classification pipeline, the
    detected kind with its evidence, and its own final eval accuracy instead of 'not
    measured'."""
    out = tmp_path / "card"
    paths = pipeline.render(imported, "raja", card=True, out=out)
    assert paths.card is not None
    text = paths.card.read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert "gsm8k" not in meta["tags"] and "text-classification" in meta["tags"]
    assert meta["pipeline_tag"] == "text-classification" and "model-index" not in meta
    assert (
        "| Kind | sequence classification (detected from the logs: PEFT task_type=SEQ_CLS" in text
    )
    final = pipeline.analyse(imported, "raja").frame.filter(
        (pl.col("split") == "eval") & (pl.col("metric") == "accuracy")
    )
    row = f"| eval | accuracy | {_sig(final['value'][-1], final['step'][-1])} | {final.height} |"
    assert row in text and "Task accuracy: not measured" not in text
    assert "token accuracy describe" not in text  # raja logged no token accuracy


def test_every_logged_series_is_in_the_report(imported: Dirs) -> None:
    analysis = pipeline.analyse(imported, "raja")
    md = _report(imported, "raja")
    table = _table(_section(md, "## All logged series"))
    pairs = set(analysis.frame.select("split", "metric").unique().iter_rows())
    assert set(table) == pairs
    counts = analysis.frame.group_by("split", "metric").len()
    for split, metric, n in counts.iter_rows():
        assert table[(split, metric)][0] == str(n), (split, metric)
    grad = analysis.frame.filter(pl.col("metric") == "grad_norm").sort("step")
    top = grad.row(int(grad["value"].arg_max() or 0), named=True)
    assert table[("train", "grad_norm")][4] == _sig(top["value"], top["step"])


def test_tsebaka_is_a_reward_model(imported: Dirs) -> None:
    config = _config_yaml(shared_data(*TSEBAKA, TSEBAKA_RUN))
    assert len(config["id2label"]) == 1 and "center_rewards_coefficient" in config
    kind = pipeline.analyse(imported, "tsebaka").run_kind
    assert kind.kind == "reward-model"
    assert any("center_rewards_coefficient" in e for e in kind.evidence)
    assert "id2label has 1 label" in kind.evidence


def test_lm_eval_only_run_is_evaluation_only(imported: Dirs) -> None:
    analysis = pipeline.analyse(imported, "lm-eval")
    assert analysis.run_kind.kind == "evaluation-only"
    assert analysis.run_kind.evidence[0] == "no train rows in the metrics table"
    md = _report(imported, "lm-eval")
    assert "## Task accuracy" in md  # a GSM8K evaluation: the exact-match sections stay
    assert "evaluation only — evidence: no train rows" in md


def _jade_runs(dirs: Dirs) -> list[str]:
    return sorted(r.id for r in pipeline.list_runs(dirs) if r.id.startswith("logs-llama"))


def test_jadeant_tensorboard_reports_show_eval_accuracy(imported: Dirs) -> None:
    """Each checkpoint's trainer_state.json is one of the TensorBoard runs: its eval accuracy
    (float32 in the event file) is in that run's Task metrics, first, best and final."""
    logs = shared_data("real-logs", "tensorboard")
    series = {}
    for run_id in _jade_runs(imported):
        frame = pipeline.analyse(imported, run_id).frame
        acc = frame.filter((pl.col("split") == "eval") & (pl.col("metric") == "accuracy"))
        series[run_id] = list(zip(acc["step"], acc["value"], strict=True))
    for name in JADE_STATES:
        path = logs / f"{JADE}__{name}_checkpoint-1593_trainer_state.json"
        history = json.loads(path.read_text())["log_history"]
        expected = [(e["step"], e["eval_accuracy"]) for e in history if "eval_accuracy" in e]
        (run_id,) = [
            r
            for r, got in series.items()
            if [s for s, _ in got] == [s for s, _ in expected]
            and all(
                v == pytest.approx(w, rel=1e-6)
                for (_, v), (_, w) in zip(got, expected, strict=True)
            )
        ]
        cells = _table(_section(_report(imported, run_id), "## Task metrics"))[("eval", "accuracy")]
        best = max(expected, key=lambda sv: (sv[1], -sv[0]))
        assert cells[0] == _sig(expected[0][1], expected[0][0])
        assert cells[1].startswith(_sig(best[1], best[0]).removesuffix(")"))
        assert cells[2] == _sig(expected[-1][1], expected[-1][0])
    for run_id in _jade_runs(imported):
        assert pipeline.analyse(imported, run_id).run_kind.kind in (
            "sequence-classification",
            "evaluation-only",  # the last event file holds one trainer.evaluate() alone
        )


def test_comparison_of_classifiers_has_no_gsm8k_wording(imported: Dirs, tmp_path: Path) -> None:
    runs = [r for r in _jade_runs(imported) if pipeline.analyse(imported, r).training][:5]
    assert len(runs) == 5
    md = write_comparison(RunStore(imported.runs), runs, tmp_path / "o").md.read_text()
    assert "task accuracy on GSM8K" not in md and "| exact match" not in md
    section = md.split("## Task metrics\n", 1)[1].split("\n## ", 1)[0]
    assert section.count(": sequence classification (evidence:") == 5
    row = next(x for x in section.splitlines() if x.startswith("| eval accuracy |"))
    for run_id, cell in zip(runs, row.strip("|").split(" | ")[1:], strict=True):
        final = pipeline.analyse(imported, run_id).frame.filter(
            (pl.col("split") == "eval") & (pl.col("metric") == "accuracy")
        )
        assert cell.strip().startswith(f"{final['value'][-1]:.4g} (step {final['step'][-1]})")


# --- the rules themselves -------------------------------------------------------------------


def _frame(rows: list[tuple[str, str, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"split": s, "metric": m, "step": step, "value": v, "source": "x"}
            for s, m, step, v in rows
        ]
    )


def test_loss_only_run_is_not_called_sft_without_evidence() -> None:
    frame = _frame([("train", "loss", 1, 2.0), ("train", "loss", 2, 1.5)])
    kind = detect_kind(frame, {"architectures": ["LlamaForCausalLM"]})
    assert kind.kind == "causal-lm"
    assert kind.evidence[0] == "architectures=LlamaForCausalLM"
    assert detect_kind(frame, {}, run_kind="train").kind == "sft"  # gsmreport's own trainer
    assert detect_kind(frame, {"stage": "pt"}).kind == "pretraining"
    assert detect_kind(empty_frame(), {}).kind == "unknown"


def test_two_labels_alone_prove_nothing() -> None:
    """HF gives every model config id2label with two entries; only more (or one) is evidence."""
    frame = _frame([("train", "loss", 1, 2.0)])
    two = {"id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "architectures": ["GPT2LMHeadModel"]}
    assert detect_kind(frame, two).kind == "causal-lm"
    cls = {**two, "architectures": ["LlamaForSequenceClassification"]}
    assert detect_kind(frame, cls).kind == "sequence-classification"
    rm = {"id2label": {"0": "LABEL_0"}, "architectures": ["LlamaForSequenceClassification"]}
    assert detect_kind(frame, rm).kind == "reward-model"


def test_best_follows_the_metric_direction() -> None:
    frame = _frame(
        [
            ("eval", "wer", 1, 0.5),
            ("eval", "wer", 2, 0.3),
            ("eval", "wer", 3, 0.4),
            ("train", "kl", 1, 0.1),
            ("train", "kl", 2, 0.2),
            ("eval", "accuracy", 1, 0.7),
            ("eval", "accuracy", 2, float("nan")),
            ("eval", "accuracy", 3, 0.7),
            ("eval", "loss", 1, 1.0),
            ("train", "loss", 1, 1.0),
        ]
    )
    metrics = {(m.split, m.metric): m for m in task_metrics(all_series(frame))}
    assert set(metrics) == {("eval", "wer"), ("train", "kl"), ("eval", "accuracy")}
    assert metrics[("eval", "wer")].best == Point(0.3, 2)
    assert metrics[("train", "kl")].best is None and direction("kl") is None
    accuracy = metrics[("eval", "accuracy")]
    assert accuracy.best == Point(0.7, 1) and accuracy.count == 3  # tie: earliest; NaN counted
    assert accuracy.final.step == 3


def test_series_keeps_non_finite_rows_counted() -> None:
    frame = _frame([("train", "loss", 1, float("inf")), ("train", "loss", 2, 1.0)])
    (stats,) = all_series(frame)
    assert (stats.count, stats.non_finite) == (2, 1)
    assert stats.first == stats.max == Point(1.0, 2)
    (only_nan,) = all_series(_frame([("train", "loss", 1, float("nan"))]))
    assert only_nan.first is None and only_nan.final is None


def test_dict_literal_in_output_log_is_what_hf_prints() -> None:
    """The raja oracle reads HF's printed dicts; check the line really is a Python dict."""
    log = (shared_data(*RAJA, RAJA_RUN) / "files" / "output.log").read_text()
    line = next(x for x in log.splitlines() if "'eval_accuracy'" in x)
    found = ast.literal_eval(line[line.index("{") : line.rindex("}") + 1])
    assert isinstance(found["eval_accuracy"], float)


def test_llamafactory_stage_names_the_trainer() -> None:
    """LLaMA-Factory renames its `accuracy` to DPO's rewards/accuracies, for the reward-model
    stage too: the stage in training_args.yaml decides."""
    frame = _frame([("train", "loss", 1, 0.7), ("train", "rewards/accuracies", 1, 0.6)])
    assert detect_kind(frame, {}).kind == "dpo"
    kind = detect_kind(frame, {"stage": "rm"})
    assert (kind.kind, kind.evidence) == ("reward-model", ("LLaMA-Factory stage=rm",))
    assert detect_kind(frame, {"stage": "dpo"}).evidence[0] == "LLaMA-Factory stage=dpo"


def test_show_names_the_kind_and_task_metrics(imported: Dirs) -> None:
    from gsmreport.cli.show import show_text

    summary = json.loads(
        (shared_data(*RAJA, RAJA_RUN) / "files" / "wandb-summary.json").read_text()
    )
    text = show_text(pipeline.show(imported, "raja"))
    assert "kind: sequence classification (evidence: PEFT task_type=SEQ_CLS;" in text
    test, step = f"{summary['test/accuracy']:.4g}", summary["train/global_step"]
    assert f"task metric test/accuracy: {test} → {test} (step {step})" in text


def test_model_card_of_a_classifier_claims_no_gsm8k_exact_match(
    imported: Dirs, tmp_path: Path
) -> None:
    paths = pipeline.render(imported, "raja", card=True, out=tmp_path)
    assert paths.card is not None
    assert "Exact match on a sample of GSM8K-style problems" not in paths.card.read_text()
