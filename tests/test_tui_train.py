"""Train and evaluate from the TUI: real tiny trainings in child processes, driven by pilot.

The tiny model and its data are built locally (no Hub); every training stops after a few
steps. Waiting for a job uses a generous deadline as a safeguard, never as an assertion.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.pilot import Pilot
from textual.widgets import Button, Input, ProgressBar, Static

from gsmreport import pipeline
from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model
from gsmreport.launch.process import LogTail, run_job
from gsmreport.tui.app import GsmReportApp, make_app
from gsmreport.tui.job_progress import CurveTail, Progress, advance, eta_seconds, fmt_eta
from gsmreport.tui.jobs import Job, JobManager
from gsmreport.tui.screens.confirm import ConfirmDialog
from gsmreport.tui.screens.error import ErrorDialog
from gsmreport.tui.screens.evaluate import EvaluateScreen
from gsmreport.tui.screens.live import LiveScreen
from gsmreport.tui.screens.train import TrainScreen
from gsmreport.tui.widgets.curve import CurveChart
from tests.tui_support import async_test

REPO = Path(__file__).resolve().parents[1]
DEMO_LORA = REPO / "configs" / "demo" / "lora.yaml"
SIZE = (100, 30)
DEADLINE_S = 300.0  # a safeguard against a hung job, far above what a tiny training takes


@pytest.fixture(autouse=True)
def _steady(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursor in pictures; one thread per child so two CPUs suffice."""
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Llama model and GSM8K-format data, built here as tests/test_jobs.py does."""
    root = tmp_path_factory.mktemp("tiny")
    data = write_gsm8k_folder(root / "data", n_train=80, n_test=20, seed=3)
    model = build_tiny_model(root / "model", data / "train.jsonl")
    return model, data


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny: tuple[Path, Path]) -> Dirs:
    """A project folder as `gsmreport demo` leaves it: the demo LoRA preset in configs/demo,
    the tiny model and data where it points (.demo/), empty runs/ and reports/."""
    model, data = tiny
    (tmp_path / "configs" / "demo").mkdir(parents=True)
    (tmp_path / "configs" / "demo" / "lora.yaml").write_text(DEMO_LORA.read_text())
    (tmp_path / ".demo").mkdir()
    (tmp_path / ".demo" / "tiny-llama").symlink_to(model)
    (tmp_path / ".demo" / "data").symlink_to(data)
    monkeypatch.chdir(tmp_path)
    return Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")


async def open_train_form(app: GsmReportApp, pilot: Pilot[None]) -> TrainScreen:
    app.push_screen(TrainScreen(preset="configs/demo/lora.yaml"))
    await pilot.pause()
    assert isinstance(app.screen, TrainScreen)
    return app.screen


async def type_into(
    pilot: Pilot[None], screen: TrainScreen | EvaluateScreen, wid: str, text: str
) -> None:
    """Replace a field's text by typing it, key by key, as a user would."""
    field = screen.query_one(f"#{wid}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)


async def until(check: Callable[[], bool]) -> None:
    """Let the app run until `check()` holds (a hung job fails instead of blocking forever)."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, "gave up waiting for the job"
        await asyncio.sleep(0.1)


async def finish(app: GsmReportApp, pilot: Pilot[None], job: Job) -> LiveScreen:
    """Wait for `job` to end and for the live screen to take in its last lines."""
    await until(lambda: job.status != "running")
    screen = app.screen if isinstance(app.screen, LiveScreen) else None
    assert screen is not None, f"expected the live view, got {app.screen!r}"
    screen.tick()
    await pilot.pause()
    return screen


def status_text(screen: LiveScreen) -> str:
    return str(screen.query_one("#live-status", Static).content)


@pytest.mark.slow
class TestTrainFromTheForm:
    @async_test
    async def test_launch_runs_to_completion_with_a_live_curve(self, project: Dirs) -> None:
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            # The preset's ../../.demo/tiny-llama, relative to the preset's own folder.
            model = str(Path.cwd() / ".demo" / "tiny-llama")
            assert form.query_one("#field-model", Input).value == model
            await type_into(pilot, form, "field-training-max-steps", "3")
            await type_into(pilot, form, "field-data-max-samples", "40")
            await type_into(pilot, form, "field-training-logging-steps", "1")
            await type_into(pilot, form, "field-run-id", "tui-lora")
            preview = str(form.query_one("#train-preview", Static).content)
            assert preview == (
                "$ gsmreport train configs/demo/lora.yaml --run-id tui-lora "
                "--set data.max_samples=40 --set training.max_steps=3 "
                "--set training.logging_steps=1"
            )
            await pilot.press("ctrl+l")  # launch
            await pilot.pause()
            assert isinstance(app.screen, LiveScreen)
            job = app.screen.job
            assert (job.kind, job.run_id) == ("train", "tui-lora")
            live = await finish(app, pilot, job)
            assert job.status == "completed", job.error
            assert "completed" in status_text(live)
            curve = live.query_one(CurveChart).series
            assert [x for x, _ in curve["train loss"]] == [1.0, 2.0, 3.0]
            assert curve["eval loss"]  # eval_steps defaults to a fifth of the run: every step
            bar = live.query_one(ProgressBar)
            assert (bar.progress, bar.total) == (3, 3)
            # Ended: the footer offers plain Back, neither Cancel nor "job keeps running".
            shown = {b.binding.description for b in app.active_bindings.values() if b.enabled}
            assert "Back" in shown and "Cancel job" not in shown, shown
            assert "Back (job keeps running)" not in shown
            record = RunStore(project.runs).read("tui-lora")
            assert record.status == "completed"
            assert record.config["training"]["max_steps"] == 3
            assert record.config["data"]["max_samples"] == 40
            assert (project.runs / "tui-lora" / "metrics.parquet").is_file()
            assert app.jobs.running() == []

    @async_test
    async def test_cancel_asks_first_and_the_run_ends_interrupted(self, project: Dirs) -> None:
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            await type_into(pilot, form, "field-training-max-steps", "400")
            await type_into(pilot, form, "field-training-logging-steps", "1")
            await type_into(pilot, form, "field-run-id", "tui-cancel")
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert isinstance(app.screen, LiveScreen)
            live, job = app.screen, app.screen.job
            await until(lambda: (p := job.progress) is not None and p.done >= 2)
            await pilot.press("c")  # cancel: asks first
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("right", "enter")  # "Keep running"
            assert app.screen is live and not job.cancel_event.is_set()
            await pilot.press("c", "enter")  # "Stop it" has the focus
            assert app.screen is live
            live = await finish(app, pilot, job)
            assert job.status == "interrupted"
            assert "interrupted" in status_text(live)
        run_dir = project.runs / "tui-cancel"
        assert RunStore(project.runs).read("tui-cancel").status == "interrupted"
        events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        assert sum("loss" in e.get("logs", {}) for e in events) >= 2  # the steps done are kept
        assert (run_dir / "metrics.parquet").is_file()

    @async_test
    async def test_evaluate_a_run_from_the_screen(
        self, project: Dirs, tiny: tuple[Path, Path]
    ) -> None:
        preset = Path("configs/demo/lora.yaml")
        pipeline.train(project, preset, run_id="done", overrides={"training.max_steps": 2})
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(EvaluateScreen(run_id="done"))
            await pilot.pause()
            form = app.screen
            assert isinstance(form, EvaluateScreen)
            assert form.query_one("#eval-model", Input).disabled  # a run brings its own model
            await type_into(pilot, form, "eval-n", "4")
            await type_into(pilot, form, "eval-max-new-tokens", "16")
            preview = str(form.query_one("#eval-preview", Static).content)
            assert preview == "$ gsmreport eval --run done -n 4 --max-new-tokens 16"
            await pilot.press("ctrl+l")
            await pilot.pause()
            assert isinstance(app.screen, LiveScreen)
            job = app.screen.job
            live = await finish(app, pilot, job)
            assert job.status == "completed", job.error
            assert job.eval_id is not None
            assert "strict-match" in status_text(live)
        results = json.loads(
            (project.runs / "done" / "evals" / job.eval_id / "results.json").read_text()
        )
        assert results["n"] == 4


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"run_id": "r1", "model": None, "data_path": None, "n": "100"},
            "gsmreport eval --run r1 -n 100",
        ),
        (
            {
                "run_id": None,
                "model": "my models/m",
                "data_path": "/data/gsm8k",
                "n": "20",
                "prompt_style": "8-shot",
                "max_new_tokens": "64",
            },
            "gsmreport eval --model 'my models/m' --data /data/gsm8k -n 20 "
            "--prompt-style 8-shot --max-new-tokens 64",
        ),
    ],
)
def test_eval_preview_is_a_command_the_cli_parses(settings: dict[str, Any], expected: str) -> None:
    import shlex

    import typer.main
    from typer.core import TyperGroup

    from gsmreport.cli.app import app
    from gsmreport.tui.screens.evaluate import eval_command

    command = eval_command({"prompt_style": "zero-shot", "max_new_tokens": "256", **settings})
    assert command == expected
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    args = shlex.split(command)[2:]
    ctx = group.commands["eval"].make_context("eval", args)  # parses and type-checks, runs nothing
    assert ctx.params["n"] == int(settings["n"])


class TestValidation:
    @async_test
    async def test_a_bad_value_shows_its_error_and_disables_launch(self, project: Dirs) -> None:
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            launch = form.query_one("#train-launch", Button)
            assert not launch.disabled
            await type_into(pilot, form, "field-training-learning-rate", "abc")
            error = form.query_one("#field-training-learning-rate-error", Static)
            assert error.display
            assert "'training.learning_rate': Input should be a valid number" in str(error.content)
            assert launch.disabled
            await pilot.press("ctrl+l")  # refused: nothing starts
            assert isinstance(app.screen, TrainScreen)
            assert isinstance(app.jobs, JobManager) and app.jobs.jobs == []
            await type_into(pilot, form, "field-training-learning-rate", "0.02")
            assert not error.display and not launch.disabled

    @async_test
    async def test_missing_model_folder_and_taken_run_id(self, project: Dirs) -> None:
        (project.runs / "taken").mkdir(parents=True)
        (project.runs / "taken" / "run.yaml").write_text("id: taken\nkind: train\n")
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            await type_into(pilot, form, "field-model", "./nowhere")
            await type_into(pilot, form, "field-run-id", "taken")
            model_error = str(form.query_one("#field-model-error", Static).content)
            assert (
                model_error == "model path not found: ./nowhere (give a local folder or a Hub id)"
            )
            assert "already exists" in str(form.query_one("#field-run-id-error", Static).content)
            assert form.query_one("#train-launch", Button).disabled

    @async_test
    async def test_full_method_disables_the_lora_fields(self, project: Dirs) -> None:
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            assert not form.query_one("#field-lora-r", Input).disabled
            from textual.widgets import Select

            form.query_one("#field-method", Select).value = "full"
            await pilot.pause()
            assert form.query_one("#field-lora-r", Input).disabled
            assert "--set method=full" in str(form.query_one("#train-preview", Static).content)

    @async_test
    async def test_base_model_needs_an_existing_path(self, project: Dirs) -> None:
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(EvaluateScreen())  # no completed run: the base-model choice
            await pilot.pause()
            form = app.screen
            assert isinstance(form, EvaluateScreen)
            await type_into(pilot, form, "eval-model", "./missing-model")
            await type_into(pilot, form, "eval-n", "0")
            assert "model path not found" in str(
                form.query_one("#eval-model-error", Static).content
            )
            assert "greater than or equal to 1" in str(
                form.query_one("#eval-n-error", Static).content
            )
            assert form.query_one("#eval-launch", Button).disabled

    @async_test
    async def test_launch_failure_becomes_an_error_dialog(self, project: Dirs) -> None:
        (project.runs).mkdir(parents=True, exist_ok=True)
        app = make_app(project)
        async with app.run_test(size=SIZE) as pilot:
            form = await open_train_form(app, pilot)
            # The preset is broken after the form read it: the launch reads it again.
            Path("configs/demo/lora.yaml").write_text("model: [unclosed\n")
            await pilot.press("ctrl+l")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, ErrorDialog)
            assert "not valid YAML" in str(dialog.query_one("#error-message", Static).content)
            await pilot.press("escape")
            assert app.screen is form


class TestConfirmDialog:
    @async_test
    async def test_returns_the_chosen_key_or_none_on_escape(self, tmp_path: Path) -> None:
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        chosen: list[str | None] = []
        choices = [("leave", "Leave running"), ("stop", "Stop them"), ("cancel", "Cancel")]
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(ConfirmDialog("Quit?", "Jobs are running.", choices), chosen.append)
            await pilot.pause()
            await pilot.press("right", "enter")  # the second button
            app.push_screen(ConfirmDialog("Quit?", "Jobs are running.", choices), chosen.append)
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        assert chosen == ["stop", None]


class TestJobManager:
    def test_failure_before_the_child_starts_is_the_jobs_error(self, dirs: Dirs) -> None:
        manager = JobManager(dirs)
        ended: list[Job] = []
        manager.add_listener(ended.append)
        job = manager.start_evaluate(model="./no-such-model", n=2)
        assert job.wait(DEADLINE_S)
        assert job.status == "failed"
        assert (
            job.error == "model path not found: ./no-such-model (give a local folder or a Hub id)"
        )
        assert ended == [job] and manager.running() == []

    def test_detached_jobs_are_no_longer_running(self, dirs: Dirs) -> None:
        manager = JobManager(dirs)
        job = Job("train", "x")
        manager.jobs.append(job)
        assert manager.running() == [job]
        manager.detach_all()
        assert job.detached and job.status == "running" and manager.running() == []

    def test_lines_since_survives_trimming(self) -> None:
        job = Job("train", "x")
        for i in range(2500):
            job.add_line(f"line {i}")
        new, seen = job.lines_since(0)
        assert seen == 2500 and new[0] == "line 500" and len(job.lines) == 2000
        job.add_line("[gsmreport] step 4/9  loss 1.2")
        assert job.lines_since(seen) == (["[gsmreport] step 4/9  loss 1.2"], 2501)
        assert job.progress is not None and (job.progress.done, job.progress.total) == (4, 9)


class TestProgress:
    def test_steps_planned_then_done_and_the_eta(self) -> None:
        p = advance(None, "[gsmreport] training lora on 36 examples (4 held out), 10 steps", 0.0)
        assert p == Progress(done=0, total=10)
        assert advance(p, "loading weights", 1.0) is p
        p = advance(p, "[gsmreport] step 2/10  loss 2.1", 10.0)
        assert p is not None and eta_seconds(p, 10.0) is None  # one sighting: no pace yet
        p = advance(p, "[gsmreport] step 4/10  loss 1.9", 14.0)
        assert p is not None and eta_seconds(p, 14.0) == pytest.approx(12.0)  # 2 s a step
        assert p.fraction == pytest.approx(0.4)
        assert advance(None, "[gsmreport] eval batch 3/5", 0.0) == Progress(3, 5, 3, 0.0)

    def test_eta_wording(self) -> None:
        assert [fmt_eta(s) for s in (None, 9.4, 125, 7322)] == [
            "ETA —",
            "ETA 9 s",
            "ETA 2 min 05 s",
            "ETA 2 h 02 min",
        ]

    def test_curve_tail_reads_complete_lines_only(self, tmp_path: Path) -> None:
        path = tmp_path / "metrics.jsonl"
        tail = CurveTail(path)
        assert not tail.read()  # no file yet
        path.write_text(
            '{"step": 1, "logs": {"loss": 2.5}}\n{"step": 1, "logs": {"eval_loss": 2.7}}\n'
            '{"step": 2, "logs": {"loss": NaN}}\n{"step": 3, "logs": {"lo'
        )
        assert tail.read()
        assert tail.series == {"train loss": [(1.0, 2.5)], "eval loss": [(1.0, 2.7)]}
        with path.open("a") as fh:
            fh.write('ss": 1.5}}\n')
        assert tail.read() and tail.series["train loss"] == [(1.0, 2.5), (3.0, 1.5)]

    def test_log_tail_keeps_a_cut_line_until_it_is_complete(self, tmp_path: Path) -> None:
        path = tmp_path / "log"
        path.write_bytes(b"old\n")
        tail = LogTail(path, offset=4)
        with path.open("ab") as fh:
            fh.write(b"one\r\ntw")
        assert tail.read() == ["one"]
        with path.open("ab") as fh:
            fh.write(b"o\nthree")
        assert tail.read() == ["two"]
        assert tail.read(final=True) == ["three"]


@pytest.mark.parametrize("detached", [True, False])
def test_child_outlives_the_parent_that_started_it(tmp_path: Path, detached: bool) -> None:
    """What "leave it running" rests on: a detached child (the TUI's) writes its own log, so
    a parent that exits neither kills it nor cuts its output. A child not started detached
    (the CLI's) goes with its parent (PR_SET_PDEATHSIG): no training left unsupervised."""
    log, marker = tmp_path / "child.log", tmp_path / "done"
    child = textwrap.dedent(
        f"""
        import pathlib, time
        for i in range(8):
            print("tick", i, flush=True)
            time.sleep(0.2)
        pathlib.Path({str(marker)!r}).write_text("ok")
        """
    )
    parent = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from gsmreport.launch.process import run_job

        def quit_at_first_line(line):
            os._exit(0)  # the parent goes away at once, as a TUI that quits would

        run_job(
            [sys.executable, "-c", {child!r}],
            Path({str(log)!r}),
            on_line=quit_at_first_line,
            detached={detached!r},
        )
        """
    )
    subprocess.run([sys.executable, "-c", parent], check=True, timeout=60)
    assert not marker.exists()  # the parent really left before the child had finished
    if not detached:
        time.sleep(2.5)  # longer than the child would take to finish
        assert not marker.exists()
        assert len(log.read_text().splitlines()) < 8  # stopped part-way, not left to finish
        return
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.read_text() == "ok"
    assert log.read_text().splitlines() == [f"tick {i}" for i in range(8)]


def test_run_job_streams_lines_and_returns_the_exit_code(tmp_path: Path) -> None:
    lines: list[str] = []
    code = run_job(
        [sys.executable, "-c", "print('a'); print('b', end=''); raise SystemExit(3)"],
        tmp_path / "logs" / "x.log",
        on_line=lines.append,
    )
    assert (code, lines) == (3, ["a", "b"])
    assert (tmp_path / "logs" / "x.log").read_text() == "a\nb"


class TestSnapshots:
    def test_train_form(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Any
    ) -> None:
        """The form filled from a LoRA preset: every field, a valid form, the command line."""
        monkeypatch.chdir(tmp_path)  # relative paths keep tmp_path out of the picture
        Path("configs/demo").mkdir(parents=True)
        Path("configs/demo/lora.yaml").write_text(
            yaml.safe_dump(
                {
                    "model": ".demo/tiny-llama",
                    "method": "lora",
                    "data": {"path": ".demo/data", "max_samples": 400},
                    "lora": {"r": 32, "alpha": 64, "dropout": 0.0},
                    "training": {"epochs": 15, "learning_rate": 0.01, "batch_size": 16},
                }
            )
        )
        Path(".demo/tiny-llama").mkdir(parents=True)
        Path(".demo/data").mkdir()
        app = make_app(Dirs(runs=Path("runs"), reports=Path("reports")))

        async def open_form(pilot: Pilot[None]) -> None:
            app.push_screen(TrainScreen())
            await pilot.pause()
            await type_into(pilot, app.screen, "field-training-max-steps", "3")  # type: ignore[arg-type]

        assert snap_compare(app, terminal_size=SIZE, run_before=open_form)
