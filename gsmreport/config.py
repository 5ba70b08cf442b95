"""Run and evaluation configs: pydantic models, unknown keys rejected, YAML in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gsmreport.errors import ConfigError, NotFoundError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Strict):
    source: Literal["gsm8k"] = "gsm8k"
    """Data set family. GSM8K-format jsonl ({question, answer} ending in `#### n`)."""
    path: str | None = None
    """Local folder holding train.jsonl/test.jsonl; None loads `openai/gsm8k` from the Hub."""
    subset: Literal["main", "socratic"] = "main"
    """GSM8K configuration when loading from the Hub (or *_socratic.jsonl locally)."""
    max_samples: int | None = Field(default=None, ge=1)
    """Use at most this many training examples (seeded sample); None for all."""
    val_fraction: float = Field(default=0.1, ge=0.0, lt=1.0)
    """Share of the training file held out for eval loss (seeded split)."""
    seed: int = 0
    """Seed of the sample and the split."""


class LoraSettings(_Strict):
    r: int = Field(default=8, ge=1)
    alpha: int = Field(default=16, ge=1)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)
    bias: Literal["none", "all", "lora_only"] = "none"
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class TrainingSettings(_Strict):
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = -1
    """Stop after this many optimizer steps; -1 means use `epochs`."""
    learning_rate: float = Field(default=2e-4, gt=0)
    lr_scheduler: Literal["linear", "cosine", "constant"] = "linear"
    warmup_ratio: float = Field(default=0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    batch_size: int = Field(default=8, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    max_length: int = Field(default=512, ge=16)
    logging_steps: int = Field(default=1, ge=1)
    eval_steps: int | None = Field(default=None, ge=1)
    """Compute eval loss every N steps; None: five times over the run."""
    seed: int = 42
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """`auto` picks bf16 where the device supports it, else fp32."""


class TrainConfig(_Strict):
    """What `gsmreport train CONFIG.yaml` reads."""

    run_id: str | None = None
    """Run id (slug); default: derived from the config file name."""
    model: str
    """Hub id (e.g. `google/gemma-2-2b-it`) or a local folder with a model."""
    method: Literal["lora", "full"] = "lora"
    data: DataConfig = Field(default_factory=DataConfig)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    prompt_template: str = "Question: {question}\nAnswer:"
    """Used when the tokenizer has no chat template; `{question}` is replaced."""
    price_per_device_hour: float | None = Field(default=None, ge=0)
    """USD per device-hour for the cost figure; None uses the dated default table."""


class EvalConfig(_Strict):
    """What `gsmreport eval` runs."""

    model: str
    """Model folder or Hub id to evaluate (for a trained run: its saved model)."""
    adapter: str | None = None
    """A LoRA adapter folder applied on top of `model`."""
    data: DataConfig = Field(default_factory=DataConfig)
    split: Literal["test", "train"] = "test"
    n: int = Field(default=100, ge=1)
    """Number of problems, a seeded sample of the split."""
    seed: int = 1234
    batch_size: int = Field(default=16, ge=1)
    max_new_tokens: int = Field(default=256, ge=1)
    prompt_style: Literal["zero-shot", "one-shot"] = "zero-shot"
    prompt_template: str = "Question: {question}\nAnswer:"


M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: Path, model: type[M], overrides: dict[str, Any] | None = None) -> M:
    """Read YAML at `path` into `model`; any problem becomes one ConfigError line."""
    if not path.is_file():
        raise NotFoundError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
    return validate_model(data, model, where=str(path))


def validate_model(data: dict[str, Any], model: type[M], *, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            msg = f"{where}: unknown key '{loc}' (check the spelling; see configs/ for examples)"
        else:
            msg = f"{where}: '{loc}': {err['msg']}"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(msg) from exc


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {dotted!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = value


def dump_yaml(model: BaseModel) -> str:
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False)
