"""`gsmreport runs --format` and `gsmreport show`: raw figures for scripts, one line on a
mistake."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from gsmreport.core.settings import Dirs
from tests.conftest import shared_data
from tests.run_fixtures import make_train_run
from tests.test_cli import _one_error_line, gsm


def test_runs_csv_and_json_carry_the_same_headline(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "r1")
    as_json = json.loads(gsm("runs", "--format", "json", cwd=tmp_path).stdout)
    proc = gsm("runs", "-f", "csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (row,) = list(csv.DictReader(io.StringIO(proc.stdout)))
    (obj,) = as_json
    assert row["id"] == obj["id"] == "r1"
    assert float(row["final_loss"]) == obj["final_loss"]
    assert int(row["n_eval"]) == obj["n_eval"] and int(row["em_correct"]) == obj["em_correct"]
    assert row["latest_eval"] == obj["latest_eval"]
    table = gsm("runs", cwd=tmp_path).stdout
    assert "runtime" in table.splitlines()[0] and "cost" in table.splitlines()[0]


def test_show_prints_each_figure_with_its_source(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "r1")
    proc = gsm("show", "r1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "train loss:" in proc.stdout and "[train/loss rows]" in proc.stdout
    assert "runtime:" in proc.stdout and "← latest" in proc.stdout
    data = json.loads(gsm("show", "r1", "--json", cwd=tmp_path).stdout)
    assert (
        data["run"]["id"] == "r1" and data["latest_evaluation"] == data["headline"]["latest_eval"]
    )
    assert data["runtime"]["source"]


def test_mistakes_are_one_line(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "r1")
    bad_format = gsm("runs", "--format", "xml", cwd=tmp_path)
    assert bad_format.returncode == 2
    assert "table, json or csv" in _one_error_line(bad_format)
    missing = gsm("show", "nope", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nope" in _one_error_line(missing)


def test_show_leads_with_health(tmp_path: Path, dirs: Dirs) -> None:
    """The eval-only JadeAnt launch: `show` calls it that and says why before any figure."""
    folder = shared_data(
        "real-logs", "tensorboard", "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"
    )
    source = next((folder / "logs_llama").glob("*1733900565*"))
    assert gsm("ingest", str(source), "--name", "launch", cwd=tmp_path).returncode == 0
    proc = gsm("show", "launch", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "run launch  (imported, eval-only launch (no training step))"
    assert lines[3] == "health: 1 check(s) fired"
    assert lines[4].startswith("  fail: eval-only launch: one evaluation at step 0")
    data = json.loads(gsm("show", "launch", "--json", cwd=tmp_path).stdout)
    assert data["health"]["eval_only"] is True and data["health"]["narrative_withheld"]
    healthy = make_train_run(tmp_path, "r1")[1]
    assert healthy.id == "r1"
    assert "health: all " in gsm("show", "r1", cwd=tmp_path).stdout
