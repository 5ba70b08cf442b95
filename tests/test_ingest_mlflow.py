"""MLflow import: a real run logged with mlflow (temporary file store or SQLite, no server)
comes back point for point, with its params, tags and artifacts, and renders."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from gsmreport.core.settings import Dirs
from gsmreport.ingest import mlflow_run
from gsmreport.ingest.detect import mlflow_sources
from gsmreport.ingest.files import SourceError
from tests.test_cli import gsm

# (key, step, value): HF's report_to="mlflow" names, a NaN and an inf among them.
Point = tuple[str, int, float]


def _points() -> list[Point]:
    out: list[Point] = []
    for step in range(1, 41):
        out += [("loss", step, 2.5 * 0.97**step), ("learning_rate", step, 2e-4 * (1 - step / 40))]
        out.append(("epoch", step, step / 40))
    out += [("eval_loss", 20, 1.9), ("eval_loss", 40, 1.7), ("grad_norm", 7, math.nan)]
    out += [("grad_norm", 8, math.inf), ("train_runtime", 40, 123.5)]
    return out


def _log_run(uri: str, tmp_path: Path, experiment: str, name: str) -> tuple[str, list[Point]]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment)
    points = _points()
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params({"learning_rate": 2e-4, "lora_r": 16, "max_seq_length": 512})
        mlflow.set_tags({"model": "tiny-llama", "method": "lora"})
        for key, step, value in points:
            mlflow.log_metric(key, value, step=step)
        note = tmp_path / "notes.txt"
        note.write_text("trained on the synthetic set\n")
        mlflow.log_artifact(str(note), artifact_path="extra")
    return run.info.run_id, points


@pytest.fixture
def file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str, list[Point]]:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 asks for the opt-in
    store = tmp_path / "mlruns"
    run_id, points = _log_run(store.as_uri(), tmp_path, "gsm8k-lora", "lora-r16")
    return store, run_id, points


def _expected(points: list[Point]) -> dict[tuple[str, str, int], float]:
    names = {"train_runtime": ("train", "runtime_s"), "eval_loss": ("eval", "loss")}
    return {
        (*names.get(key, ("train", key)), step): value
        for key, step, value in points
        if key != "epoch"
    }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_every_logged_point_imports_and_the_run_renders(
    tmp_path: Path, dirs: Dirs, file_store: tuple[Path, str, list[Point]]
) -> None:
    store, run_id, points = file_store
    proc = gsm("ingest", str(store), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "imported mlflow-lora-r16 <- " in proc.stdout and "(mlflow, " in proc.stdout

    frame = pl.read_parquet(dirs.runs / "mlflow-lora-r16" / "metrics.parquet")
    got = {(s, m, st): v for s, m, st, v in frame.select("split", "metric", "step", "value").rows()}
    expected = _expected(points)
    assert got.keys() == expected.keys()
    assert all(_same(got[k], expected[k]) for k in expected)
    epochs = dict(frame.filter(pl.col("metric") == "loss").select("step", "epoch").rows())
    assert epochs[10] == pytest.approx(0.25)
    assert frame["wall_time"].min() >= 0  # type: ignore[operator]

    record = yaml.safe_load((dirs.runs / "mlflow-lora-r16" / "run.yaml").read_text())
    assert (record["model"], record["method"], record["status"]) == (
        "tiny-llama",
        "lora",
        "completed",
    )
    assert record["runtime_s"] == 123.5
    assert record["config"]["params"]["lora_r"] == "16"  # MLflow stores params as strings
    assert record["config"]["artifacts"] == ["extra/notes.txt"]
    assert record["config"]["mlflow"]["run_id"] == run_id

    again = gsm("ingest", str(store), cwd=tmp_path)
    assert "updated mlflow-lora-r16" in again.stdout

    rendered = gsm("render", "mlflow-lora-r16", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert "tiny-llama" in (dirs.reports / "mlflow-lora-r16" / "report.md").read_text()


def test_tracking_uri_and_experiment_select_runs(
    tmp_path: Path, dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a database store puts artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    _log_run(uri, tmp_path, "wanted", "kept")
    _log_run(uri, tmp_path, "other", "left-out")
    proc = gsm("ingest", "--tracking-uri", uri, "--experiment", "wanted", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in dirs.runs.iterdir()) == ["mlflow-kept"]

    missing = gsm("ingest", "--tracking-uri", uri, "--experiment", "nope", cwd=tmp_path)
    assert missing.returncode == 1
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith("error: ") and "no MLflow experiment named 'nope'" in line
    assert "other" in line and "wanted" in line

    typo = tmp_path / "mlfow.db"
    wrong = gsm("ingest", "--tracking-uri", f"sqlite:///{typo}", cwd=tmp_path)
    assert wrong.returncode == 1 and "no such MLflow database file" in wrong.stderr
    assert not typo.exists()  # MLflow would have created an empty database there


def test_without_mlflow_one_line_names_the_extra(
    file_store: tuple[Path, str, list[Point]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, _ = file_store
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` meets uninstalled
    with pytest.raises(SourceError) as err:
        mlflow_sources(mlflow_run.file_store_uri(store), store)
    assert str(err.value) == mlflow_run.MISSING
    assert "gsmreport[mlflow]" in str(err.value)
