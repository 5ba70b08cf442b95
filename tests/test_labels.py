"""Labels from the right place: training length, precision and method come from the training
arguments (or a LoRA/PEFT config), never from a model config's defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gsmreport.ingest import hf_config
from gsmreport.ingest.importer import import_paths
from gsmreport.ingest.labels import precision, sequence_length, with_quantization
from gsmreport.report.compare_tables import flatten
from gsmreport.report.sections import key_settings
from tests.conftest import shared_data

RAJA = ("real-logs", "wandb", "raja17021998+LLM-AIL-821-Project", "wandb")
JADEANT = "JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews"


def _rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in flatten(config).items()]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"max_length": 20, "max_seq_length": 512}, ("max_seq_length", 512)),
        ({"max_length": 20}, None),  # a W&B config's generation default
        ({"training_args": {"max_length": 1024}}, ("training_args.max_length", 1024)),
        ({"training": {"max_length": 256}}, ("training.max_length", 256)),
        ({"model_config": {"max_length": 20}, "cutoff_len": 2048}, ("cutoff_len", 2048)),
    ],
)
def test_sequence_length_only_from_training_arguments(
    config: dict[str, Any], expected: tuple[str, int] | None
) -> None:
    assert sequence_length(flatten(config)) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"bf16": False, "fp16": False, "torch_dtype": "bfloat16"}, "fp32 (bf16 and fp16 off)"),
        ({"torch_dtype": "bfloat16"}, None),  # the weights' dtype is not a training precision
        ({"training_args": {"bf16": True}, "model_config": {"torch_dtype": "float32"}}, "bf16"),
        ({"fp16": True, "bf16": False}, "fp16"),
        ({"training": {"precision": "bf16"}}, "bf16"),
    ],
)
def test_precision_never_from_torch_dtype(config: dict[str, Any], expected: str | None) -> None:
    found = precision(flatten(config))
    assert (found[0] if found else None) == expected


def test_four_bit_alone_is_not_qlora() -> None:
    assert with_quantization(None, True) is None
    assert with_quantization("lora", True) == "qlora"
    assert with_quantization("lora", False) == "lora"


def test_quantized_config_without_adapter_names_no_method(tmp_path: Path) -> None:
    config = {
        "_name_or_path": "meta-llama/Llama-3.2-1B",
        "model_type": "llama",
        "quantization_config": {"load_in_4bit": True},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert hf_config.read_beside(tmp_path).method is None


def test_real_wandb_config_labels(tmp_path: Path) -> None:
    """raja's W&B config: `max_length: 20` at the top (PretrainedConfig's generation default)
    beside fp16 = True in the training arguments, as the raw config.yaml says."""
    run = next(shared_data(*RAJA).glob("run-*"))
    raw = yaml.safe_load((run / "files" / "config.yaml").read_text())
    values = {k: v.get("value") for k, v in raw.items() if isinstance(v, dict)}
    assert values["max_length"] == 20 and values["fp16"] is True and values["bf16"] is False
    (outcome,) = import_paths(tmp_path / "runs", [run])
    record = yaml.safe_load((tmp_path / "runs" / str(outcome.run_id) / "run.yaml").read_text())
    flat = flatten(record["config"])
    assert sequence_length(flat) is None
    assert precision(flat) == ("fp16", "fp16")
    labels = {s.label: s.value for s in key_settings(_rows(record["config"]))}
    assert "max length" not in labels and labels["precision"] == "True"


def test_real_tensorboard_labels(tmp_path: Path) -> None:
    """JadeAnt's run: bf16 and fp16 off in the training args, the model config says
    torch_dtype bfloat16 and a 4-bit quantisation config, and no LoRA config anywhere."""
    folder = shared_data("real-logs", "tensorboard", JADEANT, "logs_llama")
    (outcome,) = import_paths(tmp_path / "runs", [next(folder.glob("*1733898811*"))])
    record = yaml.safe_load((tmp_path / "runs" / str(outcome.run_id) / "run.yaml").read_text())
    config = record["config"]
    assert config["model_config"]["torch_dtype"] == "bfloat16"
    assert config["model_config"]["quantization_config"]["load_in_4bit"] is True
    assert (config["training_args"]["bf16"], config["training_args"]["fp16"]) == (False, False)
    assert record["method"] is None
    found = precision(flatten(config))
    assert found is not None and found[0] == "fp32 (bf16 and fp16 off)"
    labels = [(s.label, s.key) for s in key_settings(_rows(config))]
    assert ("precision", "model_config.torch_dtype") not in labels
