"""Evaluation past one device: `eval --num-processes N` (data-parallel through `accelerate
launch`) and `--device-map auto`, from the CLI, the study files and the job itself.

The real runs use the CPU: two gloo ranks of the tiny model must write the very same
samples.jsonl as one process, problem for problem, and a device_map="auto" load (which on a
machine without a GPU places every layer on the CPU) must answer as a plain load does.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gsmreport import pipeline
from gsmreport.core.config import DataConfig, EvalConfig, LaunchSettings
from gsmreport.core.errors import ConfigError, UsageError
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs import shard
from gsmreport.launch import accelerate as acc
from gsmreport.launch.command import eval_command, job_command
from gsmreport.study.config import load_study
from tests.conftest import run_cli

# What a sample row says about the problem and the answer (timings are not in rows).
COMPARED = ("doc_id", "arguments", "resps", "filtered_resps", "prediction", "correct", "n_tokens")

# --- command lines and settings (no model) ----------------------------------------------


def test_one_process_is_the_plain_job(tmp_path: Path) -> None:
    assert eval_command(tmp_path, LaunchSettings(), python="py") == job_command(
        "evaluate", tmp_path, python="py"
    )
    assert eval_command(tmp_path, None, python="py")[1:3] == ["-m", "gsmreport.jobs.evaluate"]


def test_n_processes_go_through_accelerate_launch_with_valid_flags(tmp_path: Path) -> None:
    from accelerate.commands.launch import launch_command_parser

    cmd = eval_command(tmp_path, LaunchSettings(num_processes=3), python="py")
    assert cmd[:3] == ["py", "-m", "accelerate.commands.launch"]
    assert cmd[-3:] == ["-m", "gsmreport.jobs.evaluate", str(tmp_path)]
    parsed = launch_command_parser().parse_args(cmd[3:])
    assert parsed.num_processes == 3 and parsed.multi_gpu
    assert parsed.module and parsed.training_script == "gsmreport.jobs.evaluate"


def test_device_map_with_several_processes_is_refused_everywhere(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot run in 2 processes"):
        EvalConfig(model="m", num_processes=2, device_map="auto")
    assert EvalConfig(model="m", device_map="auto").device_map == "auto"
    with pytest.raises(UsageError, match="cannot run in 2 processes"):
        pipeline.evaluate(
            Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"),
            model="m",
            num_processes=2,
            device_map="auto",
        )
    assert not (tmp_path / "runs").exists()


def test_cli_conflict_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    proc = run_cli(
        "eval", "--model", "m", "--num-processes", "2", "--device-map", "auto", cwd=tmp_path
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: device_map auto"), proc.stderr
    assert not (tmp_path / "runs").exists()


def test_bad_device_map_value_is_refused_by_the_cli(tmp_path: Path) -> None:
    proc = run_cli("eval", "--model", "m", "--device-map", "balanced", cwd=tmp_path)
    assert proc.returncode == 2 and "'balanced' is not one of 'auto'" in proc.stderr, proc.stderr


def _study(tmp_path: Path, eval_section: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\ndefaults: {model: m, data: {path: /d}}\nruns: [{id: a}]\n"
        f"eval: {eval_section}\nbaselines: [{{id: base}}]\n"
    )
    return path


def test_study_eval_section_carries_the_scale_out(tmp_path: Path) -> None:
    plan = load_study(_study(tmp_path, "{n: 5, num_processes: 2}"))
    assert [r.eval.num_processes for r in plan.runs if r.eval] == [2, 2]
    plan = load_study(_study(tmp_path, "{n: 5, device_map: auto}"))
    assert [r.eval.device_map for r in plan.runs if r.eval] == ["auto", "auto"]


def test_study_dry_run_shows_the_scale_out(tmp_path: Path) -> None:
    proc = run_cli("study", str(_study(tmp_path, "{n: 5, num_processes: 2}")), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("256 new tokens max, 2 processes") == 2  # the run and the baseline


def test_study_conflict_is_one_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"s\.yaml: eval: .*cannot run in 2 processes"):
        load_study(_study(tmp_path, "{num_processes: 2, device_map: auto}"))


def test_more_processes_than_gpus_is_refused_before_any_run_folder() -> None:
    with pytest.raises(UsageError, match="more than the 1 GPU"):
        acc.resolve_launch(LaunchSettings(num_processes=2), gpus=lambda: 1)


# --- sharding and the merge (no model) --------------------------------------------------


@pytest.mark.parametrize(("n_batches", "world"), [(7, 2), (3, 4), (8, 8), (1, 3)])
def test_ranks_share_the_plan_without_overlap(n_batches: int, world: int) -> None:
    plan = [[3 * b, 3 * b + 1, 3 * b + 2] for b in range(n_batches)]
    shares = [shard.my_batches(plan, r, world) for r in range(world)]
    flat = sorted(b[0] for share in shares for b in share)
    assert flat == [b[0] for b in plan]  # every batch once, whole
    assert max(map(len, shares)) - min(map(len, shares)) <= 1  # round-robin balance


def test_merge_puts_rows_in_doc_order_and_refuses_gaps_and_doubles() -> None:
    rows = {i: {"doc_id": i} for i in range(5)}
    parts = [{i: rows[i] for i in (4, 0)}, {i: rows[i] for i in (1, 3, 2)}]
    assert [r["doc_id"] for r in shard.merge(parts, 5)] == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="evaluated by no rank"):
        shard.merge(parts[:1], 5)
    with pytest.raises(RuntimeError, match="by two ranks"):
        shard.merge([parts[0], parts[0]], 5)


# --- real runs on the CPU ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from gsmreport.jobs.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("evalscale")
    data = write_gsm8k_folder(root / "data", n_train=60, n_test=12, seed=3)
    return build_tiny_model(root / "model", data / "train.jsonl"), data


def _rows(run_dir: Path) -> list[dict[str, Any]]:
    (samples,) = run_dir.glob("evals/*/samples.jsonl")
    return [json.loads(line) for line in samples.read_text().splitlines()]


@pytest.mark.slow
def test_two_cpu_processes_write_what_one_process_writes(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    """accelerate launch, 2 gloo ranks: the merged samples equal a 1-process run's, row for
    row; results.json counts the two devices; only rank 0 reports progress."""
    model, data = tiny
    # 11 problems in batches of 3: 4 batches of mixed prompt lengths, one of them short
    common = ["--model", str(model), "--data", str(data), "-n", "11", "--batch-size", "3"]
    common += ["--max-new-tokens", "24", "-v"]
    env = {"OMP_NUM_THREADS": "1", "GSMREPORT_RUNS_DIR": str(tmp_path / "runs")}
    env["CUDA_VISIBLE_DEVICES"] = ""  # CPU ranks over gloo, on a GPU machine too
    one = run_cli("eval", *common, "--run-id", "one", cwd=tmp_path, env=env, timeout=300)
    assert one.returncode == 0, one.stdout + one.stderr
    two = run_cli(
        "eval",
        *common,
        "--run-id",
        "two",
        "--num-processes",
        "2",
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert two.returncode == 0, two.stdout + two.stderr
    assert "evaluating 11 problems in 2 processes: 4 batches, 2/2 per rank" in two.stdout
    assert two.stdout.count("eval batch 2/2:") == 1  # rank 1 generated quietly

    a, b = _rows(tmp_path / "runs" / "one"), _rows(tmp_path / "runs" / "two")
    assert [r["doc_id"] for r in a] == [r["doc_id"] for r in b] == sorted(r["doc_id"] for r in a)
    assert len(b) == 11
    for x, y in zip(a, b, strict=True):
        assert {k: x[k] for k in COMPARED} == {k: y[k] for k in COMPARED}
        assert y["loss"] == pytest.approx(x["loss"], rel=1e-5)
    (results,) = (tmp_path / "runs" / "two").glob("evals/*/results.json")
    facts = json.loads(results.read_text())
    assert facts["num_processes"] == 2 and facts["hardware"]["count"] == 2
    assert facts["n"] == 11
    (eval_yaml,) = (tmp_path / "runs" / "two").glob("evals/*/eval.yaml")
    command = yaml.safe_load(eval_yaml.read_text())["command"]
    assert command[1:3] == ["-m", "accelerate.commands.launch"]
    record = yaml.safe_load((tmp_path / "runs" / "two" / "run.yaml").read_text())
    assert record["status"] == "completed" and record["hardware"]["count"] == 2


@pytest.mark.slow
def test_device_map_auto_loads_without_moving_and_answers_the_same(
    tiny: tuple[Path, Path],
) -> None:
    import torch

    from gsmreport.jobs.evaluate import build_prompts, evaluate_docs, select_docs
    from gsmreport.jobs.generation import load_model

    if torch.cuda.is_available():
        pytest.skip("checks the CPU placement; on CUDA benchmarks/gpu_eval_check.py does")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    model_dir, data = tiny
    cfg = EvalConfig(
        model=str(model_dir),
        data=DataConfig(path=str(data)),
        n=6,
        batch_size=3,
        max_new_tokens=16,
    )
    plain, tok = load_model(cfg)
    spread, _ = load_model(cfg.model_copy(update={"device_map": "auto"}))
    # Without a GPU, transformers places every layer on the CPU (recent versions record no
    # hf_device_map then); what matters is that the load works and nothing moves it after.
    assert set(getattr(spread, "hf_device_map", {"": "cpu"}).values()) == {"cpu"}
    assert str(spread.device) == "cpu"
    docs = select_docs(cfg)
    prompts = build_prompts(cfg, docs, None)
    assert evaluate_docs(spread, tok, cfg, docs, prompts) == evaluate_docs(
        plain, tok, cfg, docs, prompts
    )


# --- the TUI's evaluate form -------------------------------------------------------------


def test_form_preview_carries_both_settings_and_the_cli_parses_it() -> None:
    import shlex

    import typer.main
    from typer.core import TyperGroup

    from gsmreport.cli.app import app
    from gsmreport.tui.screens.evaluate import eval_command

    base = {"run_id": "r1", "model": None, "data_path": None, "n": "8"}
    base |= {"prompt_style": "zero-shot", "max_new_tokens": "256"}
    assert eval_command({**base, "num_processes": "1", "device_map": None}) == (
        "gsmreport eval --run r1 -n 8"
    )
    command = eval_command({**base, "num_processes": "4", "device_map": None})
    assert command == "gsmreport eval --run r1 -n 8 --num-processes 4"
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    ctx = group.commands["eval"].make_context("eval", shlex.split(command)[2:])
    assert ctx.params["num_processes"] == 4
    auto = eval_command({**base, "num_processes": "1", "device_map": "auto"})
    assert auto.endswith("-n 8 --device-map auto")
    ctx = group.commands["eval"].make_context("eval", shlex.split(auto)[2:])
    assert ctx.params["device_map"] == "auto"


def test_form_refuses_device_map_with_several_processes(tmp_path: Path) -> None:
    from textual.widgets import Button, Input, Select, Static

    from gsmreport.tui.app import make_app
    from gsmreport.tui.screens.evaluate import EvaluateScreen
    from tests.tui_support import async_test

    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")

    @async_test
    async def check() -> None:
        app = make_app(dirs)
        async with app.run_test(size=(100, 40)) as pilot:
            app.push_screen(EvaluateScreen())
            await pilot.pause()
            form = app.screen
            assert isinstance(form, EvaluateScreen)
            form.query_one("#eval-model", Input).value = str(tmp_path)  # an existing folder
            form.query_one("#eval-num-processes", Input).value = "2"
            await pilot.pause()
            assert not form.query_one("#eval-launch", Button).disabled
            assert "--num-processes 2" in str(form.query_one("#eval-preview", Static).content)
            form.query_one("#eval-device-map", Select).value = "auto"
            await pilot.pause()
            error = str(form.query_one("#eval-num-processes-error", Static).content)
            assert error.startswith("device_map auto") and "cannot run in 2 processes" in error
            assert form.query_one("#eval-launch", Button).disabled
            form.query_one("#eval-num-processes", Input).value = "0"
            await pilot.pause()
            error = str(form.query_one("#eval-num-processes-error", Static).content)
            assert "greater than or equal to 1" in error

    check()


@pytest.mark.slow
def test_gpu_eval_check_agrees_on_the_cpu() -> None:
    """benchmarks/gpu_eval_check.py (gpu.sh's placement check) end to end, here on the CPU."""
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_eval_check.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--problems", "6"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "same answer on 6/6 problems" in proc.stdout
    assert "device_map auto  CPU" in proc.stdout
