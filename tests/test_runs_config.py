from __future__ import annotations

from pathlib import Path

import pytest

from gsmreport.core.config import TrainConfig, load_yaml_model
from gsmreport.core.errors import ConfigError, GsmReportError, NotFoundError, UsageError
from gsmreport.core.runs import RunRecord, RunStore, slugify, validate_run_id


@pytest.mark.parametrize("good", ["a", "demo-lora", "run_1.2", "0abc", "x" * 64])
def test_valid_ids(good: str) -> None:
    assert validate_run_id(good) == good


@pytest.mark.parametrize(
    "bad", ["", "../x", "a/b", "..", "A", "-a", ".hidden", "a..b", "x" * 65, "a b"]
)
def test_invalid_ids_refused(bad: str) -> None:
    with pytest.raises(UsageError):
        validate_run_id(bad)


def test_slugify() -> None:
    assert slugify("google/gemma-2-2b-it") == "google-gemma-2-2b-it"
    assert slugify("///") == "run"
    long = "YuZh98+finetune-gsm8k__results_first-round_extracted__run2_r16_seed43"
    # Too long: the first word and whole words from the end, which tell a sweep's runs apart.
    assert slugify(long, 40) == "yuzh98-round-extracted-run2-r16-seed43"
    assert (
        slugify(long, 80) == "yuzh98-finetune-gsm8k-results-first-round-extracted-run2-r16-seed43"
    )
    assert slugify("a" * 50, 10) == "a" * 10  # one word: cut


def test_status_transitions_and_atomic_yaml(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.create(RunRecord(id="r1", kind="train"))
    assert store.read("r1").status == "pending"
    rec = store.set_status("r1", "running")
    assert rec.started_at is not None
    rec = store.set_status("r1", "completed", runtime_s=1.5)
    assert rec.finished_at is not None and rec.runtime_s == 1.5
    with pytest.raises(GsmReportError, match="cannot go from completed to pending"):
        store.set_status("r1", "pending")
    # no temp files left behind by the atomic writes
    assert sorted(p.name for p in (tmp_path / "r1").iterdir()) == ["logs", "run.yaml"]


def test_create_refuses_existing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.create(RunRecord(id="r1", kind="train"))
    with pytest.raises(UsageError, match="already exists"):
        store.create(RunRecord(id="r1", kind="train"))
    assert store.unique_id("r1") == "r1-2"


def test_missing_run(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        RunStore(tmp_path).read("nope")


def test_broken_run_yaml_is_skipped_in_listing(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.create(RunRecord(id="good", kind="train"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.yaml").write_text("id: [")
    assert [r.id for r in store.iter_records()] == ["good"]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


def test_config_loads_with_defaults(tmp_path: Path) -> None:
    cfg = load_yaml_model(_write(tmp_path, "model: org/model\nlora: {r: 4}\n"), TrainConfig)
    assert cfg.method == "lora" and cfg.lora.r == 4 and cfg.lora.alpha == 16


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: m\nlearning_rate: 1\n", "unknown key 'learning_rate'"),
        ("model: m\ntraining: {lr: 1}\n", "unknown key 'training.lr'"),
        ("model: m\nmethod: qlora-ish\n", "'method'"),
        ("method: lora\n", "'model': Field required"),
        ("- a\n- b\n", "expected a mapping"),
        ("model: [\n", "not valid YAML"),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml_model(_write(tmp_path, text), TrainConfig)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert str(tmp_path / "c.yaml") in str(info.value)


def test_overrides_apply_dotted_keys(tmp_path: Path) -> None:
    cfg = load_yaml_model(
        _write(tmp_path, "model: m\n"), TrainConfig, {"data.path": "/d", "method": "full"}
    )
    assert cfg.data.path == "/d" and cfg.method == "full"
