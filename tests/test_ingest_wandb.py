"""W&B runs → the metrics table: real third-party runs, a real offline run, legacy folders.

Cross-checks use W&B's own `leet inspect --summary --json`, so a mapping bug in our reader
(wrong step key, summary rows counted as history, lost rows) shows up as a mismatch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from gsmreport.ingest import wandb_run
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.source import SourceData
from tests.conftest import shared_data

RAJA = ("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project", "wandb")
RAJA_RUN = "run-20241126_055203-vxmvktnt"
TSEBAKA = ("real-logs", "wandb", "tsebaka+T-Lab-2024-LLM-Alignment", "wandb")
TSEBAKA_RUN = "run-20241216_132720-chk58nkd"


def _leet_summary(wandb_file: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "wandb", "leet", "inspect", "--summary", "--json"]
    done = subprocess.run(
        [*command, str(wandb_file)], capture_output=True, text=True, check=True, timeout=120
    )
    summary = json.loads(done.stdout)
    assert isinstance(summary, dict)
    return summary


def _values(frame: pl.DataFrame, split: str, metric: str) -> dict[int, float]:
    rows = frame.filter((pl.col("split") == split) & (pl.col("metric") == metric))
    return dict(zip(rows["step"].to_list(), rows["value"].to_list(), strict=True))


def _last(frame: pl.DataFrame, split: str, metric: str) -> float:
    values = _values(frame, split, metric)
    return values[max(values)]


def _raja_dir() -> Path:
    return shared_data(*RAJA, RAJA_RUN)


# Each read runs W&B's reader in a subprocess (~1 s); the raja reads are shared per module.
@pytest.fixture(scope="module")
def raja_leet() -> dict[str, Any]:
    return _leet_summary(_raja_dir() / "run-vxmvktnt.wandb")


@pytest.fixture(scope="module")
def raja_log() -> wandb_run.WandbLog:
    return wandb_run.inspect_log(_raja_dir() / "run-vxmvktnt.wandb")


@pytest.fixture(scope="module")
def raja_reads() -> dict[str, SourceData]:
    run_dir = _raja_dir()
    return {
        "folder": wandb_run.read(run_dir),
        "file": wandb_run.read(run_dir / "run-vxmvktnt.wandb"),
    }


# ---------------------------------------------------------------------------- real runs


def test_raja_log_matches_wandbs_own_summary(
    raja_leet: dict[str, Any], raja_log: wandb_run.WandbLog
) -> None:
    # leet's `step` is the last `_step`, counted from 0: one per history row.
    assert len(raja_log.history) == raja_leet["step"] + 1 == 16
    assert raja_log.exit_code == raja_leet["exit_code"] == 0 and not raja_log.truncated
    assert raja_log.summary == raja_leet["summary"] | {"_wandb.runtime": 1189}
    assert raja_log.seconds > 0


@pytest.mark.parametrize("target", ["folder", "file"])
def test_raja_matches_wandbs_own_summary(
    target: str,
    raja_leet: dict[str, Any],
    raja_log: wandb_run.WandbLog,
    raja_reads: dict[str, SourceData],
) -> None:
    data = raja_reads[target]
    assert _last(data.frame, "train", "loss") == raja_leet["summary"]["train/loss"] == 0.1379
    # One row per history record that logged the metric: none lost, none added.
    for key, split, metric in [("train/loss", "train", "loss"), ("eval/loss", "eval", "loss")]:
        logged = [item for item in raja_log.history if key in item]
        assert len(_values(data.frame, split, metric)) == len(logged)
    assert len(_values(data.frame, "train", "loss")) == 9
    # HF's step, not W&B's `_step`, places the rows; eval shares steps with train.
    assert sorted(_values(data.frame, "eval", "loss")) == [100, 200, 300, 400, 498]
    assert data.frame["run_id"].unique().to_list() == [""]
    assert data.frame["source"].unique().to_list() == ["wandb"]

    assert data.status == "completed" and raja_leet["state"] == "finished"
    assert data.model == raja_leet["config"]["_name_or_path"] == "bigscience/bloom-1b7"
    assert data.method == "lora"  # peft_config LORA on an 8-bit base: not QLoRA
    assert data.config["learning_rate"] == raja_leet["config"]["learning_rate"]
    assert "_wandb" not in data.config
    assert data.runtime_s == raja_leet["summary"]["_runtime"]
    assert data.name == raja_leet["name"]
    assert data.warnings == []


@pytest.mark.parametrize("target", ["folder", "file"])
def test_raja_hardware_from_metadata_and_summary_only_metrics(
    target: str, raja_reads: dict[str, SourceData]
) -> None:
    data = raja_reads[target]
    metadata = json.loads((_raja_dir() / "files" / "wandb-metadata.json").read_text())
    assert data.hardware == {
        "device": "cuda",
        "device_name": metadata["gpu"],
        "count": metadata["gpu_count"],
    }
    assert data.hardware["device_name"] == "NVIDIA RTX A6000"
    # HF's end-of-training numbers reach W&B only as summary: rows at the final step.
    summary = data.config["summary"]
    assert _values(data.frame, "train", "runtime_s") == {498: summary["train_runtime"]}
    assert _values(data.frame, "train", "train_loss_avg") == {498: summary["train_loss"]}
    # Keys history holds are not repeated from the summary.
    assert len(_values(data.frame, "train", "grad_norm")) == 9


def test_folder_and_file_give_the_same_table(raja_reads: dict[str, SourceData]) -> None:
    run_dir = _raja_dir()
    from_folder, from_file = raja_reads["folder"], raja_reads["file"]
    assert from_folder.frame.equals(from_file.frame)
    assert from_folder.path == run_dir and from_file.path == run_dir / "run-vxmvktnt.wandb"


def test_killed_run_is_interrupted_and_keeps_its_rows() -> None:
    run_dir = shared_data(*TSEBAKA, TSEBAKA_RUN)
    leet = _leet_summary(run_dir / "run-chk58nkd.wandb")
    data = wandb_run.read(run_dir)
    assert data.status == "interrupted"
    assert leet["exit_code"] is None
    (warning,) = [w for w in data.warnings if "mid-record" in w]
    assert "27 history rows" in warning and "kept what was read" in warning
    assert "\n" not in warning
    losses = _values(data.frame, "train", "loss")
    assert len(losses) == leet["step"] + 1 == 27
    assert losses[810] == leet["summary"]["train/loss"]
    assert data.hardware == {"device": "cuda", "device_name": "NVIDIA A100-SXM4-80GB", "count": 4}


def test_find_runs_in_a_real_wandb_folder() -> None:
    wandb_dir = shared_data(*RAJA)
    assert wandb_run.find_runs(wandb_dir) == [wandb_dir / RAJA_RUN]
    assert wandb_run.find_runs(wandb_dir.parent) == [wandb_dir / RAJA_RUN]
    # A wandb/ folder holding one run reads as that run, and says which folder it read.
    assert wandb_run.read(wandb_dir).path == wandb_dir / RAJA_RUN


# ---------------------------------------------------------------------------- a real offline run


@pytest.fixture
def offline_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Env for an offline run under tmp_path; any attempt at the network fails at once."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb-home"))
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # the discard port: refused
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return tmp_path


def _log_hf_style(offline_dir: Path, *, steps: int, exit_code: int = 0) -> list[dict[str, float]]:
    import wandb

    logged: list[dict[str, float]] = []
    config = {"model_name_or_path": "tiny/llama", "lora_r": 8, "learning_rate": 1e-4}
    settings = wandb.Settings(console="off")  # leave pytest's stdout capture alone
    run = wandb.init(mode="offline", dir=offline_dir, project="t", config=config, settings=settings)
    for step in range(1, steps + 1):
        entry = {
            "train/loss": 1.0 / step + 0.1 * math.sin(step),
            "train/learning_rate": 1e-4 * (1 - step / steps),
            "train/grad_norm": math.nan if step == 7 else 0.5 + step / 1000,
            "train/global_step": step,
            "train/epoch": step / steps,
        }
        run.log(entry)
        logged.append(entry)
        if step % 10 == 0:
            entry = {
                "eval/loss": 2.0 / step,
                "train/global_step": step,
                "train/epoch": step / steps,
            }
            run.log(entry)
            logged.append(entry)
    run.finish(exit_code=exit_code)
    wandb.teardown()
    return logged


def test_offline_run_round_trips_exactly(offline_wandb: Path) -> None:
    logged = _log_hf_style(offline_wandb, steps=30)
    (run_dir,) = wandb_run.find_runs(offline_wandb)
    assert run_dir.name.startswith("offline-run-")
    data = wandb_run.read(run_dir)

    train = [e for e in logged if "train/loss" in e]
    assert _values(data.frame, "train", "loss") == {
        int(e["train/global_step"]): e["train/loss"] for e in train
    }
    assert _values(data.frame, "train", "learning_rate") == {
        int(e["train/global_step"]): e["train/learning_rate"] for e in train
    }
    assert _values(data.frame, "eval", "loss") == {10: 0.2, 20: 0.1, 30: 2.0 / 30}
    grad_norm = _values(data.frame, "train", "grad_norm")
    assert math.isnan(grad_norm[7]) and grad_norm[8] == 0.5 + 8 / 1000  # NaN kept, not dropped
    epochs = data.frame.filter(pl.col("metric") == "loss").select("step", "epoch").unique()
    assert all(epoch == step / 30 for step, epoch in epochs.iter_rows())
    assert data.frame["wall_time"].is_not_null().all()

    assert data.status == "completed" and data.warnings == []
    assert data.model == "tiny/llama" and data.method == "lora"
    assert data.config["learning_rate"] == 1e-4 and "_wandb" not in data.config
    assert data.hardware is not None and data.hardware["device"] in {"cpu", "cuda", "mps"}
    assert data.runtime_s is not None and data.runtime_s > 0


def test_offline_run_with_an_error_exit_is_failed(offline_wandb: Path) -> None:
    _log_hf_style(offline_wandb, steps=3, exit_code=3)
    (run_dir,) = wandb_run.find_runs(offline_wandb / "wandb")
    data = wandb_run.read(run_dir)
    assert data.status == "failed"
    assert any("exited with code 3" in w for w in data.warnings)
    assert len(_values(data.frame, "train", "loss")) == 3


# ---------------------------------------------------------------------------- legacy folders


def _to_015_style(config: dict[str, Any]) -> dict[str, Any]:
    wrapped: dict[str, Any] = {"wandb_version": 1}
    wrapped.update({k: {"desc": None, "value": v["value"]} for k, v in config.items()})
    return wrapped


def _to_plain_style(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v["value"] for k, v in config.items()}


@pytest.mark.parametrize("style", ["value", "desc_value", "plain"])
def test_legacy_folder_without_wandb_log(tmp_path: Path, style: str) -> None:
    source = _raja_dir() / "files"
    run_dir = tmp_path / RAJA_RUN
    shutil.copytree(source, run_dir / "files")
    config_path = run_dir / "files" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    if style != "value":
        converted = _to_015_style(config) if style == "desc_value" else _to_plain_style(config)
        config_path.chmod(0o644)
        config_path.write_text(yaml.safe_dump(converted))

    data = wandb_run.read(run_dir)
    assert data.model == "bigscience/bloom-1b7" and data.method == "lora"
    assert data.config["learning_rate"] == 5e-05 and data.config["peft_config"]["default"]["r"] == 8
    assert "_wandb" not in data.config and "wandb_version" not in data.config
    assert data.hardware == {"device": "cuda", "device_name": "NVIDIA RTX A6000", "count": 2}
    assert any("no history: only the final summary" in w for w in data.warnings)
    # Summary only: every metric at the summary's train/global_step.
    assert data.frame["step"].unique().to_list() == [498]
    assert _values(data.frame, "train", "loss") == {498: 0.1379}
    assert _values(data.frame, "eval", "accuracy") == {498: 0.928679817905918}
    assert data.runtime_s == 1189.723596899


def test_unreadable_log_falls_back_to_legacy_files(tmp_path: Path) -> None:
    run_dir = tmp_path / RAJA_RUN
    shutil.copytree(_raja_dir() / "files", run_dir / "files")
    (run_dir / "run-vxmvktnt.wandb").write_bytes(b":W&B" + os.urandom(3000))
    data = wandb_run.read(run_dir)
    (warning,) = [w for w in data.warnings if "W&B's reader failed" in w]
    assert "instead" in warning and "\n" not in warning
    assert _values(data.frame, "train", "loss") == {498: 0.1379}


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (os.urandom(4096), "not a W&B run log"),
        (b":W&B" + os.urandom(4096), "W&B's reader failed"),
        (b"", "empty file"),
        (
            b"version https://git-lfs.github.com/spec/v1\noid sha256:"
            + b"0" * 64
            + b"\nsize 1048576\n",
            "git lfs pull",
        ),
    ],
    ids=["garbage", "garbage-after-magic", "empty", "lfs-pointer"],
)
def test_bad_wandb_file_is_one_line_source_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "run-x.wandb"
    path.write_bytes(content)
    with pytest.raises(SourceError) as caught:
        wandb_run.read(path)
    message = str(caught.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_header_only_log_is_a_source_error(tmp_path: Path) -> None:
    # The first 100 bytes of a real log: a valid header, then the file stops mid-record.
    path = tmp_path / "run-x.wandb"
    path.write_bytes((_raja_dir() / "run-vxmvktnt.wandb").read_bytes()[:100])
    with pytest.raises(SourceError, match="no records"):
        wandb_run.read(path)


def test_missing_and_non_run_paths(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        wandb_run.read(tmp_path / "nope")
    with pytest.raises(SourceError, match="no W&B run here"):
        wandb_run.read(tmp_path)
    broken = tmp_path / "run-20240101_000000-abc"
    (broken / "files").mkdir(parents=True)
    (broken / "files" / "config.yaml").write_text("a: [unclosed\n")
    with pytest.raises(SourceError, match="not valid YAML") as caught:
        wandb_run.read(broken)
    assert "\n" not in str(caught.value)


def test_find_runs_skips_latest_run_link_and_logs(tmp_path: Path) -> None:
    wandb_dir = tmp_path / "wandb"
    older = wandb_dir / "offline-run-20240101_000000-aaaa1111"
    newer = wandb_dir / "run-20240202_000000-bbbb2222"
    for run in (older, newer):
        (run / "files").mkdir(parents=True)
    (wandb_dir / "latest-run").symlink_to(newer)
    (wandb_dir / "debug.log").write_text("log")
    (wandb_dir / "debug-internal.log").write_text("log")
    assert wandb_run.find_runs(tmp_path) == [older, newer]
    assert wandb_run.find_runs(wandb_dir) == [older, newer]
    with pytest.raises(SourceError, match="holds 2 W&B runs"):
        wandb_run.read(tmp_path)


# ---------------------------------------------------------------------------- record parsing


def _record(num: int, kind: str, body: dict[str, Any]) -> str:
    return json.dumps({"num": num, "type": kind, kind: body}, separators=(",", ":"))


def test_parse_records_environment_non_finite_and_exit() -> None:
    # The shapes `leet inspect --json` prints (protobuf field names; NaN/inf as strings).
    gpu = {"name": "NVIDIA A100-SXM4-40GB", "memory_total": "42949672960"}
    lines = [
        _record(1, "run", {"display_name": "r1", "config": {"update": {"_wandb": {}, "a": 1}}}),
        _record(2, "environment", {"cpu_count": 8, "writer_id": "w"}),
        _record(3, "environment", {"gpu_type": gpu["name"], "gpu_count": 2, "gpu_nvidia": [gpu]}),
        _record(4, "output_raw", {"line": "not json {"}),
        _record(
            5, "history", {"item": {"_step": 0, "train/loss": "NaN", "train/grad_norm": "Infinity"}}
        ),
        "garbage line",
        _record(6, "exit", {"exit_code": 2, "runtime": 12}),
    ]
    log = wandb_run.parse_records(lines)
    assert log.name == "r1" and log.bad_lines == 1 and log.exit_code == 2
    assert wandb_run.hardware(log.environment) == {
        "device": "cuda",
        "device_name": "NVIDIA A100-SXM4-40GB",
        "count": 2,
    }
    assert wandb_run.flatten_config(log.config) == {"a": 1}
    assert wandb_run.runtime_seconds(log) == 12
    frame = wandb_run._source_data(Path("x.wandb"), log, "failed", []).frame
    values = _values(frame, "train", "loss") | _values(frame, "train", "grad_norm")
    assert math.isnan(_values(frame, "train", "loss")[0])
    assert _values(frame, "train", "grad_norm") == {0: math.inf} and len(values) == 1


def test_exit_record_without_code_means_success() -> None:
    log = wandb_run.parse_records([_record(1, "exit", {})])
    assert log.exit_code == 0


def test_log_without_exit_record_is_interrupted() -> None:
    items = [_record(n, "history", {"item": {"_step": n, "loss": 1.0}}) for n in range(1234)]
    log = wandb_run.parse_records(items)
    status, warning = wandb_run._binary_status(Path("run-x.wandb"), log)
    assert status == "interrupted"
    assert warning is not None and "no exit record after 1,234 history rows" in warning


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"peft_config": {"default": {"peft_type": "LORA", "r": 8}}}, "lora"),
        (
            {
                "peft_config": {"default": {"peft_type": "LORA"}},
                "quantization_config": {"load_in_4bit": True},
            },
            "qlora",
        ),
        ({"peft_config": {"default": {"peft_type": "PREFIX_TUNING"}}}, "prefix_tuning"),
        ({"lora_r": 16, "lora_alpha": 32}, "lora"),
        ({"lora_r": 16, "use_peft": False}, None),
        ({"finetuning_type": "lora", "quantization_bit": 4}, "qlora"),
        ({"finetuning_type": "full"}, "full"),
        ({"learning_rate": 1e-5}, None),
    ],
)
def test_method_from_config(config: dict[str, Any], expected: str | None) -> None:
    assert wandb_run.method(config) == expected


def test_hardware_cpu_and_redacted_fields() -> None:
    environment = {"host": "<redacted>", "gpu": "<redacted>", "cpu_count": 4}
    assert wandb_run.hardware(environment) == {
        "device": "cpu",
        "device_name": "CPU (4 cores)",
        "count": 1,
    }
    assert wandb_run.hardware({}) is None


# ---------------------------------------------------------------------------- online


def test_online_without_credentials_says_how_to_log_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with pytest.raises(SourceError, match="set WANDB_API_KEY or run `wandb login`"):
        wandb_run.read_online("entity/project/abc123")
    with pytest.raises(SourceError, match="entity/project/run_id"):
        wandb_run.read_online("just-a-name")


class _FakeRun:
    """What `wandb.Api().run()` hands back, without the network."""

    def __init__(self) -> None:
        self.name = "fake-run"
        self.state = "crashed"
        self.config = {"_name_or_path": "org/model", "lora_alpha": 16, "_wandb": {"x": 1}}
        self.summary_metrics = {"train/loss": 0.5, "train_runtime": 9.5, "_runtime": 10.0}
        self.metadata = {"gpu": "NVIDIA H100 80GB HBM3", "gpu_count": 8, "host": "<redacted>"}

    def scan_history(self) -> list[dict[str, Any]]:
        return [
            {"_step": 0, "_runtime": 1.0, "train/global_step": 5, "train/loss": 0.9},
            {"_step": 1, "_runtime": 2.0, "train/global_step": 10, "train/loss": "NaN"},
            {"_step": 2, "_runtime": 3.0, "train/global_step": 10, "eval/loss": 0.7},
        ]


def test_online_run_is_mapped_like_a_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb

    class FakeApi:
        def __init__(self, timeout: int) -> None:
            assert timeout > 0

        def run(self, ref: str) -> _FakeRun:
            assert ref == "ent/proj/abc123"
            return _FakeRun()

    monkeypatch.setenv("WANDB_API_KEY", "not-a-real-key")
    monkeypatch.setattr(wandb, "Api", FakeApi)
    data = wandb_run.read_online("ent/proj/abc123")
    assert data.status == "interrupted" and "crashed" in data.warnings[0]
    loss = _values(data.frame, "train", "loss")
    assert loss[5] == 0.9 and math.isnan(loss[10])
    assert _values(data.frame, "eval", "loss") == {10: 0.7}
    assert _values(data.frame, "train", "runtime_s") == {10: 9.5}
    assert data.model == "org/model" and data.method == "lora" and data.name == "fake-run"
    assert data.hardware == {"device": "cuda", "device_name": "NVIDIA H100 80GB HBM3", "count": 8}
    assert data.runtime_s == 10.0 and "_wandb" not in data.config


def test_online_errors_become_one_line_source_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import wandb

    class FailingApi:
        def __init__(self, timeout: int) -> None:
            raise ConnectionError("Could not resolve host\nmore detail")

    monkeypatch.setenv("WANDB_API_KEY", "not-a-real-key")
    monkeypatch.setattr(wandb, "Api", FailingApi)
    with pytest.raises(SourceError, match="Could not resolve host") as caught:
        wandb_run.read_online("ent/proj/abc123")
    assert "\n" not in str(caught.value)


@pytest.mark.skipif(
    not os.environ.get("WANDB_API_KEY") or not os.environ.get("GSMREPORT_WANDB_TEST_RUN"),
    reason="online W&B test: needs WANDB_API_KEY and GSMREPORT_WANDB_TEST_RUN=entity/project/id",
)
def test_online_run_reads_every_history_row() -> None:
    data = wandb_run.read_online(os.environ["GSMREPORT_WANDB_TEST_RUN"])
    assert data.kind == "wandb" and data.frame.height > 0
    assert data.config["summary"]
