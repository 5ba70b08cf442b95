"""The CLI as a user meets it: one `error:` line and exit 2 for their mistakes, nothing written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gsmreport.core.settings import Dirs
from tests.conftest import run_cli


def gsm(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env=env)


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["render", "../x"], "invalid run id '../x'"),
        (["render", "a/b", "--pdf"], "invalid run id"),
        (["render", "nope"], "run 'nope' not found"),
        (["train", "missing.yaml"], "config file not found: missing.yaml"),
        (["eval", "--model", "./no-such-model", "-n", "2"], "model path not found"),
        (["eval", "--run", "nope"], "run 'nope' not found"),
        (["eval"], "exactly one of --run"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    tmp_path: Path, dirs: Dirs, args: list[str], fragment: str
) -> None:
    proc = gsm(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert fragment in _one_error_line(proc)
    assert not dirs.runs.exists() or not any(dirs.runs.iterdir())
    assert not dirs.reports.exists()


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("model: m\nepochs: 3\n", "unknown key 'epochs'"),
        ("model: [\n", "not valid YAML"),
        ("model: ./nowhere\n", "model path not found"),
        ("model: org/m\ndata: {path: ./nodata}\n", "data folder not found"),
    ],
)
def test_bad_config_writes_nothing(tmp_path: Path, dirs: Dirs, config: str, fragment: str) -> None:
    (tmp_path / "c.yaml").write_text(config)
    proc = gsm("train", "c.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert fragment in _one_error_line(proc)
    assert not dirs.runs.exists()


def test_runs_dir_option_beats_env(tmp_path: Path, dirs: Dirs) -> None:
    proc = gsm("--runs-dir", str(tmp_path / "elsewhere"), "runs", cwd=tmp_path)
    assert proc.returncode == 0
    assert "no runs yet" in proc.stdout


def test_every_command_has_help(tmp_path: Path) -> None:
    from typer.main import get_command

    from gsmreport.cli.app import app

    group = get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert {"train", "eval", "ingest", "render", "runs", "demo"} <= set(names)
    for name in names:
        assert group.commands[name].help, f"command {name} has no help text"  # type: ignore[attr-defined]
        proc = gsm(name, "--help", cwd=tmp_path)
        assert proc.returncode == 0 and "Usage" in proc.stdout


def test_render_all_with_html_and_a_broken_run(tmp_path: Path, dirs: Dirs) -> None:
    from tests.run_fixtures import make_train_run

    make_train_run(tmp_path, "good-a")
    make_train_run(tmp_path, "good-b")
    (dirs.runs / "broken").mkdir()
    (dirs.runs / "broken" / "run.yaml").write_text("id: broken\nkind: train\nstatus: nope\n")
    proc = gsm("render", "--all", "--html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # an unreadable run.yaml is not a run
    for rid in ("good-a", "good-b"):
        assert (dirs.reports / rid / "report.html").is_file()
        assert str(dirs.reports / rid / "report.md") in proc.stdout


def test_render_all_with_no_runs_is_a_usage_error(tmp_path: Path, dirs: Dirs) -> None:
    proc = gsm("render", "--all", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nothing to render" in _one_error_line(proc)


def test_demo_with_incomplete_data_folder(tmp_path: Path, dirs: Dirs) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "train.jsonl").write_text("")
    proc = gsm("demo", "--data", "d", "--workdir", "w", cwd=tmp_path)
    assert proc.returncode == 2
    assert "expected train.jsonl and test.jsonl" in _one_error_line(proc)
    assert not dirs.runs.exists()
