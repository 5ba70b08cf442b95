"""The run, sample, report and import screens, driven through Textual's pilot on real runs.

Every run is built in tmp_path with the shared fixture writers and ingested by the real
pipeline; reports are rendered and logs imported by the same functions the CLI calls.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Markdown, Static
from textual.worker import WorkerFailed

from gsmreport import pipeline
from gsmreport.core.runs import RunRecord, RunStore
from gsmreport.core.settings import Dirs
from gsmreport.tui.app import GsmReportApp, make_app
from gsmreport.tui.loading import load_detail
from gsmreport.tui.screens.error import ErrorDialog
from gsmreport.tui.screens.import_ import ImportScreen
from gsmreport.tui.screens.report import ReportScreen, preview_text
from gsmreport.tui.screens.run_detail import RunScreen
from gsmreport.tui.screens.samples import SampleBrowser
from gsmreport.tui.widgets.curve import CurveChart
from gsmreport.tui.widgets.metric_grid import MetricGrid
from gsmreport.tui.widgets.path_suggester import complete_path
from tests.conftest import shared_data
from tests.report_samples import PROBLEMS, write_gsm_eval
from tests.run_fixtures import write_metrics_jsonl, write_record
from tests.tui_support import async_test

SIZE = (100, 40)
RUN = "view-run"
TIMES = {
    "created_at": "2025-01-02T10:00:00+00:00",
    "started_at": "2025-01-02T10:00:05+00:00",
    "finished_at": "2025-01-02T10:00:47+00:00",
}


@pytest.fixture(autouse=True)
def _steady_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blinking cursors make screenshots depend on timing."""
    monkeypatch.setattr(Input, "cursor_blink", False)


def build_run(dirs: Dirs, run_id: str = RUN, *, with_eval: bool = True) -> Path:
    """A finished LoRA run: six train and two eval log steps, a 12-problem GSM8K eval."""
    run_dir = dirs.runs / run_id
    write_metrics_jsonl(run_dir)
    if with_eval:
        write_gsm_eval(run_dir, "gsm")
    write_record(run_dir, **TIMES)
    pipeline.ingest(dirs, run_id)
    return run_dir


@pytest.fixture
def view_dirs(tmp_path: Path) -> Dirs:
    dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
    build_run(dirs)
    return dirs


def plain(app: GsmReportApp, selector: str) -> str:
    """The text a Static shows, whatever Rich renderable it holds."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


async def settle(app: GsmReportApp, pilot: Pilot[None]) -> None:
    """Let the screen's workers finish and their results reach the widgets.

    A worker that failed is re-raised here by Textual; the screen under test has already
    turned it into an error dialog, which is what the tests look at.
    """
    with contextlib.suppress(WorkerFailed):
        await app.workers.wait_for_complete()
    await pilot.pause()


async def open_run(app: GsmReportApp, pilot: Pilot[None], run_id: str = RUN) -> RunScreen:
    await app.push_screen(RunScreen(load_detail(app.dirs, run_id)))
    await settle(app, pilot)
    assert isinstance(app.screen, RunScreen)
    return app.screen


class TestRunScreen:
    @async_test
    async def test_curves_cards_and_failure_categories(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot)
            charts = {str(c.border_title): c.series for c in screen.query(CurveChart) if c.display}
            loss = charts["loss"]
            assert {name: len(points) for name, points in loss.items()} == {"train": 6, "eval": 2}
            assert loss["train"][-1] == (60.0, 1.09)
            assert set(charts["mean_token_accuracy"]) == {"train", "eval"}
            assert len(charts["learning_rate"]["train"]) == 6
            assert not screen.query_one("#run-curves-note").display
            cards = plain(app, "#run-headline")
            assert "1.090" in cards  # final train loss
            assert "$0.005833" in cards  # 42 s × 1 CPU × $0.5/h
            assert "42 s" in cards
            failures = plain(app, "#run-failures")
            assert "gsm: 8 wrong of 12" in failures
            assert "arithmetic slip" in failures and "truncated" in failures
            assert "commonest failures" in plain(app, "#run-evals")

    @async_test
    async def test_secrets_in_the_config_are_hidden(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot)
            config = plain(app, "#run-config")
            assert "hf_SECRET123" not in config and "redacted" in config
            assert "learning_rate: 0.0002" in config

    @async_test
    async def test_run_without_metrics_says_why_there_are_no_curves(self, tmp_path: Path) -> None:
        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        RunStore(dirs.runs).create(RunRecord(id="bare", kind="train", status="failed"))
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, "bare")
            assert "no metrics.parquet" in plain(app, "#run-curves-note")
            assert not screen.query_one(MetricGrid).display  # no "no data" panels
            await pilot.press("s")  # no evaluation: a warning, not a new screen
            assert isinstance(app.screen, RunScreen)


class TestSampleBrowser:
    @async_test
    async def test_next_previous_and_category_filter(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot)
            await pilot.press("s")  # open the samples of the run's evaluation
            await settle(app, pilot)
            browser = app.screen
            assert isinstance(browser, SampleBrowser)
            assert "1 of 12 · filter: all · doc 0" in plain(app, "#sample-status")
            assert PROBLEMS[0].question in plain(app, "#sample-question")
            assert "✓ correct" in plain(app, "#sample-verdict")
            await pilot.press("n")  # next: the arithmetic slip
            assert "2 of 12" in plain(app, "#sample-status")
            assert "✗ arithmetic slip" in plain(app, "#sample-verdict")
            assert "2 + 1 = 4" in plain(app, "#sample-verdict")  # the evidence
            assert "strict-match      4" in plain(app, "#sample-answers")
            assert "2/2=<<2/2=1>>1" in plain(app, "#sample-solution")
            await pilot.press("p", "p")  # back to the first, then wrap to the last
            assert "12 of 12" in plain(app, "#sample-status")
            await pilot.press("f")  # filter: wrong answers only
            assert "1 of 8 · filter: wrong" in plain(app, "#sample-status")
            await pilot.press("f")  # filter: correct only
            assert "1 of 4 · filter: correct" in plain(app, "#sample-status")
            await pilot.press("f", "f", "f")  # no answer, truncated, run-on
            assert "1 of 1 · filter: run-on" in plain(app, "#sample-status")
            assert "✗ run-on" in plain(app, "#sample-verdict")
            await pilot.press("escape")
            assert isinstance(app.screen, RunScreen)

    @async_test
    async def test_e_moves_to_the_next_evaluation(self, view_dirs: Dirs) -> None:
        write_gsm_eval(view_dirs.runs / RUN, "gsm2")
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(SampleBrowser(RUN, "gsm2"))
            await settle(app, pilot)
            await pilot.press("e")  # wraps round to the first evaluation
            await settle(app, pilot)
            assert "view-run / gsm · 1 of 12" in plain(app, "#sample-status")

    @async_test
    async def test_missing_samples_show_the_error_dialog(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(SampleBrowser(RUN, "nope"))
            await settle(app, pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "no samples.jsonl for evaluation 'nope'" in plain(app, "#error-message")


class TestReportScreen:
    @async_test
    async def test_renders_markdown_and_model_card_and_previews_them(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot)
            await pilot.press("r")  # the report screen for this run
            assert isinstance(app.screen, ReportScreen)
            screen = app.screen
            screen.query_one("#report-pdf", Checkbox).value = False  # PDF is tested elsewhere
            screen.query_one("#report-card", Checkbox).value = True
            await pilot.press("r")  # render
            await settle(app, pilot)
            assert isinstance(app.screen, ReportScreen), "render failed; see the error dialog"
            folder = view_dirs.reports / RUN
            assert (folder / "report.md").is_file() and (folder / "README.md").is_file()
            shown = plain(app, "#report-paths")
            assert str(folder / "report.md") in shown and str(folder / "README.md") in shown
            preview = screen.query_one(Markdown).source
            assert RUN in preview
            assert "![" not in preview and "*[chart:" in preview  # images as their alt text
            await pilot.press("escape")
            assert str(folder / "report.md") in plain(app, "#run-report")  # run screen updated

    @async_test
    async def test_two_runs_render_a_comparison(self, view_dirs: Dirs) -> None:
        build_run(view_dirs, "other-run")
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(ReportScreen([RUN, "other-run"]))
            assert app.screen.query_one("#report-card", Checkbox).disabled  # one run only
            app.screen.query_one("#report-pdf", Checkbox).value = False
            await pilot.press("r")
            await settle(app, pilot)
            assert isinstance(app.screen, ReportScreen), "render failed; see the error dialog"
            written = list(view_dirs.reports.glob("compare-*/compare.md"))
            assert len(written) == 1
            assert str(written[0]) in plain(app, "#report-paths")

    @async_test
    async def test_failure_shows_the_one_line_reason(self, view_dirs: Dirs) -> None:
        app = make_app(view_dirs)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(ReportScreen(["no-such-run"]))
            await pilot.press("r")
            await settle(app, pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "run 'no-such-run' not found" in plain(app, "#error-message")
            await pilot.press("escape")
            assert isinstance(app.screen, ReportScreen)
            assert app.is_running

    def test_preview_keeps_alt_text_of_images(self) -> None:
        text = "Loss:\n\n![Training loss by step](charts/loss.png)\n\n![](x.svg)"
        assert preview_text(text) == (
            "Loss:\n\n*[chart: Training loss by step]*\n\n*[chart: no description]*"
        )


async def import_path(app: GsmReportApp, pilot: Pilot[None], path: Path) -> ImportScreen:
    await app.push_screen(ImportScreen())
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    screen.query_one("#import-path", Input).value = str(path)
    await pilot.press("enter")  # submit the path
    await settle(app, pilot)
    return screen


def result_rows(screen: ImportScreen) -> list[list[str]]:
    table = screen.query_one("#import-results", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


class TestImportScreen:
    @async_test
    async def test_bad_file_is_a_failed_row_with_its_reason(self, tmp_path: Path) -> None:
        bad = tmp_path / "logs" / "trainer_state.json"
        bad.parent.mkdir()
        bad.write_text("{ not json", encoding="utf-8")
        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await import_path(app, pilot, bad)
            rows = result_rows(screen)
            assert len(rows) == 1
            assert rows[0][:2] == ["failed", "trainer_state.json"]
            assert rows[0][3]  # the reason, in one line
            assert "0 imported, 1 failed" in plain(app, "#import-status")
            assert not list(dirs.runs.glob("*/run.yaml"))

    @async_test
    async def test_missing_path_is_a_failed_row(self, tmp_path: Path) -> None:
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=SIZE) as pilot:
            screen = await import_path(app, pilot, tmp_path / "nowhere")
            assert "no such file or folder" in result_rows(screen)[0][3]

    @async_test
    async def test_real_trainer_state_imports(self, tmp_path: Path) -> None:
        source = shared_data(
            "real-logs", "trainer_state", "Dheena731+tinyLlama-finetune__trainer_state.json"
        )
        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        app = make_app(dirs)
        async with app.run_test(size=SIZE) as pilot:
            screen = await import_path(app, pilot, source)
            (row,) = result_rows(screen)
            assert row[0] == "imported", row
            run_id = row[3].removeprefix("→ ").split(":")[0]
            assert (dirs.runs / run_id / "metrics.parquet").is_file()
            assert "1 imported, 0 failed" in plain(app, "#import-status")


class TestPathCompletion:
    def test_completes_folders_with_a_slash_and_files_as_is(self, tmp_path: Path) -> None:
        (tmp_path / "runs-a").mkdir()
        (tmp_path / "results.json").write_text("{}")
        (tmp_path / ".hidden").mkdir()
        assert complete_path(f"{tmp_path}/ru") == f"{tmp_path}/runs-a/"
        assert complete_path(f"{tmp_path}/re") == f"{tmp_path}/results.json"
        assert complete_path(f"{tmp_path}/r") == f"{tmp_path}/runs-a/"  # folders first
        assert complete_path(f"{tmp_path}/.h") == f"{tmp_path}/.hidden/"
        assert complete_path(f"{tmp_path}/") == f"{tmp_path}/runs-a/"  # hidden ones skipped
        assert complete_path(f"{tmp_path}/zz") is None
        assert complete_path(f"{tmp_path}/results.json/x") is None  # not a folder
        assert complete_path("") is None

    @async_test
    async def test_right_arrow_accepts_the_suggestion(self, tmp_path: Path) -> None:
        (tmp_path / "trainer_logs").mkdir()
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(ImportScreen())
            field = app.screen.query_one("#import-path", Input)
            field.focus()
            field.value = f"{tmp_path}/tra"
            field.cursor_position = len(field.value)
            await pilot.pause()
            await pilot.press("right")  # accept the completion
            assert field.value == f"{tmp_path}/trainer_logs/"


class TestSnapshots:
    """Fixed folders and timestamps (relative paths, run.yaml times) keep the pictures stable."""

    def test_run_screen(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Any
    ) -> None:
        """Cards, the three curve charts and the start of the evaluations at 80×24 + scroll."""
        monkeypatch.chdir(tmp_path)
        dirs = Dirs(runs=Path("runs"), reports=Path("reports"))
        build_run(dirs)

        async def open_it(pilot: Pilot[None]) -> None:
            assert isinstance(pilot.app, GsmReportApp)
            await open_run(pilot.app, pilot)

        assert snap_compare(make_app(dirs), terminal_size=(100, 40), run_before=open_it)

    def test_sample_browser(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snap_compare: Any
    ) -> None:
        """The arithmetic-slip sample: verdict with evidence, answers, question, gold, output."""
        monkeypatch.chdir(tmp_path)
        dirs = Dirs(runs=Path("runs"), reports=Path("reports"))
        build_run(dirs)

        async def browse(pilot: Pilot[None]) -> None:
            assert isinstance(pilot.app, GsmReportApp)
            await pilot.app.push_screen(SampleBrowser(RUN, "gsm"))
            await settle(pilot.app, pilot)
            await pilot.press("n")  # the second sample: an arithmetic slip

        assert snap_compare(make_app(dirs), terminal_size=(80, 24), run_before=browse)


def test_samples_fixture_matches_hand_labels() -> None:
    """The browser's filter counts above rest on these hand labels (8 wrong, 4 correct)."""
    labels = [p.category for p in PROBLEMS]
    assert labels.count("correct") == 4 and len(labels) == 12
    assert json.dumps(labels)  # plain strings, as the browser shows them


def test_run_detail_reads_logs_newer_than_metrics_parquet(tmp_path: Path) -> None:
    """A job that ended after the TUI quit leaves metrics.parquet behind its metrics.jsonl:
    the run screen must show the newer log rows, and write nothing while doing so."""
    import os

    from gsmreport.analysis.run import metrics_frame
    from gsmreport.ingest.run import ingest_run
    from tests.run_fixtures import jsonl_line

    run_dir = tmp_path / "r"
    write_metrics_jsonl(run_dir)
    ingest_run(run_dir, "r")
    parquet = run_dir / "metrics.parquet"
    old = os.stat(parquet).st_mtime - 10
    os.utime(parquet, (old, old))
    before = parquet.read_bytes()
    with (run_dir / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(jsonl_line(999, {"loss": 0.125}) + "\n")
    frame = metrics_frame(run_dir, "r", rebuild=False)
    losses = frame.filter((frame["split"] == "train") & (frame["metric"] == "loss"))
    assert losses.filter(losses["step"] == 999)["value"].to_list() == [0.125]
    assert parquet.read_bytes() == before  # nothing written by viewing
    assert parquet.stat().st_mtime == old
