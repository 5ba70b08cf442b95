"""What the files a Trainer leaves beside its log say about the run: model, method, results.

A checkpoint folder holds `adapter_config.json` (PEFT), sometimes the model's `config.json`,
`training_args.bin`; the output folder above it holds `all_results.json` & co. and, for
LLaMA-Factory, `training_args.yaml`. None of them is needed to import the metrics, so a
broken one costs a warning, never the import.

`training_args.bin` is a pickle and is deliberately never opened: unpickling runs whatever
code the file names, and a log someone downloaded is not trusted code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gsmreport.ingest.files import SourceError, load_json, read_text, require_mapping
from gsmreport.ingest.labels import is_4bit, peft_method, with_quantization
from gsmreport.ingest.source import SourceData

ADAPTER = "adapter_config.json"
MODEL_CONFIG = "config.json"
RESULTS = ("train_results.json", "eval_results.json", "all_results.json")
LF_ARGS = "training_args.yaml"
PICKLED_ARGS = "training_args.bin"
PICKLE_WARNING = "training_args.bin not read: it is a pickle, and unpickling can run code"

_CHECKPOINT_RE = re.compile(r"^checkpoint-\d+$")
_LORA_KEYS = (
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "modules_to_save",
    "bias",
    "peft_type",
)
_MODEL_KEYS = ("model_type", "architectures", "torch_dtype", "quantization_config")
# Full fine-tunes save the weights beside config.json; an adapter checkpoint does not.
_WEIGHT_GLOBS = ("model.safetensors", "model-*.safetensors", "pytorch_model*.bin")


@dataclass
class Beside:
    """What the side files said. `config` keys: lora, model_config, results, training_args."""

    config: dict[str, Any] = field(default_factory=dict)
    model: str | None = None
    method: str | None = None
    runtime_s: float | None = None
    warnings: list[str] = field(default_factory=list)


def search_folders(folder: Path) -> list[Path]:
    """The folder itself, then the output folder above it when it is a `checkpoint-N`.

    Other parents are not searched: a `config.json` two levels up from a log someone saved in
    their downloads says nothing about that run.
    """
    return [folder, folder.parent] if _CHECKPOINT_RE.match(folder.name) else [folder]


def _find(folders: list[Path], name: str) -> Path | None:
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _json_object(path: Path, what: str, warnings: list[str]) -> dict[str, Any] | None:
    try:
        return require_mapping(load_json(path), path, what)
    except SourceError as err:
        warnings.append(f"{err} (side file skipped)")
        return None


def _plain(value: Any) -> Any:
    """YAML's extra types (dates, non-string keys) as JSON ones: configs are written as JSON too."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _yaml_object(path: Path, warnings: list[str]) -> dict[str, Any] | None:
    try:
        loaded = yaml.safe_load(read_text(path))
        plain = _plain(loaded)
    except SourceError as err:
        warnings.append(f"{err} (side file skipped)")
        return None
    except yaml.YAMLError as exc:
        problem = (str(exc).splitlines() or [type(exc).__name__])[0]
        warnings.append(f"{path}: not valid YAML ({problem}) (side file skipped)")
        return None
    except RecursionError:  # deep nesting, or an anchor that contains itself
        warnings.append(f"{path}: YAML nested too deeply to read (side file skipped)")
        return None
    if not isinstance(plain, dict):
        warnings.append(f"{path}: expected a YAML mapping of arguments (side file skipped)")
        return None
    return plain


def _read_adapter(path: Path, out: Beside) -> None:
    adapter = _json_object(path, "a PEFT adapter config", out.warnings)
    if adapter is None:
        return
    out.config["lora"] = {k: adapter[k] for k in _LORA_KEYS if k in adapter}
    base = adapter.get("base_model_name_or_path")
    if isinstance(base, str) and base:
        out.model = base
    out.method = peft_method(adapter.get("peft_type"))


def _read_model_config(path: Path, out: Beside) -> None:
    model_config = _json_object(path, "a model config", out.warnings)
    if model_config is None or not any(k in model_config for k in ("model_type", "_name_or_path")):
        return  # some other tool's config.json: not ours to interpret
    out.config["model_config"] = {k: model_config[k] for k in _MODEL_KEYS if k in model_config}
    name = model_config.get("_name_or_path")
    if out.model is None and isinstance(name, str) and name:
        out.model = name
    if is_4bit(model_config.get("quantization_config")):
        # LoRA on it is QLoRA; a 4-bit base with no adapter config names no method.
        out.method = with_quantization(out.method, True)
    elif out.method is None and any(any(path.parent.glob(g)) for g in _WEIGHT_GLOBS):
        out.method = "full"


def _read_results(folders: list[Path], out: Beside) -> None:
    merged: dict[str, Any] = {}
    for name in RESULTS:  # all_results last: it is the union, so it wins on a disagreement
        path = _find(folders, name)
        results = _json_object(path, "a results object", out.warnings) if path else None
        merged.update(results or {})
    if merged:
        out.config["results"] = merged
        runtime = merged.get("train_runtime")
        if isinstance(runtime, int | float) and not isinstance(runtime, bool):
            out.runtime_s = float(runtime)


def _read_llamafactory_args(path: Path, out: Beside) -> None:
    args = _yaml_object(path, out.warnings)
    if args is None:
        return
    out.config["training_args"] = args
    name = args.get("model_name_or_path")
    if out.model is None and isinstance(name, str) and name:
        out.model = name
    kind = args.get("finetuning_type")
    if out.method is None and isinstance(kind, str):
        out.method = kind
    out.method = with_quantization(out.method, args.get("quantization_bit") == 4)
    if "lora" not in out.config and kind == "lora":
        renamed = {"r": "lora_rank", "lora_alpha": "lora_alpha", "lora_dropout": "lora_dropout"}
        lora = {ours: args[theirs] for ours, theirs in renamed.items() if theirs in args}
        if "lora_target" in args:
            lora["target_modules"] = args["lora_target"]
        out.config["lora"] = lora


_READERS: tuple[tuple[str, Callable[[Path, Beside], None]], ...] = (
    (ADAPTER, _read_adapter),
    (MODEL_CONFIG, _read_model_config),
    (LF_ARGS, _read_llamafactory_args),
)


def read_beside(folder: Path) -> Beside:
    """Read every known side file in `folder` (and its output folder, for a checkpoint).

    The checkpoint's own copy wins over the output folder's: it belongs to the state read.
    """
    folders = search_folders(folder)
    out = Beside()
    for name, reader in _READERS:
        path = _find(folders, name)
        if path is not None:
            reader(path, out)
    _read_results(folders, out)
    pickled = _find(folders, PICKLED_ARGS)
    if pickled is not None:
        out.warnings.append(f"{pickled.parent}: {PICKLE_WARNING}")
    return out


def apply(data: SourceData, beside: Beside) -> None:
    """Merge side-file facts into what a reader found, never overwriting the log's own."""
    for key, value in beside.config.items():
        data.config.setdefault(key, value)
    data.model = data.model or beside.model
    data.method = data.method or beside.method
    if data.runtime_s is None:
        data.runtime_s = beside.runtime_s
    data.warnings.extend(beside.warnings)
