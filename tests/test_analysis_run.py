"""RunAnalysis's own rules, each against a hand-made oracle: runtime and its source, the
latest evaluation, and that the headline is the analysis's figures and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

from gsmreport.analysis.run import analyse_run, run_runtime
from gsmreport.analysis.series_stats import Point
from gsmreport.core.runs import RunRecord
from tests.run_fixtures import make_train_run, write_eval


def _record(**fields: object) -> RunRecord:
    return RunRecord.model_validate({"id": "r", "kind": "imported", **fields})


def test_runtime_rules_in_order_each_with_its_source() -> None:
    logged = Point(42.5, 300)
    both = _record(
        runtime_s=12.0,
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:01:40+00:00",
    )
    assert run_runtime(both, lambda: logged) == run_runtime(both, lambda: None)
    first = run_runtime(both, lambda: logged)
    assert first is not None and (first.seconds, first.source) == (12.0, "run.yaml runtime_s")
    span = run_runtime(
        _record(started_at="2025-01-01T00:00:00+00:00", finished_at="2025-01-01T00:01:40+00:00"),
        lambda: logged,
    )
    assert span is not None and span.seconds == 100.0 and "started_at" in span.source
    trainer = run_runtime(_record(runtime_s=float("nan")), lambda: logged)
    assert trainer is not None and trainer.seconds == 42.5 and "(step 300)" in trainer.source
    assert run_runtime(_record(), lambda: None) is None


def test_latest_evaluation_is_the_last_written_ties_by_folder_name(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)  # has evals/e1
    write_eval(run_dir, "a-newer")
    write_eval(run_dir, "z-older")
    for folder, when in (("e1", 1_000), ("a-newer", 3_000), ("z-older", 2_000)):
        for name in ("results.json", "samples.jsonl"):
            path = run_dir / "evals" / folder / name
            if path.exists():
                os.utime(path, (when, when))
    analysis = analyse_run(run_dir, record)
    assert analysis.latest_folder is not None and analysis.latest_folder.name == "a-newer"
    assert analysis.latest is not None and analysis.latest.folder == "a-newer"
    assert analysis.headline().latest_eval == analysis.latest.summary.eval_id
    # Same time: the greater folder name wins.
    for folder in ("a-newer", "z-older"):
        for name in ("results.json", "samples.jsonl"):
            path = run_dir / "evals" / folder / name
            if path.exists():
                os.utime(path, (5_000, 5_000))
    again = analyse_run(run_dir, record)
    assert again.latest_folder is not None and again.latest_folder.name == "z-older"


def test_headline_is_the_analysis_figures(tmp_path: Path) -> None:
    run_dir, record = make_train_run(tmp_path)
    analysis = analyse_run(run_dir, record)
    head = analysis.headline()
    training = analysis.training
    assert training is not None and training.train_loss is not None
    assert head.final_loss == training.train_loss.final.value
    assert head.loss_drop_pct == training.train_loss.drop_pct
    latest = analysis.latest
    assert latest is not None and latest.primary is not None
    assert (head.em_correct, head.n_eval) == (latest.primary.correct, latest.primary.n)
    cost = analysis.cost
    assert head.cost_usd == (cost.usd if cost else None)
    assert head.device_hours == (cost.device_hours if cost else None)


def test_a_running_run_has_its_runtime_so_far() -> None:
    """While a run trains, nothing has logged a runtime yet: started_at → now stands in."""
    import datetime as dt

    from gsmreport.analysis.run import run_runtime
    from gsmreport.core.runs import RunRecord

    start = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=90)).isoformat()
    running = RunRecord(id="r", kind="train", status="running", started_at=start)
    runtime = run_runtime(running, lambda: None)
    assert runtime is not None and 89 <= runtime.seconds < 3600
    assert "so far" in runtime.source
    stopped = running.model_copy(update={"status": "interrupted"})
    assert run_runtime(stopped, lambda: None) is None  # a stopped run's end is unknown
