"""Device-hours, cost with its price source, cost per accuracy point, throughput."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from gsmreport.analysis.cost import (
    DEFAULT_PRICES,
    cost,
    cost_per_point,
    default_price,
)
from gsmreport.analysis.training import throughput
from gsmreport.ingest import ingest_run, rows_from_log
from gsmreport.ingest.schema import frame_from_rows
from gsmreport.ingest.trainer_state import read
from tests.conftest import shared_data
from tests.run_fixtures import write_metrics_jsonl


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"),
        ("nvidia h100 pcie", "NVIDIA H100 80GB HBM3"),
        ("H100", "NVIDIA H100 80GB HBM3"),
        ("NVIDIA H200", "NVIDIA H200"),
        ("NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"),
        ("NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"),
        ("NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB"),
        ("NVIDIA A100-PCIE-40GB", "NVIDIA A100-SXM4-40GB"),
        ("NVIDIA A10G", "NVIDIA A10G"),
        # Left out of the table: no dated transcription of a price could be found (cost.py).
        ("NVIDIA L4", None),
        ("Tesla T4", None),
        ("cpu", "CPU"),
        # Not guessed: memory size unknown, or a different device whose name contains a key.
        ("NVIDIA A100-SXM4", None),
        ("NVIDIA L40S", None),
        ("NVIDIA GH200 480GB", None),
        ("Apple M2", None),
        ("", None),
        (None, None),
    ],
)
def test_default_price_fuzzy_match(device: str | None, expected: str | None) -> None:
    entry = default_price(device)
    assert (entry.name if entry else None) == expected


def test_every_default_price_is_sourced_and_dated() -> None:
    for entry in DEFAULT_PRICES:
        assert entry.source and entry.usd_per_device_hour >= 0
        dt.date.fromisoformat(entry.as_of)
        # A rented device names the page a reader can check today's price on.
        assert entry.name == "CPU" or entry.url.startswith("https://")
    cpu = default_price("CPU")
    assert cpu is not None and cpu.usd_per_device_hour == 0


def test_cost_from_the_run_price() -> None:
    result = cost(3600.0, 2, price_per_device_hour=1.5, price_source="config")
    assert (result.device_hours, result.usd, result.origin) == (2.0, 3.0, "run")
    assert result.source == "price from the run: config"
    assert "2 device-hours" in result.sentence and "$3" in result.sentence


def test_run_price_wins_over_the_table() -> None:
    result = cost(1800.0, 1, price_per_device_hour=0.1, device_name="NVIDIA H100 80GB HBM3")
    assert result.usd == pytest.approx(0.05) and result.origin == "run"


def test_cost_from_the_default_table_names_its_date() -> None:
    result = cost(1800.0, 4, device_name="NVIDIA A100-SXM4-80GB")
    assert result.device_hours == 2.0
    assert result.usd == pytest.approx(2.0 * 2.79)
    assert result.origin == "default table"
    assert "checked 2026-11-22" in result.source and "Lambda" in result.source
    assert "https://lambda.ai/pricing" in result.source


def test_no_price_known_means_no_cost() -> None:
    result = cost(7200.0, 1, device_name="NVIDIA L40S")
    assert result.usd is None and result.price_per_device_hour is None
    assert result.origin == "none" and result.device_hours == 2.0
    assert "no price known for 'NVIDIA L40S'" in result.source
    assert "no cost is given" in result.sentence
    assert cost(60.0, 1).usd is None


def test_cost_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        cost(-1.0, 1)
    with pytest.raises(ValueError):
        cost(10.0, 0)
    with pytest.raises(ValueError):
        cost(10.0, 1, price_per_device_hour=-2.0)


def test_cost_per_point() -> None:
    assert cost_per_point(3.0, 0.5) == pytest.approx(0.06)  # $3 / 50 points
    assert cost_per_point(None, 0.5) is None
    assert cost_per_point(3.0, 0.0) is None
    assert cost_per_point(3.0, None) is None


def test_throughput_from_the_summary_rows(tmp_path: Path) -> None:
    write_metrics_jsonl(tmp_path)
    figures = throughput(ingest_run(tmp_path, "r"))
    assert figures.samples_per_second is not None
    assert (figures.samples_per_second.value, figures.samples_per_second.step) == (11.4, 60)
    assert figures.runtime_s is not None and figures.runtime_s.value == 42.0
    assert figures.num_tokens is not None and figures.num_tokens.value == 512.0 * 60
    assert figures.tokens_per_second is not None
    assert figures.tokens_per_second.value == pytest.approx(512.0 * 60 / 42.0)
    assert figures.tokens_per_second_source == "num_tokens / runtime_s"


def test_logged_tokens_per_second_wins() -> None:
    rows = rows_from_log(
        {"train_tokens_per_second": 900.0, "train_runtime": 10.0, "num_tokens": 5.0, "step": 3},
        run_id="r",
        source="s",
    )
    figures = throughput(frame_from_rows(rows))
    assert figures.tokens_per_second is not None and figures.tokens_per_second.value == 900.0
    assert figures.tokens_per_second_source == "logged"
    empty = throughput(frame_from_rows([]))
    assert empty.tokens_per_second is None and empty.tokens_per_second_source is None


def test_num_tokens_is_used_without_a_runtime() -> None:
    """A run stopped before its summary (Dheena's: num_tokens logged 186 times, no
    train_runtime): the token count and tokens per step are stated, tokens/s only from
    wall-clock times where they were logged."""
    rows = []
    for step, tokens in ((10, 4000.0), (20, 8100.0), (30, 12000.0)):
        rows += rows_from_log({"num_tokens": tokens, "step": step}, run_id="r", source="s")
    figures = throughput(frame_from_rows(rows))
    assert figures.num_tokens is not None and figures.num_tokens.value == 12000.0
    assert figures.num_tokens_rows == 3
    assert figures.tokens_per_step == pytest.approx((12000.0 - 4000.0) / 20)
    assert figures.tokens_per_second is None  # no runtime, no wall-clock times
    timed = frame_from_rows(rows).with_columns(wall_time=pl.col("step").cast(pl.Float64) * 2)
    with_time = throughput(timed)
    assert with_time.tokens_per_second is not None
    assert with_time.tokens_per_second.value == pytest.approx(8000.0 / 40.0)
    assert with_time.tokens_per_second_source == "Δnum_tokens / Δwall_time"


def test_real_trl_log_reports_its_token_count(tmp_path: Path) -> None:
    path = shared_data(
        "real-logs", "trainer_state", "Dheena731+tinyLlama-finetune__trainer_state.json"
    )
    history = json.loads(path.read_text())["log_history"]
    counted = [(e["step"], e["num_tokens"]) for e in history if "num_tokens" in e]
    assert len(counted) == 186 and not any("train_runtime" in e for e in history)
    figures = throughput(read(path).frame)
    assert figures.num_tokens_rows == len(counted)
    assert figures.num_tokens is not None and figures.num_tokens.value == counted[-1][1]
    per_step = (counted[-1][1] - counted[0][1]) / (counted[-1][0] - counted[0][0])
    assert figures.tokens_per_step == pytest.approx(per_step)
