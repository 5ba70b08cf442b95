"""Run and evaluation configs: pydantic models, unknown keys rejected, YAML in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gsmreport.core.errors import ConfigError, NotFoundError

# How a GSM8K question is asked (gsm8k/prompts.py builds each); part of the config schema.
PromptStyle = Literal["zero-shot", "one-shot", "5-shot", "8-shot"]


class _Strict(BaseModel):
    # Validators are built at first use, not at import: most commands (`runs`, `ingest`,
    # `render`) import these models through the CLI and never validate one (~20 ms).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class DataConfig(_Strict):
    source: Literal["gsm8k", "alpaca", "messages", "custom"] = "gsm8k"
    """Data set family:
    `gsm8k` ({question, answer} ending in `#### n`; Hub `openai/gsm8k` or a folder of jsonl),
    `alpaca` ({instruction, input, output}; Hub `vicgalle/alpaca-gpt4` or a local jsonl/parquet),
    `messages` (chat jsonl with a `messages` list of {role, content}),
    `custom` (any jsonl/parquet; `fields` maps its columns to prompt and completion)."""
    hub_id: str | None = None
    """Hub data set id when `path` is not set; None means the family's default."""
    path: str | None = None
    """Local folder (train.jsonl/test.jsonl) or a single jsonl/parquet file; None: the Hub."""
    subset: Literal["main", "socratic"] = "main"
    """GSM8K configuration when loading from the Hub (or *_socratic.jsonl locally)."""
    fields: dict[str, str] | None = None
    """For `custom`: {"prompt": COLUMN, "completion": COLUMN}; optional for the others to
    rename their standard columns (e.g. {"question": "problem"})."""
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
    modules_to_save: list[str] | None = None
    """Modules trained in full beside the adapters (e.g. `lm_head`, `embed_tokens`)."""


class TrainingSettings(_Strict):
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = -1
    """Stop after this many optimizer steps; -1 means use `epochs`."""
    learning_rate: float = Field(default=2e-4, gt=0)
    lr_scheduler: Literal["linear", "cosine", "cosine_with_min_lr", "constant"] = "linear"
    min_lr: float | None = Field(default=None, ge=0)
    """Floor of `cosine_with_min_lr` (e.g. 1e-6); required by that scheduler."""
    warmup_ratio: float = Field(default=0.0, ge=0.0, lt=1.0)
    weight_decay: float = Field(default=0.0, ge=0.0)
    optimizer: Literal["adamw_torch", "adamw_bnb_8bit"] = "adamw_torch"
    """`adamw_bnb_8bit` needs CUDA and bitsandbytes; elsewhere it falls back to adamw_torch
    with a printed warning."""
    batch_size: int = Field(default=8, ge=1)
    """Per device."""
    grad_accum: int = Field(default=1, ge=1)
    max_length: int = Field(default=512, ge=16)
    packing: bool = False
    gradient_checkpointing: bool = False
    """Recompute activations to save memory (use_reentrant=False)."""
    logging_steps: int = Field(default=1, ge=1)
    eval_steps: int | None = Field(default=None, ge=1)
    """Compute eval loss every N steps; None: five times over the run."""
    save_steps: int | None = Field(default=None, ge=1)
    """Write a checkpoint every N steps (for --resume); None: at every eval."""
    save_total_limit: int = Field(default=2, ge=1)
    """Checkpoints kept on disk (the best one is always kept)."""
    early_stopping_patience: int | None = Field(default=None, ge=1)
    """Stop after this many evaluations without a lower eval loss; None: never stop early."""
    load_best_model_at_end: bool = True
    """Save the checkpoint with the lowest eval loss as the run's model (needs a validation
    split)."""
    seed: int = 42
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    """`auto` picks bf16 where the device supports it, else fp32."""

    @model_validator(mode="after")
    def _min_lr_needed(self) -> TrainingSettings:
        if self.lr_scheduler == "cosine_with_min_lr" and self.min_lr is None:
            raise ValueError("lr_scheduler cosine_with_min_lr needs training.min_lr (e.g. 1e-6)")
        return self

    @model_validator(mode="after")
    def _best_needs_aligned_saves(self) -> TrainingSettings:
        # The best checkpoint can only be one that was saved right after an evaluation.
        if (
            self.load_best_model_at_end
            and self.save_steps is not None
            and self.eval_steps is not None
            and self.save_steps % self.eval_steps
        ):
            raise ValueError(
                f"save_steps ({self.save_steps}) must be a multiple of eval_steps "
                f"({self.eval_steps}) when load_best_model_at_end is true"
            )
        return self


class LoggingSettings(_Strict):
    wandb: Literal["disabled", "offline", "online"] = "disabled"
    """Mirror the metrics to Weights & Biases (`online` needs `wandb login`)."""
    wandb_project: str = "gsmreport"
    tensorboard: bool = False
    """Also write TensorBoard event files under the run's logs/tensorboard/."""


class LaunchSettings(_Strict):
    num_processes: int = Field(default=1, ge=1)
    """Processes (GPUs) per node; above 1 the job goes through `accelerate launch`."""
    accelerate_config: str | None = None
    """An `accelerate config` YAML (DDP, FSDP or DeepSpeed); implies `accelerate launch`."""
    nodes: int = Field(default=1, ge=1)
    """Nodes for a SLURM job (`--slurm`); each runs `num_processes` processes."""


class TrainConfig(_Strict):
    """What `gsmreport train CONFIG.yaml` reads."""

    run_id: str | None = None
    """Run id (slug); default: derived from the config file name."""
    model: str
    """Hub id (e.g. `google/gemma-2-2b-it`) or a local folder with a model."""
    method: Literal["lora", "qlora", "full"] = "lora"
    """`qlora` loads the base model in 4-bit (CUDA and bitsandbytes only)."""
    data: DataConfig = Field(default_factory=DataConfig)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    launch: LaunchSettings = Field(default_factory=LaunchSettings)
    prompt_template: str = "Question: {question}\nAnswer:"
    """Used when the tokenizer has no chat template; `{question}` is replaced."""
    price_per_device_hour: float | None = Field(default=None, ge=0)
    """USD per device-hour for the cost figure; None uses the dated default table."""

    @model_validator(mode="after")
    def _early_stopping_needs_eval(self) -> TrainConfig:
        if self.training.early_stopping_patience is not None and self.data.val_fraction == 0:
            raise ValueError(
                "training.early_stopping_patience watches the eval loss: it needs "
                "data.val_fraction > 0"
            )
        return self


class EvalConfig(_Strict):
    """What `gsmreport eval` runs."""

    model: str
    """Model folder or Hub id to evaluate (for a trained run: its saved model)."""
    adapter: str | None = None
    """A LoRA adapter folder applied on top of `model`."""
    data: DataConfig = Field(default_factory=DataConfig)
    split: Literal["test", "train", "validation"] = "test"
    """`validation`: the run's held-out share of train (same seed and fraction as training)."""
    n: int | None = Field(default=100, ge=1)
    """Number of problems, a seeded sample of the split; None for all (1,319 in GSM8K test)."""
    seed: int = 1234
    batch_size: int = Field(default=16, ge=1)
    max_new_tokens: int = Field(default=256, ge=1)
    prompt_style: PromptStyle = "zero-shot"
    """`zero-shot`: the question as a chat turn (or `prompt_template`); `one-shot`: the
    gemma-2b-it study's instruction and worked example; `5-shot`/`8-shot`: lm-eval's
    `Question: …\nAnswer:` exemplars drawn from the train split with `fewshot_seed`."""
    fewshot_seed: int = 1234
    stop: list[str] = Field(default_factory=lambda: ["Question:", "</s>", "<|im_end|>"])
    """Generation stops at the first of these strings (lm-eval's gsm8k `until`)."""
    prompt_template: str = "Question: {question}\nAnswer:"
    gold_loss: bool = True
    """Also record each problem's teacher-forced loss of the gold solution (`loss` in
    samples.jsonl); it feeds the outliers analysis."""
    num_processes: int = Field(default=1, ge=1)
    """Data-parallel processes (one per GPU) through `accelerate launch`: each generates
    whole batches of the one-process plan, rank 0 merges and scores. Results are the same."""
    device_map: Literal["auto"] | None = None
    """`auto`: spread one model over every visible GPU (accelerate's device_map), for a model
    larger than one GPU; None: the whole model on one device."""

    @model_validator(mode="after")
    def _one_scale_out(self) -> EvalConfig:
        problem = scale_conflict(self.num_processes, self.device_map)
        if problem:
            raise ValueError(problem)
        return self


def scale_conflict(num_processes: int, device_map: str | None) -> str | None:
    """Why these two evaluation settings cannot go together, or None (the CLI, the TUI form
    and study files all say it in these words)."""
    if device_map is not None and num_processes > 1:
        return (
            f"device_map {device_map} spreads one model over all GPUs in one process; it "
            f"cannot run in {num_processes} processes: use one of num_processes or device_map"
        )
    return None


M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path, what: str = "") -> Any:
    """The YAML document at `path`; unparsable or unreadable is one ConfigError line that
    names the file and line (`what`, e.g. "accelerate config", says which kind of file)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        kind = f"{what} is " if what else ""
        problem = getattr(exc, "problem", exc)
        raise ConfigError(f"{where}: {kind}not valid YAML ({problem})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: {what or 'file'} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what or 'it'} ({exc.strerror or exc})") from exc


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping: PyYAML keeps the last
    silently, so `learning_rate` set twice would train with whichever came last, unnoticed."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} given twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)  # type: ignore[arg-type]


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A settings file's mapping (an empty file is {}); a missing file is NotFoundError."""
    if not path.is_file():
        raise NotFoundError(f"config file not found: {path}")
    data = read_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def load_yaml_model(path: Path, model: type[M], overrides: dict[str, Any] | None = None) -> M:
    """Read YAML at `path` into `model`; any problem becomes one ConfigError line."""
    data = read_yaml_mapping(path)
    if model is TrainConfig:  # a preset's relative paths are relative to the preset itself
        from gsmreport.core.preset_paths import anchor_paths

        data = anchor_paths(data, path.parent)
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value)
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


def set_dotted(data: dict[str, Any], dotted: str, value: Any, where: str = "") -> None:
    """data["a"]["b"] = value for dotted "a.b", creating sections on the way."""
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            prefix = f"{where}: " if where else ""
            raise ConfigError(f"{prefix}override {dotted!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = value


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` strings (train and study alike) into a dict; values are read as YAML
    scalars (`2`, `true`, `1e-5`), an empty value is null."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. training.max_steps=20")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML ({exc})") from exc
        out[key.strip()] = _number(value)
    return out


def _number(value: Any) -> Any:
    # YAML 1.1 reads `1e-5` (no dot) as a string; on a command line it is plainly a number.
    if isinstance(value, str):
        try:
            return float(value) if any(c in value for c in ".eE") else int(value)
        except ValueError:
            return value
    return value


def dump_yaml(model: BaseModel) -> str:
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False)
