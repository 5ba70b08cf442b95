"""The run view's metrics grid and its live updates, through Textual's pilot on real runs.

Real third-party logs (a W&B run, lm-eval output) are imported into tmp_path by the same
importer the CLI uses; the live test grows a run's metrics.jsonl while the view is open.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.worker import WorkerFailed

from gsmreport import pipeline
from gsmreport.core.settings import Dirs
from gsmreport.tui.app import GsmReportApp, make_app
from gsmreport.tui.loading import load_detail
from gsmreport.tui.screens.run_detail import RunScreen
from gsmreport.tui.widgets.curve import CurveChart
from gsmreport.tui.widgets.metric_grid import PAGE_SIZE, MetricGrid
from tests.conftest import shared_data
from tests.report_samples import write_gsm_eval
from tests.run_fixtures import jsonl_line, logs, write_record
from tests.tui_support import async_test

SIZE = (120, 40)
RAJA = ("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project")
TSEBAKA = ("real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment")
LM_EVAL = "real-logs/lm-eval"


def plain(app: GsmReportApp, selector: str) -> str:
    console = Console(width=300, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


async def settle(app: GsmReportApp, pilot: Pilot[None]) -> None:
    with contextlib.suppress(WorkerFailed):
        await app.workers.wait_for_complete()
    await pilot.pause()


async def open_run(app: GsmReportApp, pilot: Pilot[None], run_id: str) -> RunScreen:
    await app.push_screen(RunScreen(load_detail(app.dirs, run_id)))
    await settle(app, pilot)
    assert isinstance(app.screen, RunScreen)
    return app.screen


def import_one(dirs: Dirs, source: Path) -> str:
    outcomes = pipeline.import_logs(dirs, [source])
    assert len(outcomes) == 1 and outcomes[0].run_id, outcomes
    return outcomes[0].run_id


def drawn(chart: CurveChart) -> str:
    return str(chart.render())


def on_screen(grid: MetricGrid) -> dict[str, CurveChart]:
    return {str(chart.border_title): chart for chart in grid.query(CurveChart) if chart.display}


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    return Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")


@pytest.fixture(scope="module")
def raja(tmp_path_factory: pytest.TempPathFactory) -> tuple[Dirs, str]:
    """The W&B run imported once for the tests that only look at it."""
    root = tmp_path_factory.mktemp("raja")
    dirs = Dirs(runs=root / "runs", reports=root / "reports")
    return dirs, import_one(dirs, shared_data(*RAJA))


class TestWandbRun:
    @async_test
    async def test_every_series_paged_grad_norm_and_eval_test_accuracy(
        self, raja: tuple[Dirs, str]
    ) -> None:
        dirs, run_id = raja
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_id)
            grid = screen.query_one(MetricGrid)
            charts = on_screen(grid)
            assert list(charts)[:4] == ["loss", "accuracy", "grad_norm", "learning_rate"]
            assert len(charts) == PAGE_SIZE
            accuracy = charts["accuracy"].series
            assert accuracy["eval"][-1][0] == 498.0
            assert accuracy["eval"][-1][1] == pytest.approx(0.92868, abs=1e-5)
            assert len(accuracy["test"]) == 1 and accuracy["test"][0][0] == 498.0
            assert accuracy["test"][0][1] == pytest.approx(0.35129, abs=1e-5)
            assert len(charts["grad_norm"].series["train"]) == 9
            # The legend carries each series' last value, the numbers W&B's summary shows.
            assert "0.9287" in drawn(charts["accuracy"])
            assert "0.3513" in drawn(charts["accuracy"])
            # Every series of the run is reachable: system panels on the later pages.
            assert grid.pages == -(-len(grid.panels) // PAGE_SIZE) and grid.pages > 2
            await pilot.press("right_square_bracket")
            assert grid.page == 1
            second = list(on_screen(grid))
            assert second and not set(second) & set(charts)
            await pilot.press("left_square_bracket")
            assert list(on_screen(grid)) == list(charts)
            # The run's console (W&B output.log) and its closing values are on the screen too.
            assert "output.log" not in plain(app, "#run-console")  # kept as logs/console.log
            assert "console.log" in plain(app, "#run-console")
            assert "train/total_flos" in plain(app, "#run-finals")
            # The run's own start and end (W&B's start record + its runtime), not the import's.
            overview = plain(app, "#run-overview")
            assert "2024-11-26" in overview
            # A classifier: its kind with the evidence, and its own task metrics on the cards
            # where token accuracy and exact match would both read "—".
            assert "detected: sequence classification" in overview
            cards = plain(app, "#run-headline")
            assert "eval/accuracy, final" in cards and "0.9287 (best 0.9302 @ 400)" in cards
            assert "exact match" not in cards

    @async_test
    async def test_regex_filter_and_escape(self, raja: tuple[Dirs, str]) -> None:
        dirs, run_id = raja
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_id)
            grid = screen.query_one(MetricGrid)
            await pilot.press("slash")
            assert screen.query_one("#run-filter", Input).has_focus
            for key in "gpu.*(gpu|temp)$":
                await pilot.press(key)
            await pilot.press("enter")
            assert list(on_screen(grid)) == ["system/gpu.gpu", "system/gpu.temp"]
            assert set(on_screen(grid)["system/gpu.gpu"].series) == {"gpu.0", "gpu.1"}
            assert "filter /gpu.*(gpu|temp)$/" in grid.status().plain
            await pilot.press("l")  # keys reach the screen again after enter
            assert grid.log_y
            await pilot.press("escape")  # clears the filter, stays on the run
            assert isinstance(app.screen, RunScreen) and grid.pattern == ""
            assert len(on_screen(grid)) == PAGE_SIZE
            await pilot.press("escape")
            assert not isinstance(app.screen, RunScreen)

    @async_test
    async def test_log_y_and_zoom(self, raja: tuple[Dirs, str]) -> None:
        dirs, run_id = raja
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_id)
            grid = screen.query_one(MetricGrid)
            loss = on_screen(grid)["loss"]
            before = drawn(loss)
            await pilot.press("l")
            assert loss.log_y
            after = drawn(loss)
            assert after != before
            assert "┤" in after and "1┤" in after  # a power of ten on the log axis
            await pilot.press("l", "plus", "plus")
            assert not loss.log_y and loss.skip == 0.25
            zoomed = drawn(loss)
            assert "100" not in zoomed.splitlines()[-1]  # step 100 is left out of the x axis
            await pilot.press("0")
            assert loss.skip == 0.0


class TestOtherRuns:
    @async_test
    async def test_lm_eval_run_opens_on_its_evaluation(self, dirs: Dirs) -> None:
        folder = shared_data(LM_EVAL)
        source = next(p for p in sorted(folder.iterdir()) if p.name.endswith(".jsonl"))
        run_id = import_one(dirs, source)
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_id)
            await pilot.pause()
            assert not screen.query_one(MetricGrid).display  # no empty "no data" panels
            assert "evaluations only" in plain(app, "#run-curves-note")
            evals = screen.query_one("#run-evals", Static)
            assert "strict-match" in plain(app, "#run-evals")
            scroll = screen.query_one(VerticalScroll)
            assert scroll.scroll_y > 0  # scrolled to the evaluations
            assert 0 <= evals.region.y < SIZE[1]  # on screen

    @async_test
    async def test_killed_run_says_why(self, dirs: Dirs) -> None:
        run_id = import_one(dirs, shared_data(*TSEBAKA))
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot, run_id)
            overview = " ".join(plain(app, "#run-overview").split())
            assert "interrupted:" in overview and "log ends mid-record" in overview
            assert "source wandb:" in overview


def write_lines(run_dir: Path, entries: list[tuple[int, dict[str, object]]]) -> None:
    with (run_dir / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        for step, log in entries:
            fh.write(jsonl_line(step, log) + "\n")


class TestLive:
    @async_test
    async def test_growing_run_updates_cards_and_curve(
        self, dirs: Dirs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(RunScreen, "POLL_S", 0.05)
        run_dir = dirs.runs / "live"
        run_dir.mkdir(parents=True)
        entries = [(s, log) for s, log in logs() if "loss" in log]  # the six train steps
        write_lines(run_dir, entries[:2])
        write_record(
            run_dir,
            status="running",
            runtime_s=None,
            started_at="2025-01-02T10:00:05+00:00",
        )
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, "live")
            loss = on_screen(screen.query_one(MetricGrid))["loss"]
            assert [x for x, _ in loss.series["train"]] == [10.0, 20.0]
            assert "1.900" in plain(app, "#run-headline")
            write_lines(run_dir, entries[2:])
            for _ in range(100):  # the poll notices the new mtime, a worker reads the run
                await pilot.pause(0.05)
                if len(loss.series["train"]) == 6:
                    break
            await settle(app, pilot)
            assert [x for x, _ in loss.series["train"]][-1] == 60.0
            assert "1.090" in plain(app, "#run-headline")  # the final train loss card
            # A new evaluation while the view is open: read (its samples too) and shown.
            assert "No evaluations yet" in plain(app, "#run-evals")
            write_gsm_eval(run_dir, "gsm")
            for _ in range(100):
                await pilot.pause(0.05)
                if "gsm" in plain(app, "#run-evals"):
                    break
            await settle(app, pilot)
            assert "gsm (latest)" in plain(app, "#run-evals")
            assert "gsm: 8 wrong of 12" in plain(app, "#run-failures")

    @async_test
    async def test_coming_back_reads_the_run_again(self, dirs: Dirs) -> None:
        run_dir = dirs.runs / "back"
        run_dir.mkdir(parents=True)
        entries = [(s, log) for s, log in logs() if "loss" in log]
        write_lines(run_dir, entries[:3])
        write_record(run_dir, status="running", runtime_s=None)
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, "back")
            assert screen._poll is not None
            screen._poll.pause()  # only the return to the screen may refresh it here
            write_lines(run_dir, entries[3:])
            write_record(run_dir, status="completed", runtime_s=42.0)
            app.action_help()
            await pilot.pause()
            app.pop_screen()
            await settle(app, pilot)
            assert "1.090" in plain(app, "#run-headline")
            assert "42 s" in plain(app, "#run-headline")
            assert "completed" in plain(app, "#run-overview")

    @async_test
    async def test_a_run_deleted_while_open_says_so_once(
        self, dirs: Dirs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from gsmreport.tui.screens.error import ErrorDialog

        monkeypatch.setattr(RunScreen, "POLL_S", 0.05)
        run_dir = dirs.runs / "gone"
        run_dir.mkdir(parents=True)
        write_lines(run_dir, [(s, log) for s, log in logs() if "loss" in log])
        write_record(run_dir, status="running", runtime_s=None)
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot, "gone")
            shutil.rmtree(run_dir)
            for _ in range(20):  # many poll intervals
                await pilot.pause(0.05)
            await settle(app, pilot)
            dialogs = [s for s in app.screen_stack if isinstance(s, ErrorDialog)]
            assert len(dialogs) == 1
