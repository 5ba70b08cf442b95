"""`gsmreport ingest PATH...` as a user meets it: imported runs, idempotent re-imports,
one line per bad file, exit 1 when any failed, and nothing half-written left behind."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from gsmreport.core.settings import Dirs
from gsmreport.ingest.importer import import_paths
from tests.conftest import shared_data
from tests.run_fixtures import make_train_run
from tests.test_cli import gsm


def _state(path: Path, steps: int = 5, *, max_steps: int | None = None) -> Path:
    history: list[dict[str, object]] = [
        {"step": s, "epoch": s / steps, "loss": 2.0 - 0.1 * s, "learning_rate": 1e-4}
        for s in range(1, steps + 1)
    ]
    history.append({"step": steps, "eval_loss": 1.7, "epoch": 1.0})
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"log_history": history, "global_step": steps, "max_steps": max_steps or steps}
    path.write_text(json.dumps(state))
    return path


def _run_yaml(dirs: Dirs, run_id: str) -> dict[str, object]:
    data = yaml.safe_load((dirs.runs / run_id / "run.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _no_leftovers(dirs: Dirs) -> None:
    if dirs.runs.is_dir():
        hidden = [p.name for p in dirs.runs.iterdir() if p.name.startswith(".")]
        assert hidden == [], f"temp folders left behind: {hidden}"


def test_import_then_reimport_updates_the_same_run(tmp_path: Path, dirs: Dirs) -> None:
    src = _state(tmp_path / "out" / "my-sft" / "trainer_state.json")
    first = gsm("ingest", str(src), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported my-sft <- " in first.stdout
    record = _run_yaml(dirs, "my-sft")
    assert record["kind"] == "imported"
    assert record["source"]["kind"] == "trainer_state"  # type: ignore[index]
    frame = pl.read_parquet(dirs.runs / "my-sft" / "metrics.parquet")
    assert frame.filter((pl.col("metric") == "loss") & (pl.col("split") == "train")).height == 5
    assert set(frame["run_id"]) == {"my-sft"}

    _state(src, steps=7)  # the training went on; import again
    second = gsm("ingest", str(src), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "updated my-sft <- " in second.stdout
    assert sorted(p.name for p in dirs.runs.iterdir()) == ["my-sft"]
    frame = pl.read_parquet(dirs.runs / "my-sft" / "metrics.parquet")
    assert frame.filter((pl.col("metric") == "loss") & (pl.col("split") == "train")).height == 7
    assert _run_yaml(dirs, "my-sft")["created_at"] == record["created_at"]
    _no_leftovers(dirs)


def test_bad_files_get_one_line_each_and_good_ones_still_import(tmp_path: Path, dirs: Dirs) -> None:
    good = _state(tmp_path / "good" / "trainer_state.json")
    empty = tmp_path / "empty_trainer_state.json"
    empty.write_text("")
    truncated = tmp_path / "cut" / "trainer_state.json"
    truncated.parent.mkdir()
    truncated.write_text(good.read_text()[:40])
    garbage = tmp_path / "events.out.tfevents.123.host"
    garbage.write_bytes(bytes(range(256)) * 4)
    lfs = tmp_path / "lfs_trainer_log.jsonl"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 10\n")
    args = [str(p) for p in (empty, truncated, good, garbage, lfs)]
    proc = gsm("ingest", *args, "no-such-thing", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 5, proc.stderr
    assert all(line.startswith("error: ") for line in errors)
    assert any("empty file" in line and str(empty) in line for line in errors)
    assert any("not valid JSON" in line and str(truncated) in line for line in errors)
    assert any("git lfs pull" in line and str(lfs) in line for line in errors)
    assert any(str(garbage) in line for line in errors)
    assert any("no-such-thing" in line for line in errors)
    assert "imported good <- " in proc.stdout
    assert sorted(p.name for p in dirs.runs.iterdir()) == ["good"]
    _no_leftovers(dirs)


def test_name_with_many_sources_is_a_usage_error(tmp_path: Path, dirs: Dirs) -> None:
    a = _state(tmp_path / "a" / "trainer_state.json")
    b = _state(tmp_path / "b" / "trainer_state.json")
    proc = gsm("ingest", str(a), str(b), "--name", "x", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--name 'x' names one run, but 2 sources were found" in proc.stderr
    assert not dirs.runs.exists() or not any(dirs.runs.iterdir())


def test_name_of_an_existing_run_from_elsewhere_is_refused(tmp_path: Path, dirs: Dirs) -> None:
    make_train_run(tmp_path, "mine")
    src = _state(tmp_path / "x" / "trainer_state.json")
    proc = gsm("ingest", str(src), "--name", "mine", cwd=tmp_path)
    assert proc.returncode == 2
    assert "already exists and was not imported from" in proc.stderr
    assert _run_yaml(dirs, "mine")["kind"] == "train"  # untouched


def test_folder_without_logs_says_use_recursive(tmp_path: Path, dirs: Dirs) -> None:
    deep = _state(tmp_path / "top" / "sub" / "run1" / "trainer_state.json")
    (tmp_path / "top" / "notes.txt").write_text("hello")
    flat = gsm("ingest", str(tmp_path / "top"), cwd=tmp_path)
    assert flat.returncode == 1
    assert "use --recursive" in flat.stderr
    deep_run = gsm("ingest", str(tmp_path / "top"), "--recursive", cwd=tmp_path)
    assert deep_run.returncode == 0, deep_run.stderr
    assert f"imported run1 <- {tmp_path / 'top'}" in deep_run.stdout
    assert deep.is_file()


def test_checkpoint_folders_pick_the_newest(tmp_path: Path, dirs: Dirs) -> None:
    out = tmp_path / "outputs"
    _state(out / "checkpoint-3" / "trainer_state.json", steps=3, max_steps=6)
    _state(out / "checkpoint-6" / "trainer_state.json", steps=6, max_steps=6)
    outcomes = import_paths(dirs.runs, [out])
    assert [o.error for o in outcomes] == [None]
    assert outcomes[0].run_id == "outputs"
    frame = pl.read_parquet(dirs.runs / "outputs" / "metrics.parquet")
    assert (
        frame.filter((pl.col("metric") == "loss") & (pl.col("split") == "train"))["step"].max() == 6
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_permission_denied_is_one_line(tmp_path: Path, dirs: Dirs) -> None:
    src = _state(tmp_path / "locked" / "trainer_state.json")
    src.chmod(0)
    try:
        proc = gsm("ingest", str(src), cwd=tmp_path)
    finally:
        src.chmod(0o644)
    assert proc.returncode == 1
    assert "permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_lm_eval_results_attach_to_an_existing_run(tmp_path: Path, dirs: Dirs) -> None:
    folder = shared_data("real-logs", "lm-eval")
    make_train_run(tmp_path, "phi3")
    samples = next(folder.glob("*samples_gsm8k_2025-08-07*.jsonl"))
    proc = gsm("ingest", str(samples), "--name", "phi3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    evals = sorted(p.name for p in (dirs.runs / "phi3" / "evals").iterdir())
    assert len(evals) == 2 and "e1" in evals  # the run's own eval is kept
    assert _run_yaml(dirs, "phi3")["kind"] == "train"


def test_every_real_log_imports_or_fails_with_one_line(tmp_path: Path, dirs: Dirs) -> None:
    real = shared_data("real-logs")
    proc = gsm("ingest", str(real), "--recursive", "--jobs", "2", cwd=tmp_path)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 1  # the Git-LFS pointers in edge_cases/ cannot be read
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    lfs = [line for line in errors if "git lfs pull" in line]
    assert len(lfs) == 3, errors
    imported = [line for line in proc.stdout.splitlines() if line.startswith("imported ")]
    kinds = {line.split("(")[1].split(",")[0] for line in imported}
    assert {"trainer_state", "wandb", "tensorboard", "llamafactory", "lm_eval"} <= kinds
    _no_leftovers(dirs)
    # and once more: the same sources update the same runs, none is added
    before = sorted(p.name for p in dirs.runs.iterdir())
    again = gsm("ingest", str(real), "--recursive", cwd=tmp_path)
    assert sorted(p.name for p in dirs.runs.iterdir()) == before
    assert again.stdout.count("updated ") == len(imported)


def test_imported_run_renders(tmp_path: Path, dirs: Dirs) -> None:
    src = shared_data(
        "real-logs", "trainer_state", "Dheena731+tinyLlama-finetune__trainer_state.json"
    )
    local = tmp_path / "tiny" / "trainer_state.json"
    local.parent.mkdir()
    shutil.copy(src, local)
    assert gsm("ingest", str(local), cwd=tmp_path).returncode == 0
    proc = gsm("render", "tiny", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = (dirs.reports / "tiny" / "report.md").read_text()
    assert "imported" in report.lower() or "tiny" in report
