"""The runs table (sort, filter, mark, live refresh, lazy first paint), compare, help, palette
and the quit flow, driven through Textual's pilot on runs built in tmp_path."""

from __future__ import annotations

import asyncio
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from gsmreport.analysis.summary import RunSummary
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.tui.app import GsmReportApp, make_app
from gsmreport.tui.cells import (
    COLUMNS,
    LOADING,
    matches,
    sort_rows,
    visible_columns,
)
from gsmreport.tui.commands import entries
from gsmreport.tui.loading import RunWatcher, first_rows, load_summary
from gsmreport.tui.messages import OpenCompare
from gsmreport.tui.screens import runs as runs_module
from gsmreport.tui.screens.compare import CompareScreen
from gsmreport.tui.screens.error import ErrorDialog
from gsmreport.tui.screens.help import HelpScreen
from gsmreport.tui.screens.runs import RunsScreen
from tests.test_tui import build_runs, row_ids
from tests.tui_support import async_test

SIZE = (120, 36)
SMALL = (80, 24)


@pytest.fixture
def runs_dirs(tmp_path: Path) -> Dirs:
    """tiny-lora (EM 15 %), tiny-full, broken (failed, no metrics): see test_tui.build_runs."""
    return Dirs(runs=build_runs(tmp_path / "runs"), reports=tmp_path / "reports")


def runs_screen(app: GsmReportApp) -> RunsScreen:
    assert isinstance(app.screen, RunsScreen)
    return app.screen


def text_of(app: GsmReportApp, selector: str) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def screen_text(app: GsmReportApp) -> str:
    """Every Static on the current screen as plain text (tables included)."""
    console = Console(width=200, file=io.StringIO(), record=True)
    for widget in app.screen.query(Static):
        console.print(widget.content)
    return console.export_text()


async def until(pilot: Pilot[Any], check: Any, what: str, seconds: float = 20.0) -> None:
    """Let the app run until `check()` holds: a deadline for a hung test, not a timing claim."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await pilot.pause(0.05)


def summary(run_id: str, created: str, loss: float | None) -> RunSummary:
    return RunSummary(run_id, "train", "completed", None, None, None, created, final_loss=loss)


# --- pure parts ---------------------------------------------------------------------------------


class TestCells:
    def test_numbers_sort_numerically_and_missing_values_go_last_both_ways(self) -> None:
        rows = [summary("a", "1", 9.0), summary("b", "2", None), summary("c", "3", 10.5)]
        assert [s.id for s in sort_rows(rows, "final_loss", reverse=False)] == ["a", "c", "b"]
        assert [s.id for s in sort_rows(rows, "final_loss", reverse=True)] == ["c", "a", "b"]

    def test_default_order_is_newest_first(self) -> None:
        rows = [summary("a", "2025-01-01", 1.0), summary("b", "2025-02-01", 1.0)]
        assert [s.id for s in sort_rows(rows, None, reverse=False)] == ["b", "a"]

    def test_filter_needs_every_word_anywhere(self) -> None:
        s = RunSummary("tiny-lora", "train", "failed", "org/m", "lora", "gsm8k (main)", "")
        assert matches(s, "") and matches(s, "LORA failed") and matches(s, "gsm8k m")
        assert not matches(s, "full")

    def test_em_status_and_start_survive_80_columns(self) -> None:
        keys = [c.key for c in visible_columns(80)]
        assert {"id", "status", "em", "started"} <= set(keys)
        assert "final_loss" in [c.key for c in visible_columns(100)]
        room = 80 - 2 - 3  # scrollbar, mark column
        assert sum(c.width + 2 for c in visible_columns(80)) <= room
        assert [c.key for c in visible_columns(400)] == [c.key for c in COLUMNS]


class TestWatcher:
    def test_poll_names_new_changed_and_removed_runs(self, runs_dirs: Dirs) -> None:
        watcher = RunWatcher(runs_dirs.runs)
        assert sorted(watcher.poll().changed) == ["broken", "tiny-full", "tiny-lora"]
        assert not watcher.poll()
        store = RunStore(runs_dirs.runs)
        store.set_status("broken", "running")
        (runs_dirs.runs / "tiny-full" / "run.yaml").unlink()
        changes = watcher.poll()
        assert changes.changed == ("broken",) and changes.removed == ("tiny-full",)

    def test_first_paint_reads_caches_and_leaves_the_rest_for_later(self, runs_dirs: Dirs) -> None:
        assert load_summary(runs_dirs.runs, "tiny-lora") is not None  # writes its cache
        ready, pending = first_rows(RunWatcher(runs_dirs.runs))
        assert [s.id for s in ready] == ["tiny-lora"] and ready[0].final_loss == 1.2
        assert sorted(pending) == ["broken", "tiny-full"]

    def test_a_running_run_shows_the_loss_of_its_live_log(self, runs_dirs: Dirs) -> None:
        store = RunStore(runs_dirs.runs)
        store.create(RunRecord(id="live", kind="train", status="running"))
        lines = [{"step": s, "logs": {"loss": 3.0 - s / 10}} for s in (1, 2, 3)]
        log = runs_dirs.runs / "live" / "metrics.jsonl"
        log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        live = load_summary(runs_dirs.runs, "live")
        assert live is not None and live.final_loss == pytest.approx(2.7)
        assert not (runs_dirs.runs / "live" / "metrics.parquet").exists()  # nothing written


# --- the runs table -----------------------------------------------------------------------------


class TestSort:
    @async_test
    async def test_s_walks_the_columns_and_shift_s_reverses(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("s")  # first column: id, A→Z
            assert row_ids(app) == ["broken", "tiny-full", "tiny-lora"]
            await pilot.press("S")  # reversed
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            await pilot.press("s")  # next column: started, oldest first
            assert runs_screen(app).sort_key == "started"
            assert "sorted by started ▲" in text_of(app, "#runs-info")
            assert row_ids(app) == ["broken", "tiny-full", "tiny-lora"]
            await pilot.press("d")  # back to the default: newest first
            assert runs_screen(app).sort_key is None
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            assert "newest first" in text_of(app, "#runs-info")

    @async_test
    async def test_loss_sorts_numerically_with_missing_last(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await runs_screen(app).run_action("sort_by_column('final_loss')")
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]  # 1.2, 2.0, —
            await pilot.press("S")
            assert row_ids(app) == ["tiny-full", "tiny-lora", "broken"]  # missing stays last

    @async_test
    async def test_clicking_a_header_sorts_and_clicking_again_reverses(
        self, runs_dirs: Dirs
    ) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            x = 3  # the mark column, with its padding
            for column in runs_screen(app).table.shown_columns:
                if column.key == "final_loss":
                    break
                x += column.width + 2
            await pilot.click("#runs-table", offset=(x + 1, 0))
            assert runs_screen(app).sort_key == "final_loss"
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            await pilot.click("#runs-table", offset=(x + 1, 0))
            assert row_ids(app) == ["tiny-full", "tiny-lora", "broken"]

    @async_test
    async def test_sort_keeps_the_cursor_on_the_same_run(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down")  # tiny-full
            await pilot.press("s", "S")
            assert runs_screen(app).selected_run_id() == "tiny-full"


class TestFilter:
    @async_test
    async def test_typing_filters_and_escape_clears(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("slash")
            assert isinstance(app.focused, Input)
            await pilot.press(*"full")
            assert row_ids(app) == ["tiny-full"]
            assert "1 shown" in text_of(app, "#runs-info")
            await pilot.press("enter")  # back to the rows, filter kept
            assert isinstance(app.focused, DataTable) and row_ids(app) == ["tiny-full"]
            await pilot.press("escape")
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            assert not app.screen.query_one("#runs-filter").display

    @async_test
    async def test_letters_typed_in_the_filter_are_text_not_keys(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("slash", *"failed q")  # q would quit, s would sort
            assert app.is_running and row_ids(app) == []
            await pilot.press("backspace", "backspace")
            assert row_ids(app) == ["broken"]


class TestMark:
    @async_test
    async def test_space_marks_moves_down_and_unmarks(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("space", "space")
            screen = runs_screen(app)
            assert screen.marked == ["tiny-lora", "tiny-full"]
            table = screen.query_one(DataTable)
            assert str(table.get_cell("tiny-lora", "mark")) == "●"
            assert "2 marked" in text_of(app, "#runs-info")
            await pilot.press("up", "space")
            assert screen.marked == ["tiny-lora"]
            assert str(table.get_cell("tiny-full", "mark")) == ""

    @async_test
    async def test_marks_survive_filter_and_sort(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("space", "slash", *"broken", "escape", "s")
            screen = runs_screen(app)
            assert screen.marked == ["tiny-lora"]
            assert str(screen.query_one(DataTable).get_cell("tiny-lora", "mark")) == "●"


class TestLiveRefresh:
    @async_test
    async def test_a_run_written_after_start_appears_and_updates(
        self, runs_dirs: Dirs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(RunsScreen, "poll_seconds", 0.1)
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            store = RunStore(runs_dirs.runs)
            store.create(
                RunRecord(id="other-terminal", kind="train", created_at="2025-03-01T00:00:00")
            )
            store.set_status("other-terminal", "running")
            await until(pilot, lambda: "other-terminal" in row_ids(app), "the new run")
            table = runs_screen(app).query_one(DataTable)
            assert str(table.get_cell("other-terminal", "status")) == "running"
            log = runs_dirs.runs / "other-terminal" / "metrics.jsonl"
            log.write_text(json.dumps({"step": 1, "logs": {"loss": 2.5}}) + "\n", encoding="utf-8")
            await until(
                pilot,
                lambda: str(table.get_cell("other-terminal", "final_loss")) == "2.500",
                "the live loss",
            )
            store.set_status("other-terminal", "completed")
            await until(
                pilot,
                lambda: str(table.get_cell("other-terminal", "status")) == "completed",
                "the final status",
            )

    @async_test
    async def test_many_uncached_runs_paint_at_once_and_fill_in(
        self, runs_dirs: Dirs, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(runs_module, "SYNC_READS", 0)  # every run read in the background
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            assert sorted(row_ids(app)) == ["broken", "tiny-full", "tiny-lora"]
            screen = runs_screen(app)
            await until(
                pilot, lambda: LOADING not in {s.status for s in screen.summaries.values()}, "rows"
            )
            await pilot.pause()
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            cell = runs_screen(app).query_one(DataTable).get_cell("tiny-lora", "em")
            assert str(cell) == "15.0 % [5.2, 36.0]"


# --- other screens ------------------------------------------------------------------------------


class TestCompare:
    @async_test
    async def test_c_compares_the_marked_runs(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("space", "space", "c")
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            assert screen.run_ids == ["tiny-lora", "tiny-full"]
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert screen.comparison is not None
            chart = screen.comparison.curves
            assert set(chart) == {"tiny-lora", "tiny-full"}
            assert chart["tiny-lora"][0] == (10.0, 2.0)  # the curve starts at the first value
            results = text_of(app, "#compare-results")
            assert "final train loss" in results and "1.2000 (step 30)" in results
            assert "3 / 20" in results  # tiny-lora's strict-match count
            assert "learning rate" in text_of(app, "#compare-config")
            await pilot.press("escape")
            assert isinstance(app.screen, RunsScreen)

    @async_test
    async def test_fewer_than_two_marked_runs_says_so(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("space", "c")
            assert isinstance(app.screen, RunsScreen)
            assert any("Mark at least two" in n.message for n in app._notifications)

    @async_test
    async def test_a_missing_run_becomes_an_error_dialog(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            app.post_message(OpenCompare(("tiny-lora", "ghost")))  # as the runs screen asks
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, ErrorDialog)
            assert "run 'ghost' not found" in text_of(app, "#error-message")
            await pilot.press("escape")
            assert isinstance(app.screen, CompareScreen) and app.is_running

    @async_test
    async def test_r_renders_the_comparison_report(self, runs_dirs: Dirs) -> None:
        from gsmreport.tui.screens.report import ReportScreen

        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("space", "space", "c")
            await app.workers.wait_for_complete()
            await pilot.press("r")  # opens the report screen, already rendering
            assert isinstance(app.screen, ReportScreen)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, ReportScreen), "render failed: see the error dialog"
            folder = runs_dirs.reports / "compare-tiny-lora-tiny-full"
            assert (folder / "compare.md").is_file()


class TestHelp:
    @async_test
    async def test_question_mark_lists_every_binding(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shown = screen_text(app)
            for binding in RunsScreen.BINDINGS + CompareScreen.BINDINGS:
                assert not isinstance(binding, tuple)
                if binding.description:
                    assert (binding.tooltip or binding.description) in shown
            assert "Command palette" in shown
            await pilot.press("escape")
            assert isinstance(app.screen, RunsScreen)


class TestPalette:
    def test_every_runs_binding_and_app_binding_has_an_entry(self, runs_dirs: Dirs) -> None:
        @async_test
        async def check() -> None:
            app = make_app(runs_dirs)
            async with app.run_test(size=SIZE):
                titles = {e.title for e in entries(app.screen)}
                for binding in RunsScreen.BINDINGS + GsmReportApp.BINDINGS:
                    assert not isinstance(binding, tuple)
                    if binding.action != "clear_filter" and binding.tooltip:
                        assert binding.tooltip in titles, binding.action
                assert "Sort by EM ± 95% CI" in titles

        check()

    @async_test
    async def test_a_palette_entry_runs_its_action(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+p")
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"sort by loss")
            hits = app.screen.query_one(CommandList)
            await until(
                pilot,
                lambda: (
                    hits.option_count and "Sort by loss" in str(hits.get_option_at_index(0).prompt)
                ),
                "the hit",
            )
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the palette to close")
            await pilot.pause()
            assert runs_screen(app).sort_key == "final_loss"


class TestKeysOpenScreens:
    @async_test
    async def test_t_e_i_open_train_evaluate_import(self, runs_dirs: Dirs) -> None:
        from gsmreport.tui.screens.evaluate import EvaluateScreen
        from gsmreport.tui.screens.import_ import ImportScreen
        from gsmreport.tui.screens.train import TrainScreen

        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("t")
            assert isinstance(app.screen, TrainScreen)
            await pilot.press("escape", "e")  # tiny-lora: a finished training run
            assert isinstance(app.screen, EvaluateScreen) and app.screen.run_id == "tiny-lora"
            await pilot.press("escape", "down", "down", "e")  # broken (failed): a base model
            assert isinstance(app.screen, EvaluateScreen) and app.screen.run_id is None
            await pilot.press("escape", "i")
            assert isinstance(app.screen, ImportScreen)

    @async_test
    async def test_j_without_a_running_job_says_so(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("j")
            assert isinstance(app.screen, RunsScreen)
            assert any("No job is running" in n.message for n in app._notifications)


# --- quitting with jobs -------------------------------------------------------------------------


@dataclass
class FakeJob:
    """Stands in for a real training job: only its kind and run id are read by the quit flow."""

    kind: str = "train"
    run_id: str = "tiny-run"


@dataclass
class FakeJobs:
    jobs: list[FakeJob] = field(default_factory=lambda: [FakeJob()])
    calls: list[str] = field(default_factory=list)

    def running(self) -> list[Any]:
        return list(self.jobs)

    def cancel_all(self) -> None:
        time.sleep(0.5)  # a job takes a moment to record `interrupted`
        self.calls.append("cancel_all")

    def detach_all(self) -> None:
        self.calls.append("detach_all")


class TestQuit:
    @pytest.mark.parametrize(("choice", "call"), [("leave", "detach_all"), ("stop", "cancel_all")])
    def test_quit_with_a_running_job_asks_first(
        self, runs_dirs: Dirs, choice: str, call: str
    ) -> None:
        from gsmreport.tui.screens.confirm import ConfirmDialog

        @async_test
        async def check() -> None:
            jobs = FakeJobs()
            app = make_app(runs_dirs, jobs=jobs)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("q")
                assert isinstance(app.screen, ConfirmDialog)
                assert "train tiny-run" in text_of(app, "#confirm-message")
                await pilot.click(f"#choice-{choice}")
                await pilot.pause()
                if choice == "stop":  # the UI stays live while the jobs stop, and says so
                    assert app.is_running and jobs.calls == []
                    assert any("Stopping" in n.message for n in app._notifications)
                    for _ in range(100):
                        if not app.is_running:
                            break
                        await asyncio.sleep(0.05)
                assert jobs.calls == [call]
                assert not app.is_running

        check()

    @async_test
    async def test_cancel_keeps_the_app_and_the_jobs(self, runs_dirs: Dirs) -> None:
        jobs = FakeJobs()
        app = make_app(runs_dirs, jobs=jobs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("q")
            await pilot.press("escape")  # the dialog's cautious answer
            assert isinstance(app.screen, RunsScreen) and app.is_running
            assert jobs.calls == []


# --- snapshots ----------------------------------------------------------------------------------


@pytest.fixture
def relative_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    """The three runs under ./runs, so no tmp path shows in the pictures."""
    monkeypatch.chdir(tmp_path)
    build_runs(Path("runs"))
    return Dirs(runs=Path("runs"), reports=Path("reports"))


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


class TestSnapshots:
    def test_runs_at_80x24(self, relative_runs: Dirs, snap_compare: Any) -> None:
        """id, status, loss, token accuracy and EM with its interval fit; the footer fits."""
        assert snap_compare(make_app(relative_runs), terminal_size=SMALL)

    def test_runs_at_120x36_sorted_and_marked(self, relative_runs: Dirs, snap_compare: Any) -> None:
        """More columns; tiny-lora marked; sorted by loss (header underlined, info line says so)."""

        async def mark_and_sort(pilot: Pilot[Any]) -> None:
            await pilot.press("space")  # mark tiny-lora
            await pilot.app.screen.run_action("sort_by_column('final_loss')")

        assert snap_compare(make_app(relative_runs), terminal_size=SIZE, run_before=mark_and_sort)

    def test_compare(self, relative_runs: Dirs, snap_compare: Any) -> None:
        """Two runs: overlaid smoothed loss curves with a legend, then the results table."""

        async def compare(pilot: Pilot[Any]) -> None:
            await pilot.press("space", "space", "c")  # mark two runs, compare them
            await settle(pilot)

        assert snap_compare(make_app(relative_runs), terminal_size=SIZE, run_before=compare)

    def test_help(self, relative_runs: Dirs, snap_compare: Any) -> None:
        """The keys of the app and of the runs screen, at 80×24."""
        assert snap_compare(make_app(relative_runs), terminal_size=SMALL, press=["question_mark"])
