"""The train form without the widgets: its fields, the presets, validation, the CLI command.

A form is a preset YAML plus the fields the user changed. Each field is validated the way
`gsmreport train PRESET --set key=value` would validate it (config.validate_model), so the
form and the command it previews accept and refuse exactly the same things.
"""

from __future__ import annotations

import copy
import shlex
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gsmreport.core.config import TrainConfig, validate_model
from gsmreport.core.errors import ConfigError, GsmReportError
from gsmreport.core.runs import RunStore, validate_run_id
from gsmreport.core.settings import Dirs

Kind = Literal["text", "optional_text", "int", "optional_int", "float", "choice"]
FORM = "form"  # the `where` of validate_model's messages; cut off before they are shown


@dataclass(frozen=True)
class Field:
    key: str  # dotted config key, as in `--set key=value`
    label: str
    kind: Kind
    hint: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed values of a choice field, read from the config model itself."""
        return _literal_args(self.key)

    @property
    def widget_id(self) -> str:
        return "field-" + self.key.replace(".", "-").replace("_", "-")


FIELDS: tuple[Field, ...] = (
    Field("run_id", "run id", "optional_text", "empty: from the preset's file name"),
    Field("model", "model", "text", "local folder or Hub id"),
    Field("method", "method", "choice"),
    Field("data.path", "data path", "optional_text", "empty: the Hub"),
    Field("data.max_samples", "max samples", "optional_int", "empty: all"),
    Field("training.epochs", "epochs", "float"),
    Field("training.max_steps", "max steps", "int", "-1: use epochs"),
    Field("training.learning_rate", "learning rate", "float"),
    Field("training.lr_scheduler", "scheduler", "choice"),
    Field("training.batch_size", "batch size", "int"),
    Field("training.grad_accum", "grad accumulation", "int"),
    Field("training.max_length", "max length", "int"),
    Field("lora.r", "LoRA r", "int"),
    Field("lora.alpha", "LoRA alpha", "int"),
    Field("lora.dropout", "LoRA dropout", "float"),
    Field("training.logging_steps", "logging steps", "int", "a curve point every N steps"),
    Field("training.eval_steps", "eval steps", "optional_int", "empty: 5 per run"),
    Field("training.early_stopping_patience", "early stop patience", "optional_int", "empty: off"),
    Field("training.seed", "seed", "int"),
    Field("logging.wandb", "W&B mode", "choice"),
)
BY_KEY = {f.key: f for f in FIELDS}


def _literal_args(key: str) -> tuple[str, ...]:
    model: Any = TrainConfig
    annotation: Any = None
    for part in key.split("."):
        annotation = typing.get_type_hints(model)[part]
        model = annotation
    return tuple(str(a) for a in typing.get_args(annotation))


def discover_presets(root: Path = Path("configs")) -> list[Path]:
    """The CPU demos first, then the top-level presets, then every study preset."""
    found = [
        *sorted(root.glob("demo/*.yaml")),
        *sorted(root.glob("*.yaml")),
        *sorted(root.glob("studies/**/*.yaml")),
    ]
    return list(dict.fromkeys(found))


def read_preset(path: Path) -> dict[str, Any]:
    """The preset's raw mapping, validated as a TrainConfig (one ConfigError line if not)."""
    from gsmreport.core.config import read_yaml_mapping
    from gsmreport.core.preset_paths import anchor_paths

    # Anchored as `gsmreport train` anchors them: the form shows the folders it will use.
    data = anchor_paths(read_yaml_mapping(path), path.parent)
    validate_model(data, TrainConfig, where=str(path))  # the same checks as `gsmreport train`
    return data


def preset_texts(raw: dict[str, Any]) -> dict[str, str]:
    """Each field's starting text: the preset's value with the config defaults filled in."""
    cfg = TrainConfig.model_validate(raw).model_dump(mode="json")
    return {f.key: _text(_get(cfg, f.key)) for f in FIELDS}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def raw_value(field: Field, text: str) -> Any:
    """What the field's text stands for before validation: None for an empty optional,
    the text itself otherwise (pydantic converts "3" to 3 and names what is wrong)."""
    text = text.strip()
    if field.kind.startswith("optional") and not text:
        return None
    return text


def field_error(field: Field, text: str, raw: dict[str, Any], dirs: Dirs) -> str | None:
    """The one-line problem with this field's text (the preset supplying the rest), or None."""
    value = raw_value(field, text)
    data = copy.deepcopy(raw)
    _set(data, field.key, value)
    try:
        validate_model(data, TrainConfig, where=FORM)
        _check_paths(field, value, dirs)
    except GsmReportError as exc:
        return str(exc).removeprefix(f"{FORM}: ")
    return None


def _check_paths(field: Field, value: Any, dirs: Dirs) -> None:
    """What pydantic cannot know: a missing model or data folder, a taken run id."""
    from gsmreport.pipeline import resolve_model

    if field.key == "model":
        resolve_model(str(value))
    elif field.key == "data.path" and value is not None:
        if not Path(str(value)).expanduser().is_dir():
            raise ConfigError(f"data folder not found: {value}")
    elif (
        field.key == "run_id"
        and value is not None
        and RunStore(dirs.runs).exists(validate_run_id(str(value)))
    ):
        raise ConfigError(f"run {value!r} already exists: choose another id")


def overrides(texts: dict[str, str], raw: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value differs from the preset's, typed as the config types them;
    raises ConfigError when the form as a whole does not validate."""
    data = copy.deepcopy(raw)
    for key, text in texts.items():
        _set(data, key, raw_value(BY_KEY[key], text))
    cfg = validate_model(data, TrainConfig, where=FORM).model_dump(mode="json")
    base = TrainConfig.model_validate(raw).model_dump(mode="json")
    return {f.key: _get(cfg, f.key) for f in FIELDS if _get(cfg, f.key) != _get(base, f.key)}


def command_preview(preset: Path, texts: dict[str, str], start: dict[str, str]) -> str:
    """`gsmreport train PRESET [--run-id ID] --set key=value …` for the fields whose text
    differs from the preset's, values as the user typed them (valid or not)."""
    parts = ["gsmreport", "train", str(preset)]
    for field in FIELDS:
        text = texts.get(field.key, "").strip()
        if text == start.get(field.key, "").strip():
            continue
        value = raw_value(field, text)
        if field.key == "run_id" and value is not None:
            parts += ["--run-id", str(value)]
        else:
            parts += ["--set", f"{field.key}={'null' if value is None else value}"]
    return shlex.join(parts)
