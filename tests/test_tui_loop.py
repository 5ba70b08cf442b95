"""Issue 15: a runs table that tells runs apart, presets found from anywhere, the daily
launch → evaluate → report loop, samples with both lm-eval filters. Pilot tests on real run
folders built in tmp_path (tests/test_tui.py's helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
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
