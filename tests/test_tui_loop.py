"""Issue 15: a runs table that tells runs apart, presets found from anywhere, the daily
launch → evaluate → report loop, samples with both lm-eval filters. Pilot tests on real run
folders built in tmp_path (tests/test_tui.py's helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable, Input, Select, Static

from gsmreport.core.config import TrainConfig, load_yaml_model
from gsmreport.core.runs import RunRecord, RunStore, SourceInfo
from gsmreport.core.settings import Dirs
from gsmreport.core.user_settings import UserSettings, load_user_settings, remember
from gsmreport.tui.app import make_app
from gsmreport.tui.cells import COLUMN_BY_KEY, sort_rows
from gsmreport.tui.id_fit import cut_middle, fit_ids
from gsmreport.tui.presets import find_presets, initial_preset, preset_roots
from gsmreport.tui.screens.runs import RunsScreen
from gsmreport.tui.screens.train import TrainScreen
from tests.test_tui import write_metrics
from tests.test_tui_runs import summary
from tests.tui_support import async_test

REPO = Path(__file__).resolve().parents[1]

# --- ids that fit, and never look alike ---------------------------------------------------------


class TestIdFit:
    def test_a_cut_keeps_both_ends(self) -> None:
        assert cut_middle("logs-llama-1733890000-run-a", 12) == "logs-…-run-a"
        assert cut_middle("short", 12) == "short"

    @given(
        st.lists(st.text("ab-_.x0123456789", min_size=1, max_size=60), unique=True, max_size=30),
        st.integers(min_value=8, max_value=40),
    )
    @settings(deadline=None)  # a shared, busy machine: correctness only, never speed
    def test_distinct_ids_get_distinct_labels_that_fit(self, ids: list[str], width: int) -> None:
        labels = fit_ids(ids, width)
        assert len(set(labels.values())) == len(ids)
        assert all(len(label) <= width for label in labels.values())
        assert all(labels[i] == i for i in ids if len(i) <= width)  # what fits is never cut

    def test_ids_alike_at_both_ends_are_numbered(self) -> None:
        a, b = "x" * 20 + "A" + "x" * 20, "x" * 20 + "B" + "x" * 20
        labels = fit_ids([a, b], 10)
        assert labels[a] != labels[b] and all(len(v) == 10 for v in labels.values())


SHARED = "logs-llama-1733890000-checkpoint"  # 32 characters in common at the start


def long_id_runs(root: Path) -> Path:
    """Two trainer_state imports whose ids share 32 leading characters, and a train run."""
    store = RunStore(root)
    for n, (suffix, created) in enumerate((("-seed1-final", "01"), ("-seed2-final", "02"))):
        run_id = SHARED + suffix
        run_dir = store.create(
            RunRecord(
                id=run_id,
                kind="imported",
                status="completed",
                model="/models/llama-3.2-1b",
                created_at=f"2025-03-{created}T10:00:00+00:00",
                started_at=f"2025-03-{created}T10:00:05+00:00",
                runtime_s=600.0 + n,
                source=SourceInfo(path="/x", kind="trainer_state", read="/x/trainer_state.json"),
            )
        )
        write_metrics(run_dir, run_id, [2.0, 1.5, 1.0 + n / 10], [0.3, 0.4, 0.5])
    store.create(
        RunRecord(
            id="zz-train",
            kind="train",
            status="completed",
            model="org/a-model",
            created_at="2025-01-01T00:00:00+00:00",
        )
    )
    return root


class TestRunsTable:
    @async_test
    async def test_ids_sharing_20_characters_differ_at_100_columns(self, tmp_path: Path) -> None:
        dirs = Dirs(runs=long_id_runs(tmp_path / "runs"), reports=tmp_path / "reports")
        app = make_app(dirs)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RunsScreen)
            table = screen.query_one(DataTable)
            ids = [str(table.get_cell(SHARED + s, "id")) for s in ("-seed1-final", "-seed2-final")]
            assert ids[0] != ids[1] and all("…" in i for i in ids), ids
            id_column = next(c for c in screen.table.shown_columns if c.key == "id")
            assert all(len(i) <= id_column.width for i in ids)
            keys = [c.key for c in screen.table.shown_columns]
            assert {"started", "status", "em"} <= set(keys)
            # Newest first by default; what each new column reads, from the cached headline.
            assert [str(r.key.value) for r in table.ordered_rows][-1] == "zz-train"
            s = screen.summaries[SHARED + "-seed2-final"]
            assert (s.steps, s.source, s.runtime_s) == (30, "trainer_state", 601.0)  # step 10 each
            assert COLUMN_BY_KEY["started"].text(s) == "2025-03-02 10:00"
            assert COLUMN_BY_KEY["source"].text(screen.summaries["zz-train"]) == "train"
            assert COLUMN_BY_KEY["runtime"].text(s) == "10 min 01 s"

    def test_model_sorts_by_the_name_shown(self) -> None:
        rows = [
            summary("a", "2025-01-01", 1.0),
            summary("b", "2025-01-02", 1.0),
        ]
        # Full paths would sort /z/… after /a/…; the shown names sort alpha before beta.
        rows = [
            type(r)(**{**r.__dict__, "model": m})
            for r, m in zip(rows, ["/a/beta", "/z/alpha"], strict=True)
        ]
        assert [s.id for s in sort_rows(rows, "model", reverse=False)] == ["b", "a"]


# --- presets: found from anywhere, paths relative to the preset, remembered ----------------------


def write_project(root: Path) -> Path:
    """A project as `gsmreport demo` leaves it: configs/demo/*.yaml (the repo's own) and the
    folders they point at in .demo/ (empty folders: enough for path checks)."""
    (root / "configs" / "demo").mkdir(parents=True)
    for name in ("lora.yaml", "full.yaml"):
        (root / "configs" / "demo" / name).write_text(
            (REPO / "configs" / "demo" / name).read_text()
        )
    (root / ".demo" / "tiny-llama").mkdir(parents=True)
    (root / ".demo" / "data").mkdir()
    return root


class TestPresets:
    def test_relative_paths_are_relative_to_the_preset(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        project = write_project(tmp_path / "proj")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        cfg = load_yaml_model(project / "configs" / "demo" / "lora.yaml", TrainConfig)
        assert cfg.model == str((project / ".demo" / "tiny-llama").resolve())
        assert cfg.data.path == str((project / ".demo" / "data").resolve())
        # A Hub id stays a Hub id; an override from the command line stays as typed.
        hub = tmp_path / "hub.yaml"
        hub.write_text(yaml.safe_dump({"model": "google/gemma-2-2b-it"}))
        assert load_yaml_model(hub, TrainConfig).model == "google/gemma-2-2b-it"
        over = load_yaml_model(hub, TrainConfig, {"model": "./mine"})
        assert over.model == "./mine"

    def test_an_older_preset_relative_to_the_working_directory_still_works(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        Path("configs").mkdir()
        Path("models/m").mkdir(parents=True)
        Path("configs/old.yaml").write_text("model: models/m\n")
        assert load_yaml_model(Path("configs/old.yaml"), TrainConfig).model == "models/m"

    def test_roots_from_another_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        project = write_project(tmp_path / "proj")
        monkeypatch.chdir(tmp_path)  # not inside the project
        dirs = Dirs(runs=project / "runs", reports=project / "reports")
        assert preset_roots(dirs, UserSettings()) == [(project / "configs").resolve()]
        found = find_presets(dirs, UserSettings())
        assert [p.name for p in found] == ["full.yaml", "lora.yaml"]
        assert all(p.is_file() for p in found)
        # A configured folder comes first.
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "x.yaml").write_text("model: org/m\n")
        roots = preset_roots(dirs, UserSettings(presets_dir=str(mine)))
        assert roots[0] == mine.resolve()

    def test_the_last_launched_preset_is_remembered(self, tmp_path: Path) -> None:
        project = write_project(tmp_path / "proj")
        lora = (project / "configs" / "demo" / "lora.yaml").resolve()
        presets = [project / "configs" / "demo" / "full.yaml", lora]
        assert initial_preset(presets, load_user_settings()) == presets[0]
        assert remember(last_preset=str(lora))
        assert load_user_settings().last_preset == str(lora)
        assert initial_preset(presets, load_user_settings()) == lora
        lora.unlink()  # gone: back to the first one found
        assert initial_preset(presets, load_user_settings()) == presets[0]

    @async_test
    async def test_train_form_from_another_cwd_finds_presets_and_takes_a_typed_path(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        project = write_project(tmp_path / "proj")
        cwd = tmp_path / "cwd"
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        other = tmp_path / "other.yaml"
        other.write_text(yaml.safe_dump({"model": "../proj/.demo/tiny-llama", "method": "full"}))
        app = make_app(Dirs(runs=project / "runs", reports=project / "reports"))
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("t")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, TrainScreen)
            options = [p.name for p in form.presets]
            assert options[:2] == ["full.yaml", "lora.yaml"], options
            model = form.query_one("#field-model", Input).value
            assert model == str((project / ".demo" / "tiny-llama").resolve())
            assert not form.errors, form.errors
            # A typed path, completed with → from its first letters.
            box = form.query_one("#field-config", Input)
            box.focus()
            box.value = ""
            await pilot.press(*str(tmp_path / "oth"))
            await pilot.pause()
            await pilot.press("right")  # accept the suggestion
            await pilot.pause()
            assert box.value == str(other)
            assert form.preset == other and form.raw is not None
            assert form.query_one("#field-method", Select).value == "full"
            assert not form.errors, form.errors
            await pilot.press(*"x")  # no such file: one line under the field
            await pilot.pause()
            error = str(form.query_one("#field-preset-error", Static).content)
            assert error.startswith("config file not found:"), error


# --- the daily loop: resume, next steps ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny Llama and GSM8K-format data, built locally (no Hub)."""
    from gsmreport.datasets.synthetic import write_gsm8k_folder
    from gsmreport.jobs.tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("tiny")
    data = write_gsm8k_folder(root / "data", n_train=80, n_test=20, seed=3)
    return build_tiny_model(root / "model", data / "train.jsonl"), data


def interrupted_run(dirs: Dirs, tmp_path: Path, tiny: tuple[Path, Path]) -> str:
    """A real training of 8 steps, stopped (as Ctrl-C stops it) once checkpoint-4 is saved."""
    import threading

    from gsmreport import pipeline

    cancel = threading.Event()

    def on_line(line: str) -> None:
        if line == "[gsmreport] saved checkpoint-4":
            cancel.set()

    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": str(tiny[0]),
                "method": "full",
                "data": {"path": str(tiny[1]), "max_samples": 40},
                "training": {
                    "max_steps": 8,
                    "save_steps": 4,
                    "logging_steps": 1,
                    "batch_size": 4,
                    "max_length": 128,
                },
                "logging": {"wandb": "disabled"},
            }
        )
    )
    record = pipeline.train(dirs, config, run_id="rs", on_line=on_line, cancel=cancel)
    assert record.status == "interrupted", record.error
    return "rs"


@pytest.mark.slow
class TestResume:
    @async_test
    async def test_resume_from_the_runs_table_completes_without_duplicated_steps(
        self, tmp_path: Path, tiny: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import asyncio
        import json
        import time

        import polars as pl

        from gsmreport.tui.screens.evaluate import EvaluateScreen
        from gsmreport.tui.screens.live import LiveScreen

        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        run_id = interrupted_run(dirs, tmp_path, tiny)
        app = make_app(dirs)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            assert app.screen.selected_run_id() == run_id
            await pilot.press("R")
            await pilot.pause()
            live = app.screen
            assert isinstance(live, LiveScreen) and live.job.run_id == run_id
            deadline = time.monotonic() + 300  # a safeguard against a hung job only
            while live.job.status == "running":
                assert time.monotonic() < deadline, "gave up waiting for the resumed job"
                await asyncio.sleep(0.1)
            live.tick()
            await pilot.pause()
            assert live.job.status == "completed", live.job.error
            status = str(live.query_one("#live-status", Static).content)
            assert "next: e evaluate it · r render the report" in status, status
            await pilot.press("e")  # the next step: the evaluate form, on this run
            await pilot.pause()
            assert isinstance(app.screen, EvaluateScreen)
        record = RunStore(dirs.runs).read(run_id)
        assert record.status == "completed"
        assert (record.model_extra or {})["resumed_from"] == "checkpoint-4"
        events = (dirs.runs / run_id / "metrics.jsonl").read_text().splitlines()
        steps = [json.loads(e)["step"] for e in events if '"loss"' in e]
        assert steps == sorted(set(steps))  # the log holds no replayed step either

        table = pl.read_parquet(dirs.runs / run_id / "metrics.parquet")
        loss = table.filter((pl.col("split") == "train") & (pl.col("metric") == "loss"))
        assert loss.get_column("step").to_list() == list(range(1, 9))
        assert table.select("step", "split", "metric").is_duplicated().sum() == 0


# --- samples: every filter's answer, and the model --------------------------------------------

PHI3_RESPONSE = (
    "Janet's ducks lay 16 eggs per day. She eats 3 and bakes with 4, so 16 - 3 - 4 = 9 eggs "
    "are sold at $2 each: 9 * 2 = 18. She makes $18 per day"
)


def phi3_like_run(dirs: Dirs) -> str:
    """An eval run whose one problem is answered in prose: no `####`, the number at the end
    (doc 0 of the Phi-3 lm-eval samples), written as the lm-eval import writes rows."""
    import json

    from gsmreport.gsm8k.scoring import sample_row

    store = RunStore(dirs.runs)
    run_dir = store.create(RunRecord(id="phi3", kind="imported", status="completed"))
    folder = run_dir / "evals" / "gsm8k"
    folder.mkdir(parents=True)
    doc = {
        "doc_id": 0,
        "question": "Janet’s ducks lay 16 eggs per day. How much does she make?",
        "answer": "16 - 3 - 4 = <<16-3-4=9>>9\n9 * 2 = <<9*2=18>>18\n#### 18",
    }
    row = sample_row(doc, "Question: …", PHI3_RESPONSE, n_tokens=None, truncated=None)
    (folder / "samples.jsonl").write_text(json.dumps(row) + "\n")
    counts = {"strict-match": {"correct": 0, "n": 1}, "flexible-extract": {"correct": 1, "n": 1}}
    (folder / "results.json").write_text(
        json.dumps(
            {"eval_id": "gsm8k", "model": "microsoft/Phi-3-mini-4k-instruct", "counts": counts}
        )
    )
    return "phi3"


class TestSamples:
    def test_both_filters_and_the_numeric_score_of_a_prose_answer(self) -> None:
        from gsmreport.analysis.sample_scores import filter_answers

        # A raw lm-eval row carries neither filtered_resps as a mapping nor our exact_match.
        found = {
            a.name: a for a in filter_answers({"resps": [[PHI3_RESPONSE]]}, PHI3_RESPONSE, "18")
        }
        assert found["strict-match"].prediction is None and not found["strict-match"].correct
        assert found["flexible-extract"].prediction == "18" and found["flexible-extract"].correct
        assert found["numeric-match"].prediction == "18" and found["numeric-match"].correct
        # lm-eval's flexible rule takes the last token even when it is not a number; the
        # browser shows what gsm8k.scoring scores, with no rule of its own.
        from gsmreport.gsm8k.scoring import score

        odd = "The answer is 18. Hmm..."
        found = {a.name: a for a in filter_answers({}, odd, "18")}
        expected = score(odd, "#### 18")[1]
        assert {k: int(v.correct) for k, v in found.items()} == expected

    @async_test
    async def test_browser_shows_each_filter_and_the_model(self, tmp_path: Path) -> None:
        from gsmreport.tui.messages import OpenSamples
        from gsmreport.tui.screens.samples import SampleBrowser

        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        run_id = phi3_like_run(dirs)
        app = make_app(dirs)
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.post_message(OpenSamples(run_id, "gsm8k"))
            await pilot.pause()
            browser = app.screen
            assert isinstance(browser, SampleBrowser)
            await app.workers.wait_for_complete()
            await pilot.pause()
            answers = str(browser.query_one("#sample-answers", Static).content)
            lines = {line.split()[0]: line for line in answers.splitlines()}
            assert lines["gold"].split()[-1] == "18"
            assert "(none found)" in lines["strict-match"] and "✗" in lines["strict-match"]
            assert lines["flexible-extract"].split()[1:3] == ["18", "✓"]
            assert lines["numeric-match"].split()[1:3] == ["18", "✓"]
            status = str(browser.query_one("#sample-status", Static).content)
            assert "model microsoft/Phi-3-mini-4k-instruct" in status


# --- report: preview at once, open with the system opener --------------------------------------


class TestReport:
    @async_test
    async def test_preview_follows_the_render_and_o_opens_with_the_system_opener(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import asyncio
        import os
        import time

        from textual.widgets import Markdown

        from gsmreport.tui.screens.report import RENDERING, ReportScreen
        from tests.test_tui_views import RUN, build_run, settle

        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        build_run(dirs)
        # A stand-in for xdg-open: a real program on PATH that records what it was asked.
        bin_dir, opened = tmp_path / "bin", tmp_path / "opened.txt"
        bin_dir.mkdir()
        script = bin_dir / "xdg-open"
        script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
        script.chmod(0o755)
        app = make_app(dirs)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.push_screen(ReportScreen([RUN]))
            screen = app.screen
            assert isinstance(screen, ReportScreen)
            screen.query_one("#report-pdf").value = False  # type: ignore[attr-defined]
            await pilot.press("r")
            await pilot.pause()
            preview = screen.query_one(Markdown)
            assert preview.source in (RENDERING,) or RUN in preview.source
            assert "No report yet" not in preview.source
            await settle(app, pilot)
            assert RUN in preview.source, preview.source[:200]
            md = dirs.reports / RUN / "report.md"
            monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
            await pilot.press("o")  # no PDF, no HTML in this render: the Markdown
            deadline = time.monotonic() + 30  # the opener runs detached: a safeguard only
            while not opened.exists():
                assert time.monotonic() < deadline, "the opener was not started"
                await asyncio.sleep(0.05)
            assert opened.read_text() == str(md)
            paths = str(screen.query_one("#report-paths", Static).content)
            assert paths == f"opened {md}"
            monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no opener at all
            await pilot.press("f")
            await pilot.pause()
            paths = str(screen.query_one("#report-paths", Static).content)
            assert paths.endswith(f"the path to copy: {dirs.reports / RUN}"), paths


class TestSmallerItems:
    def test_opener_per_platform(self) -> None:
        from gsmreport.tui.opener import opener_command

        def which(name: str) -> str | None:
            return f"/usr/bin/{name}" if name in ("xdg-open", "open") else None

        path = Path("/r/report.pdf")
        assert opener_command(path, "linux", which) == ["/usr/bin/xdg-open", str(path)]
        assert opener_command(path, "darwin", which) == ["/usr/bin/open", str(path)]
        assert opener_command(path, "linux", lambda _: None) is None
        assert opener_command(path, "win32", which) is None  # os.startfile instead

    def test_next_steps_follow_the_outcome(self, tmp_path: Path) -> None:
        from gsmreport.tui.next_steps import Ended, next_steps, steps_line

        dirs = Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports")
        assert next_steps(dirs, Ended("train", "completed", "x")) == ("evaluate", "report")
        assert next_steps(dirs, Ended("evaluate", "completed", "x")) == ("report",)
        # Interrupted before any checkpoint: nothing to resume from, so nothing is offered.
        RunStore(dirs.runs).create(RunRecord(id="nock", kind="train", status="interrupted"))
        assert next_steps(dirs, Ended("train", "interrupted", "nock")) == ()
        (dirs.runs / "nock" / "checkpoints" / "checkpoint-4").mkdir(parents=True)
        (dirs.runs / "nock" / "checkpoints" / "checkpoint-4" / "trainer_state.json").write_text(
            "{}"
        )
        steps = next_steps(dirs, Ended("train", "interrupted", "nock"))
        assert steps_line(steps) == "next: R resume from the last checkpoint"

    def test_compare_names_fit_or_become_letters(self) -> None:
        from gsmreport.tui.compare_names import letter, short_names

        assert [letter(i) for i in (0, 25, 26, 27)] == ["A", "Z", "AA", "AB"]
        assert short_names(["a", "b"], 100) == ["a", "b"]
        eight = [f"{SHARED}-seed{i}-final" for i in range(8)]
        assert short_names(eight, 120) == list("ABCDEFGH")

    @async_test
    async def test_checkbox_reads_without_colour(self, tmp_path: Path) -> None:
        from gsmreport.tui.screens.import_ import ImportScreen
        from gsmreport.tui.widgets.check import OFF, ON, Check

        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=(100, 30)) as pilot:
            await app.push_screen(ImportScreen())
            box = app.screen.query_one("#import-recursive", Check)
            assert OFF in str(box.render()) and ON not in str(box.render())
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert box.value and ON in str(box.render())
            assert box.has_class("-on")  # Checkbox's own watcher still runs (and posts Changed)

    @async_test
    async def test_import_counts_the_last_import_and_shows_its_failure(
        self, tmp_path: Path
    ) -> None:
        from gsmreport.tui.screens.import_ import ImportScreen
        from tests.test_tui_views import import_path

        bad = tmp_path / "logs" / "trainer_state.json"
        bad.parent.mkdir()
        bad.write_text("{ not json", encoding="utf-8")
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await import_path(app, pilot, bad)
            assert isinstance(screen, ImportScreen)
            detail = str(screen.query_one("#import-detail", Static).content)
            assert str(bad) in detail and len(detail.splitlines()) == 2  # the reason, in full
            screen.query_one("#import-path", Input).value = str(tmp_path / "nowhere")
            await pilot.press("enter")
            await settle_all(app, pilot)
            status = str(screen.query_one("#import-status", Static).content)
            assert status.startswith("0 imported, 1 failed"), status  # not 2: this import only


async def settle_all(app: object, pilot: object) -> None:
    from tests.test_tui_views import settle

    await settle(app, pilot)  # type: ignore[arg-type]


class TestCompareEight:
    @async_test
    async def test_eight_long_ids_are_lettered_with_a_key(self, tmp_path: Path) -> None:
        from rich.table import Table

        from gsmreport.tui.screens.compare import CompareScreen
        from tests.test_tui_views import settle

        store = RunStore(tmp_path / "runs")
        ids = [f"{SHARED}-seed{i}-final" for i in range(8)]
        for i, run_id in enumerate(ids):
            run_dir = store.create(RunRecord(id=run_id, kind="train", status="completed"))
            write_metrics(run_dir, run_id, [2.0, 1.5 - i / 20, 1.0], [0.3, 0.4, 0.5])
        app = make_app(Dirs(runs=tmp_path / "runs", reports=tmp_path / "reports"))
        async with app.run_test(size=(120, 40)) as pilot:
            await app.push_screen(CompareScreen(ids))
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, CompareScreen)
            key = str(screen.query_one("#compare-key", Static).content).splitlines()
            assert [line.split()[1:3] for line in key] == [
                [letter, run_id] for letter, run_id in zip("ABCDEFGH", ids, strict=True)
            ]
            results = screen.query_one("#compare-results", Static).content
            assert isinstance(results, Table)
            headers = [str(c.header) for c in results.columns[1:]]
            assert headers == list("ABCDEFGH")


class TestBigFolder:
    @async_test
    async def test_a_big_folder_paints_ids_then_every_figure(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from gsmreport.tui.screens import runs as runs_module
        from tests.test_tui import build_runs, row_ids
        from tests.test_tui_views import settle

        monkeypatch.setattr(runs_module, "BIG_FOLDER", 1)  # three runs count as a big folder
        runs = build_runs(tmp_path / "runs")
        (runs / "not-a-run").mkdir()  # listed by name, gone once read
        app = make_app(Dirs(runs=runs, reports=tmp_path / "reports"))
        async with app.run_test(size=(120, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, RunsScreen)
            for _ in range(50):  # a safeguard for a hung worker, not a timing claim
                await settle(app, pilot)
                if all(s.status != "…" for s in screen.summaries.values()):
                    break
            assert row_ids(app) == ["tiny-lora", "tiny-full", "broken"]  # newest first
            assert screen.summaries["tiny-lora"].final_loss == 1.2
            assert "not-a-run" not in screen.summaries
