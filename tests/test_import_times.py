"""Imported runs keep the source's own start and end times (the run view's overview)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gsmreport import pipeline
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from tests.conftest import shared_data


def imported(tmp_path: Path, *parts: str) -> list[tuple[str | None, str | None, float | None]]:
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    outcomes = pipeline.import_logs(dirs, [shared_data(*parts)])
    store = RunStore(dirs.runs)
    records = [store.read(o.run_id) for o in outcomes if o.run_id]
    return [(r.started_at, r.finished_at, r.runtime_s) for r in records]


def span(start: str, end: str) -> float:
    return (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()


def test_wandb_run_start_and_end(tmp_path: Path) -> None:
    [(start, end, runtime)] = imported(
        tmp_path, "real-logs", "wandb", "raja17021998+LLM-AIL-821-Project"
    )
    assert start == "2024-11-26T00:22:03.066073+00:00"  # wandb-metadata.json's startedAt
    assert end is not None and runtime is not None
    assert span(start, end) == pytest.approx(runtime, abs=1e-3)


def test_killed_wandb_run_has_a_start_and_no_end(tmp_path: Path) -> None:
    [(start, end, _)] = imported(tmp_path, "real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment")
    assert start is not None and start.startswith("2024-12-16")
    assert end is None


def test_tensorboard_launches_start_at_their_first_event(tmp_path: Path) -> None:
    times = imported(
        tmp_path,
        "real-logs",
        "tensorboard",
        "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews",
        "logs_llama",
    )
    assert len(times) > 3
    for start, end, runtime in times:
        assert start is not None and start.startswith("2024-12-1")
        if runtime is None:
            assert end is None  # no train_runtime: the last scalar is not known to be the end
        else:
            assert end is not None and abs(span(start, end) - runtime) < 120
