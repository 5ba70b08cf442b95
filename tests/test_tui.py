"""The Textual front end, driven through Textual's pilot on runs built locally in tmp_path."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Static

from gsmreport.analysis.summary import RunSummary
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.tui.app import GsmReportApp, make_app
from gsmreport.tui.cells import COLUMN_BY_KEY, fmt_em
from gsmreport.tui.screens.run_detail import RunScreen
from gsmreport.tui.screens.runs import RunsScreen
from tests.tui_support import async_test

SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _steady_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blinking cursors (the command palette's input) make screenshots depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)


def write_metrics(run_dir: Path, run_id: str, losses: list[float], accs: list[float]) -> None:
    rows = [("loss", v) for v in losses] + [("mean_token_accuracy", v) for v in accs]
    n = len(losses)
    pl.DataFrame(
        {
            "run_id": [run_id] * len(rows),
            "source": ["metrics_jsonl"] * len(rows),
            "step": [10 * (i % n + 1) for i in range(len(rows))],
            "epoch": [(i % n + 1) / n for i in range(len(rows))],
            "split": ["train"] * len(rows),
            "metric": [m for m, _ in rows],
            "value": [v for _, v in rows],
            "wall_time": [float(i % n) for i in range(len(rows))],
        },
        schema={
            "run_id": pl.String,
            "source": pl.String,
            "step": pl.Int64,
            "epoch": pl.Float64,
            "split": pl.String,
            "metric": pl.String,
            "value": pl.Float64,
            "wall_time": pl.Float64,
        },
    ).write_parquet(run_dir / "metrics.parquet")


def write_eval(run_dir: Path, eval_id: str, strict: int, flexible: int, n: int) -> None:
    folder = run_dir / "evals" / eval_id
    folder.mkdir(parents=True)
    counts = {
        "strict-match": {"correct": strict, "n": n},
        "flexible-extract": {"correct": flexible, "n": n},
    }
    (folder / "results.json").write_text(json.dumps({"counts": counts}), encoding="utf-8")


def build_runs(root: Path) -> Path:
    """Three runs: a finished LoRA run with an evaluation, a full fine-tune, a failed one."""
    store = RunStore(root)
    lora = store.create(
        RunRecord(
            id="tiny-lora",
            kind="train",
            status="completed",
            model="tiny-llama",
            method="lora",
            data="gsm8k-synthetic",
            created_at="2025-01-02T10:00:00+00:00",
            started_at="2025-01-02T10:00:05+00:00",
            finished_at="2025-01-02T10:03:35+00:00",
            config={"learning_rate": 0.0002, "epochs": 2, "lora": {"r": 8}},
        )
    )
    write_metrics(lora, "tiny-lora", [2.0, 1.5, 1.2], [0.40, 0.50, 0.55])
    write_eval(lora, "e1", strict=3, flexible=5, n=20)
    full = store.create(
        RunRecord(
            id="tiny-full",
            kind="train",
            status="completed",
            model="tiny-llama",
            method="full",
            data="gsm8k-synthetic",
            created_at="2025-01-01T09:00:00+00:00",
        )
    )
    write_metrics(full, "tiny-full", [2.5, 2.0], [0.30, 0.35])
    store.create(
        RunRecord(
            id="broken",
            kind="train",
            status="failed",
            model="tiny-llama",
            method="lora",
            created_at="2024-12-31T08:00:00+00:00",
            error="CUDA out of memory",
        )
    )
    return root


@pytest.fixture
def runs_dirs(tmp_path: Path) -> Dirs:
    """Three runs under tmp_path/runs (see `build_runs`); reports/ starts empty."""
    return Dirs(runs=build_runs(tmp_path / "runs"), reports=tmp_path / "reports")


def row_ids(app: GsmReportApp) -> list[str]:
    """Run ids in the order the rows are shown (sorting moves rows without re-adding them)."""
    table = app.screen.query_one(DataTable)
    return [str(row.key.value) for row in table.ordered_rows]


def plain(app: GsmReportApp, selector: str) -> str:
    """The text a Static shows, whatever Rich renderable it holds."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


class TestRunsScreen:
    @async_test
    async def test_lists_every_run_newest_first(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            table = app.screen.query_one(DataTable)
            assert str(table.get_cell("tiny-lora", "em")) == "15.0 % [5.2, 36.0]"
            assert str(table.get_cell("tiny-lora", "final_loss")) == "1.200"
            drop = COLUMN_BY_KEY["loss_drop"]  # narrower than the terminal: not on screen
            assert drop.text(app.screen.summaries["tiny-full"]) == "20.0 %"
            assert str(table.get_cell("broken", "em")) == "—"

    @async_test
    async def test_empty_folder_tells_the_user_what_to_run(self, tmp_path: Path) -> None:
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.screen.query_one("#runs-empty").display
            assert not app.screen.query_one(DataTable).display
            text = plain(app, "#runs-empty")
            assert "gsmreport demo" in text and "gsmreport train CONFIG" in text

    @async_test
    async def test_refresh_picks_up_a_new_run_and_keeps_the_cursor(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down")  # cursor on tiny-full
            RunStore(runs_dirs.runs).create(
                RunRecord(
                    id="newest", kind="eval", status="running", created_at="2025-02-01T00:00:00"
                )
            )
            await pilot.press("g")
            assert row_ids(app) == ["newest", "tiny-lora", "tiny-full", "broken"]
            assert isinstance(app.screen, RunsScreen)
            assert app.screen.selected_run_id() == "tiny-full"

    @async_test
    async def test_r_opens_the_report_screen_for_the_selected_or_marked_runs(
        self, runs_dirs: Dirs
    ) -> None:
        from gsmreport.tui.screens.report import ReportScreen

        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")  # nothing marked: the selected run
            assert isinstance(app.screen, ReportScreen)
            assert app.screen.run_ids == ["tiny-lora"]
            await pilot.press("escape")
            await pilot.press("space", "space", "r")  # marks tiny-lora and tiny-full
            assert isinstance(app.screen, ReportScreen)
            assert app.screen.run_ids == ["tiny-lora", "tiny-full"]

    @async_test
    async def test_q_quits(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running


class TestRunScreen:
    @async_test
    async def test_enter_opens_the_selected_run_and_escape_returns(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen)
            assert app.screen.run_id == "tiny-lora"
            assert "Run tiny-lora" in plain(app, "#run-title")
            assert "3 min 30 s" in plain(app, "#run-overview")
            assert "15.0 % [5.2, 36.0]  (n = 20)" in plain(app, "#run-headline")
            evals = plain(app, "#run-evals")
            assert "3/20 (15.0 %)" in evals and "5/20 (25.0 %)" in evals
            assert "learning_rate: 0.0002" in plain(app, "#run-config")
            assert "No report yet" in plain(app, "#run-report")
            await pilot.press("escape")
            assert isinstance(app.screen, RunsScreen)

    @async_test
    async def test_second_row_and_backspace(self, runs_dirs: Dirs) -> None:
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("down", "down", "enter")  # the failed run
            assert isinstance(app.screen, RunScreen)
            assert "CUDA out of memory" in plain(app, "#run-overview")
            assert "No evaluations yet" in plain(app, "#run-evals")
            await pilot.press("backspace")
            assert isinstance(app.screen, RunsScreen)

    @async_test
    async def test_malformed_results_json_still_opens(self, runs_dirs: Dirs) -> None:
        bad = runs_dirs.runs / "tiny-full" / "evals" / "e1"
        bad.mkdir(parents=True)
        (bad / "results.json").write_text('{"counts": {"strict-match": {}}}', encoding="utf-8")
        app = make_app(runs_dirs)
        async with app.run_test(size=SIZE) as pilot:
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]
            await pilot.press("down", "enter")
            assert isinstance(app.screen, RunScreen)
            await app.workers.wait_for_complete()
            await pilot.pause()
            # The folder is an evaluation with nothing scored: listed, every score "—".
            evals = plain(app, "#run-evals")
            assert "e1" in evals and "%" not in evals


class TestFormatting:
    def test_em_with_wilson_interval(self) -> None:
        summary = RunSummary(
            id="x",
            kind="eval",
            status="completed",
            model=None,
            method=None,
            data=None,
            created_at="2025-01-01T00:00:00",
            em=0.12,
            em_low=0.05617,
            em_high=0.23805,
        )
        assert fmt_em(summary) == "12.0 % [5.6, 23.8]"

    def test_first_paint_imports_no_ml_or_report_stack(self) -> None:
        code = (
            "import sys, gsmreport.tui.app; "
            "print(sorted(m for m in ('torch', 'transformers', 'weasyprint', 'altair') "
            "if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"


def test_short_model_keeps_hub_ids_and_shortens_paths() -> None:
    from gsmreport.tui.cells import short_model

    assert short_model("google/gemma-2-2b-it") == "google/gemma-2-2b-it"
    assert short_model("/tmp/x/.demo/tiny-llama/") == "tiny-llama"
    assert short_model(None) == "—"
