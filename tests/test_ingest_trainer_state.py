"""trainer_state.json import: real files from other people's runs, folders, side files, TRL."""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gsmreport.ingest import hf_config
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.schema import SCHEMA, canonical
from gsmreport.ingest.trainer_state import read
from tests.conftest import shared_data

TRAINER_STATE_FILES = (
    "Dheena731+tinyLlama-finetune__trainer_state.json",
    "MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json",
    "YuZh98+finetune-gsm8k__results_first-round_extracted_trainer_state_run2_r16_seed43.json",
    "syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json",
)
EMPTY_HISTORY = "shaiiikh+Math-Riddle-Factory__outputs_trainer_state.json"
JADEANT = (
    "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews__fine_tuned_optimized_llama_"
    "checkpoint-1593_trainer_state.json",
    "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews__lora_4bit_llama_"
    "checkpoint-1593_trainer_state.json",
)


def _real(name: str) -> Path:
    folder = "tensorboard" if name.startswith("JadeAnt") else "trainer_state"
    return shared_data("real-logs", folder, name)


def _series(frame: pl.DataFrame, split: str, metric: str) -> pl.DataFrame:
    return frame.filter((pl.col("split") == split) & (pl.col("metric") == metric)).sort("step")


def _expected_rows(history: list[dict[str, Any]]) -> set[tuple[int, str, str]]:
    """(step, split, metric) of every numeric value in the history, worked out independently."""
    out = set()
    for entry in history:
        for key, value in entry.items():
            names = canonical(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if names is not None and numeric and "step" in entry:
                out.add((entry["step"], *names))
    return out


def _write_state(folder: Path, history: Sequence[object], **state: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "trainer_state.json"
    path.write_text(json.dumps({"global_step": 0, **state, "log_history": history}))
    return path


# --- every real file --------------------------------------------------------------------


def test_the_list_covers_every_shared_trainer_state() -> None:
    folder = shared_data("real-logs", "trainer_state")
    on_disk = {p.name for p in folder.glob("*.json")}
    assert on_disk == {*TRAINER_STATE_FILES, EMPTY_HISTORY}


@pytest.mark.parametrize("name", TRAINER_STATE_FILES + JADEANT)
def test_every_real_trainer_state_reads_completely(name: str) -> None:
    path = _real(name)
    data = read(path)
    state = json.loads(path.read_text())
    assert data.kind == "trainer_state" and data.path == path
    assert data.frame.schema == pl.Schema(SCHEMA)
    assert data.frame.get_column("source").unique().to_list() == ["trainer_state"]
    got = set(data.frame.select("step", "split", "metric").iter_rows())
    assert got == _expected_rows(state["log_history"])
    assert data.config["global_step"] == state["global_step"]
    assert data.config["max_steps"] == state["max_steps"]


def test_empty_log_history_is_one_clear_error() -> None:
    path = _real(EMPTY_HISTORY)
    with pytest.raises(SourceError) as info:
        read(path)
    message = str(info.value)
    assert message == f"{path}: no log entries (empty log_history): nothing to import"


def test_bare_infinity_grad_norm_is_kept_as_inf() -> None:
    path = _real("MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json")
    assert "Infinity" in path.read_text()
    data = read(path)
    grad = _series(data.frame, "train", "grad_norm").get_column("value")
    infinite = [v for v in grad.to_list() if math.isinf(v)]
    assert infinite == [math.inf]
    assert data.status == "completed" and data.runtime_s == pytest.approx(507.7691)
    assert _series(data.frame, "train", "train_loss_avg").get_column("value").to_list() == [
        pytest.approx(0.46727486635957444)
    ]


def test_trl_sft_token_accuracy_and_fourteen_evals() -> None:
    data = read(_real("Dheena731+tinyLlama-finetune__trainer_state.json"))
    accuracy = _series(data.frame, "train", "mean_token_accuracy")
    assert accuracy.height > 100
    assert accuracy.get_column("value")[0] == pytest.approx(0.5809640631079673)
    evals = _series(data.frame, "eval", "loss")
    assert evals.height == 14
    assert evals.get_column("step").to_list() == list(range(200, 2801, 200))
    assert _series(data.frame, "eval", "mean_token_accuracy").height == 14
    assert _series(data.frame, "train", "num_tokens").height == accuracy.height


def test_checkpoint_before_max_steps_is_interrupted() -> None:
    data = read(_real("Dheena731+tinyLlama-finetune__trainer_state.json"))
    assert data.status == "interrupted"
    assert any("step 2800 of max_steps 2808" in w for w in data.warnings)
    assert data.config["best_model_checkpoint"] == "./results/checkpoint-2800"
    assert data.config["eval_steps"] == 200 and data.config["train_batch_size"] == 2
    assert data.runtime_s is None  # a checkpoint has no final summary


def test_trl_entropy_and_summary() -> None:
    data = read(
        _real(
            "YuZh98+finetune-gsm8k__results_first-round_extracted_trainer_state_run2_r16_seed43.json"
        )
    )
    entropy = _series(data.frame, "train", "entropy")
    assert entropy.height > 50 and entropy.get_column("value")[0] == pytest.approx(0.54555519)
    assert data.runtime_s == pytest.approx(2909.2418)
    assert _series(data.frame, "train", "samples_per_second").get_column("value").to_list() == [
        6.875
    ]
    assert data.status == "completed" and not data.warnings


def test_git_lfs_pointer_trainer_state() -> None:
    path = shared_data(
        "real-logs", "edge_cases", "Observer-18+nlp__checkpoint-1000_trainer_state.json"
    )
    with pytest.raises(SourceError, match="git lfs pull"):
        read(path)


# --- folders ----------------------------------------------------------------------------


def _copy_with_step(source: Path, folder: Path, step: int) -> Path:
    """A real state cut back to `step`, as the checkpoint saved at that step would hold it."""
    state = json.loads(source.read_text())
    state["global_step"] = step
    state["log_history"] = [e for e in state["log_history"] if e.get("step", 0) <= step]
    folder.mkdir(parents=True)
    path = folder / "trainer_state.json"
    path.write_text(json.dumps(state))
    return path


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    source = _real("syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json")
    out = tmp_path / "out"
    _copy_with_step(source, out / "checkpoint-100", 100)
    _copy_with_step(source, out / "checkpoint-200", 200)
    (out / "checkpoint-300").mkdir()  # being written when the run died: no state yet
    return out


def test_output_folder_reads_the_newest_checkpoint(output_dir: Path) -> None:
    data = read(output_dir)
    assert data.path == output_dir / "checkpoint-200" / "trainer_state.json"
    assert f"{output_dir}: 2 checkpoints, read the newest (checkpoint-200)" in data.warnings
    assert data.frame.get_column("step").max() == 200
    assert data.config["global_step"] == 200
    assert data.status == "interrupted"  # 200 of 8,660 steps


def test_checkpoint_folder_itself(output_dir: Path) -> None:
    data = read(output_dir / "checkpoint-100")
    assert data.path == output_dir / "checkpoint-100" / "trainer_state.json"
    assert data.frame.get_column("step").max() == 100


def test_top_level_state_preferred_when_not_behind(output_dir: Path) -> None:
    source = _real("syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json")
    (output_dir / "trainer_state.json").write_bytes(source.read_bytes())
    data = read(output_dir)
    assert data.path == output_dir / "trainer_state.json"
    assert data.status == "completed" and data.runtime_s == pytest.approx(20387.7129)
    assert not any("checkpoints" in w for w in data.warnings)


def test_stale_top_level_state_loses_to_a_newer_checkpoint(output_dir: Path) -> None:
    stale = output_dir / "stale"
    _copy_with_step(_real("syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json"), stale, 150)
    (stale / "trainer_state.json").rename(output_dir / "trainer_state.json")
    assert read(output_dir).path == output_dir / "checkpoint-200" / "trainer_state.json"


def test_top_level_state_at_the_same_step_wins(output_dir: Path) -> None:
    """The usual end of a run: checkpoint-N saved, then the same state written at the top."""
    same = output_dir / "same"
    _copy_with_step(_real("syGOAT+Mistral-v0.2-Translator-bf16__trainer_state.json"), same, 200)
    (same / "trainer_state.json").rename(output_dir / "trainer_state.json")
    data = read(output_dir)
    assert data.path == output_dir / "trainer_state.json"
    assert not any("checkpoints" in w for w in data.warnings)


def test_checkpoints_are_ordered_by_number_not_name(tmp_path: Path) -> None:
    for step in (9, 10):
        _write_state(
            tmp_path / f"checkpoint-{step}", [{"loss": 1.0, "step": step}], global_step=step
        )
    assert read(tmp_path).path.parent.name == "checkpoint-10"


def test_broken_top_level_state_falls_back_to_checkpoints(tmp_path: Path) -> None:
    _write_state(tmp_path / "checkpoint-5", [{"loss": 1.0, "step": 5}], global_step=5)
    (tmp_path / "trainer_state.json").write_text("version https://git-lfs.github.com/spec/v1\n")
    data = read(tmp_path)
    assert data.path.parent.name == "checkpoint-5"
    assert any("git lfs pull" in w and "checkpoints instead" in w for w in data.warnings)


def test_folder_without_any_state(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-3").mkdir()
    with pytest.raises(SourceError) as info:
        read(tmp_path)
    assert str(info.value).startswith(f"{tmp_path}: no trainer_state.json here")


# --- side files -------------------------------------------------------------------------


class _Tripwire:
    """Unpickling this creates a file: proof that the reader unpickled training_args.bin."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (Path.touch, (self.marker,))


def _checkpoint_with_side_files(root: Path) -> Path:
    checkpoint = root / "checkpoint-20"
    _write_state(checkpoint, [{"loss": 1.0, "step": 20}], global_step=20, max_steps=20)
    adapter = {
        "base_model_name_or_path": "google/gemma-2-2b-it",
        "r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "v_proj"],
        "modules_to_save": None,
        "bias": "none",
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
    }
    (checkpoint / "adapter_config.json").write_text(json.dumps(adapter))
    (root / "all_results.json").write_text(json.dumps({"train_runtime": 12.5, "epoch": 1.0}))
    (root / "eval_results.json").write_text(json.dumps({"eval_loss": 0.7}))
    (checkpoint / "training_args.bin").write_bytes(pickle.dumps(_Tripwire(root / "UNPICKLED")))
    return checkpoint


def test_side_files_give_model_method_lora_and_results(tmp_path: Path) -> None:
    checkpoint = _checkpoint_with_side_files(tmp_path)
    data = read(checkpoint)
    assert data.model == "google/gemma-2-2b-it" and data.method == "lora"
    assert data.config["lora"] == {
        "r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "v_proj"],
        "modules_to_save": None,
        "bias": "none",
        "peft_type": "LORA",
    }
    assert data.config["results"] == {"train_runtime": 12.5, "epoch": 1.0, "eval_loss": 0.7}
    assert data.runtime_s == 12.5  # the state has no summary; all_results.json has it
    assert data.config["global_step"] == 20  # the state's own keys stay


def test_training_args_bin_is_never_unpickled(tmp_path: Path) -> None:
    data = read(_checkpoint_with_side_files(tmp_path))
    assert not (tmp_path / "UNPICKLED").exists()
    warning = "training_args.bin not read: it is a pickle, and unpickling can run code"
    assert any(w.endswith(warning) for w in data.warnings)


def test_quantized_base_model_config_means_qlora(tmp_path: Path) -> None:
    checkpoint = _checkpoint_with_side_files(tmp_path)
    config = {
        "_name_or_path": "Qwen/Qwen2.5-3B",
        "model_type": "qwen2",
        "quantization_config": {"load_in_4bit": True, "quant_method": "bitsandbytes"},
    }
    (checkpoint / "config.json").write_text(json.dumps(config))
    data = read(checkpoint)
    assert data.method == "qlora"
    assert data.model == "google/gemma-2-2b-it"  # the adapter names its base first


def test_full_fine_tune_checkpoint(tmp_path: Path) -> None:
    _write_state(tmp_path, [{"loss": 1.0, "step": 1}], global_step=1)
    config = {"_name_or_path": "HuggingFaceTB/SmolLM2-135M", "model_type": "llama"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    data = read(tmp_path)
    assert (data.model, data.method) == ("HuggingFaceTB/SmolLM2-135M", "full")


def test_llamafactory_training_args_yaml(tmp_path: Path) -> None:
    _write_state(tmp_path, [{"loss": 1.0, "step": 1}], global_step=1)
    (tmp_path / "training_args.yaml").write_text(
        "model_name_or_path: mistralai/Mistral-7B-v0.2\nfinetuning_type: lora\n"
        "quantization_bit: 4\nlora_rank: 8\nlora_alpha: 16\nlora_target: all\n"
    )
    data = read(tmp_path)
    assert (data.model, data.method) == ("mistralai/Mistral-7B-v0.2", "qlora")
    assert data.config["training_args"]["lora_rank"] == 8
    assert data.config["lora"] == {"r": 8, "lora_alpha": 16, "target_modules": "all"}


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("adapter_config.json", "{broken", "not valid JSON"),
        ("adapter_config.json", "[1, 2]", "expected a PEFT adapter config"),
        ("all_results.json", "version https://git-lfs.github.com/spec/v1\n", "git lfs pull"),
        ("training_args.yaml", "a: [unclosed\n", "not valid YAML"),
        ("training_args.yaml", "- just a list\n", "expected a YAML mapping"),
        ("training_args.yaml", "a: &a [*a]\n", "nested too deeply"),
        ("config.json", "\x00\x01binary", "binary data"),
    ],
)
def test_bad_side_file_is_a_warning_not_a_failure(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    _write_state(tmp_path, [{"loss": 1.0, "step": 1}], global_step=1)
    (tmp_path / name).write_text(content)
    data = read(tmp_path)
    assert data.frame.height == 1
    side = [w for w in data.warnings if name in w]
    assert len(side) == 1 and fragment in side[0] and "\n" not in side[0]


def test_side_files_of_an_unrelated_parent_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"_name_or_path": "not-this-run"}))
    _write_state(tmp_path / "logs", [{"loss": 1.0, "step": 1}], global_step=1)
    assert read(tmp_path / "logs").model is None
    assert hf_config.search_folders(tmp_path / "logs") == [tmp_path / "logs"]


# --- TRL trainers and odd histories -----------------------------------------------------

DPO_ENTRY = {
    "loss": 0.6931,
    "grad_norm": 3.2,
    "learning_rate": 5e-7,
    "rewards/chosen": 0.012,
    "rewards/rejected": -0.004,
    "rewards/accuracies": 0.625,
    "rewards/margins": 0.016,
    "logps/chosen": -312.5,
    "logps/rejected": -298.1,
    "logits/chosen": -2.71,
    "logits/rejected": -2.69,
    "epoch": 0.1,
    "step": 10,
}
GRPO_ENTRY = {
    "loss": 0.0,
    "reward": 0.4375,
    "reward_std": 0.31,
    "rewards/correctness_reward/mean": 0.25,
    "kl": 0.00081,
    "completions/mean_length": 212.4,
    "completions/clipped_ratio": 0.0625,
    "frac_reward_zero_std": 0.5,
    "entropy": 0.71,
    "learning_rate": 1e-6,
    "num_tokens": 48213.0,
    "epoch": 0.02,
    "step": 5,
}


def test_dpo_metrics_pass_through(tmp_path: Path) -> None:
    evaluation = {"eval_loss": 0.68, "eval_rewards/margins": 0.05, "epoch": 0.1, "step": 10}
    data = read(_write_state(tmp_path, [DPO_ENTRY, evaluation], global_step=10, max_steps=10))
    train = dict(data.frame.filter(pl.col("split") == "train").select("metric", "value").rows())
    assert train["rewards/margins"] == 0.016 and train["logps/rejected"] == -298.1
    assert train["logits/chosen"] == -2.71 and train["rewards/accuracies"] == 0.625
    evals = dict(data.frame.filter(pl.col("split") == "eval").select("metric", "value").rows())
    assert evals == {"loss": 0.68, "rewards/margins": 0.05}


def test_grpo_metrics_pass_through(tmp_path: Path) -> None:
    data = read(_write_state(tmp_path, [GRPO_ENTRY], global_step=5, max_steps=5))
    metrics = dict(data.frame.select("metric", "value").rows())
    assert metrics["kl"] == 0.00081 and metrics["completions/mean_length"] == 212.4
    assert metrics["rewards/correctness_reward/mean"] == 0.25 and metrics["reward_std"] == 0.31
    assert len(metrics) == len(GRPO_ENTRY) - 2  # everything but epoch and step


def test_summary_only_history_is_imported_with_a_warning(tmp_path: Path) -> None:
    summary = {"train_runtime": 9.0, "train_loss": 1.2, "total_flos": 1.0, "step": 6, "epoch": 2.0}
    data = read(_write_state(tmp_path, [summary], global_step=6, max_steps=6))
    assert set(data.frame.get_column("metric")) == {"runtime_s", "train_loss_avg", "total_flos"}
    assert any("only the final summary" in w for w in data.warnings)
    assert data.runtime_s == 9.0


def test_early_stopping_with_summary_counts_as_completed(tmp_path: Path) -> None:
    history = [{"loss": 1.0, "step": 40}, {"train_runtime": 9.0, "train_loss": 1.1, "step": 40}]
    data = read(_write_state(tmp_path, history, global_step=40, max_steps=100))
    assert data.status == "completed"
    assert any("early stopping" in w for w in data.warnings)


def test_entries_without_step_or_metrics_are_counted(tmp_path: Path) -> None:
    history = [{"loss": 1.0, "step": 1}, {"loss": 0.9}, "junk", {"step": 2, "note": "x"}]
    data = read(_write_state(tmp_path, history, global_step=2))
    assert data.frame.height == 1
    assert any(
        "3 log_history entr(y/ies) without a step or metrics skipped" in w for w in data.warnings
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"global_step": 3}', "no `log_history` list"),
        ('{"log_history": {"a": 1}}', "no `log_history` list"),
        ("[1, 2]", "no `log_history` list"),
        ('{"log_history": [{"note": "x"}]}', "nothing to import"),
        ("", "empty file"),
    ],
)
def test_bad_state_is_one_source_error_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "run__trainer_state.json"
    path.write_text(content)
    with pytest.raises(SourceError) as info:
        read(path)
    assert str(info.value).startswith(str(path)) and fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read(tmp_path / "nope.json")
