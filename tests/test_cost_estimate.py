"""A cost from the default price table is an estimate at that table's date, shown beside the
run's own date; a $0 run gets no "cost per point"."""

from __future__ import annotations

import json
from pathlib import Path

from gsmreport.analysis.dates import run_date
from gsmreport.analysis.run import analyse_run
from gsmreport.core.runs import Hardware, read_record
from gsmreport.ingest.importer import import_paths
from gsmreport.report.context import build_context
from tests.conftest import shared_data
from tests.run_fixtures import make_train_run

TSEBAKA = ("real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment", "wandb")
JADEANT = "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"


def test_list_price_on_an_old_run_is_called_an_estimate(tmp_path: Path) -> None:
    run = next(shared_data(*TSEBAKA).glob("run-*"))
    started = json.loads((run / "files" / "wandb-metadata.json").read_text())["startedAt"]
    (outcome,) = import_paths(tmp_path / "runs", [run])
    run_dir = tmp_path / "runs" / str(outcome.run_id)
    analysis = analyse_run(run_dir, read_record(run_dir / "run.yaml"))
    cost = analysis.cost
    assert cost is not None and cost.estimate and cost.as_of == "2026-11-22"
    assert analysis.run_date is not None and analysis.run_date.date == started[:10]
    context = build_context(analysis, {})
    assert context["overview"]["cost_source"].startswith("estimate at the default table's price")
    assert f"the run is from {started[:10]}" in context["overview"]["cost_source"]
    line = next(f for f in context["findings"] if "device-hours" in f)
    assert "an estimated $5.242 for a run from 2024-12-16" in line
    exported = analysis.to_dict()["cost"]
    assert exported["estimate"] is True and exported["run_date"]["date"] == "2024-12-16"


def test_tensorboard_run_date_from_the_event_file_name(tmp_path: Path) -> None:
    folder = shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")
    (outcome,) = import_paths(tmp_path / "runs", [next(folder.glob("*1733898811*"))])
    record = read_record(tmp_path / "runs" / str(outcome.run_id) / "run.yaml")
    found = run_date(record)
    assert found is not None and found.date == "2024-12-11"  # 1733898811 s, UTC


def test_a_zero_cost_run_states_no_cost_per_point(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)
    cpu = record.model_copy(
        update={
            "hardware": Hardware(device="cpu", device_name="CPU"),
            "price_per_device_hour": None,
        }
    )
    analysis = analyse_run(run_dir, cpu)
    assert analysis.cost is not None and analysis.cost.usd == 0
    assert analysis.exact_match is not None and analysis.exact_match.em > 0
    assert analysis.point_costs == ()
    findings = build_context(analysis, {})["findings"]
    assert not any(f.startswith("Cost per point of exact match (") for f in findings)
    assert not any("estimated" in f for f in findings)  # 0 USD for a CPU is no list price
    assert "No cost per point of exact match is stated: at $0 every point costs $0." in findings
