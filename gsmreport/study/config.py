"""A study file (configs/studies/*.yaml): several training runs, their evaluation, baselines.

A study is the unit the seed studies were written up in: shared `defaults` (TrainConfig
fields), one entry per run that overrides them, the evaluation every trained run gets, and
base models evaluated beside them. It resolves into one TrainConfig per run and one
EvalConfig per evaluation, so every typo is a one-line ConfigError before anything runs.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gsmreport.core.config import (
    EvalConfig,
    PromptStyle,
    TrainConfig,
    load_yaml_model,
    set_dotted,
    validate_model,
)
from gsmreport.core.errors import ConfigError
from gsmreport.core.runs import RUN_ID_RE

_SLUG = RUN_ID_RE.pattern
# Per-run or per-baseline fields: an `eval` section that set them would be ambiguous.
_EVAL_OWN_KEYS = ("model", "adapter", "prompt_template")


class StudyRun(BaseModel):
    """One training run: an id plus any TrainConfig fields that differ from `defaults`."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=_SLUG)
    """Run id inside the study; the run folder is `<study>-<id>`."""

    @property
    def overrides(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StudyBaseline(BaseModel):
    """A model evaluated as it is (no training), e.g. the base model of the study's runs."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_SLUG)
    model: str | None = None
    """Model to evaluate; None: the `defaults.model` of the study."""
    prompt_style: PromptStyle = "zero-shot"


class StudyConfig(BaseModel):
    """What `gsmreport study FILE` reads."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_SLUG)
    """Study id: run folders are `<name>-<run id>`, the report reports/compare-<name>/."""
    description: str = ""
    defaults: dict[str, Any] = Field(default_factory=dict)
    """TrainConfig fields shared by every run (see configs/ for the full list)."""
    runs: list[StudyRun] = Field(min_length=1)
    eval: dict[str, Any] | None = None
    """EvalConfig fields for every evaluation (trained runs and baselines); None: no GSM8K
    evaluation (e.g. an instruction-tuning study, compared on eval loss only). Without its
    own `data.path`, the evaluation reads the local data of `defaults.data.path`."""
    baselines: list[StudyBaseline] = Field(default_factory=list)

    @field_validator("eval")
    @classmethod
    def _eval_has_no_model(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for key in _EVAL_OWN_KEYS:
            if value is not None and key in value:
                raise ValueError(f"'{key}' belongs to a run or a baseline, not to eval")
        return value


# --- resolution ------------------------------------------------------------------------------


class PlannedRun(BaseModel):
    """One step of a study: train (and maybe evaluate) a run, or evaluate a baseline."""

    run_id: str
    kind: Literal["train", "eval"]
    train: TrainConfig | None = None
    eval: EvalConfig | None = None
    """For a trained run: model/adapter are placeholders, the run's saved model is used."""


class StudyPlan(BaseModel):
    study: StudyConfig
    runs: list[PlannedRun]

    @property
    def ids(self) -> list[str]:
        return [r.run_id for r in self.runs]


class Replacements(BaseModel):
    """What the command line changes in every run: `--model`, `--data`, `--set`, `--eval-n`."""

    model: str | None = None
    data: str | None = None
    sets: dict[str, Any] = Field(default_factory=dict)
    """Dotted keys: `eval.*` goes to the evaluation settings, anything else to each run."""
    eval_n: int | None = None


def load_study(path: Path, replace: Replacements | None = None) -> StudyPlan:
    """Read, validate and resolve a study file; every problem is one ConfigError line."""
    study = load_yaml_model(path, StudyConfig)
    return resolve(study, replace or Replacements(), where=str(path))


def resolve(study: StudyConfig, replace: Replacements, *, where: str) -> StudyPlan:
    ids = [r.id for r in study.runs] + [b.id for b in study.baselines]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ConfigError(f"{where}: run id {duplicated[0]!r} is used twice in the study")
    for run_id in ids:
        full = f"{study.name}-{run_id}"
        if not RUN_ID_RE.fullmatch(full):
            raise ConfigError(f"{where}: run id {full!r} is longer than 64 characters")
    eval_cfg = _eval_config(study, replace, where)
    planned = [
        PlannedRun(
            run_id=f"{study.name}-{run.id}",
            kind="train",
            train=_train_config(study, run, replace, where),
            eval=eval_cfg,
        )
        for run in study.runs
    ]
    for base in study.baselines:
        if eval_cfg is None:
            raise ConfigError(f"{where}: baseline {base.id!r} needs an eval section to run")
        model = replace.model or base.model or study.defaults.get("model")
        if not isinstance(model, str):
            raise ConfigError(f"{where}: baseline {base.id!r} needs a model (or defaults.model)")
        cfg = eval_cfg.model_copy(update={"model": model, "prompt_style": base.prompt_style})
        planned.append(PlannedRun(run_id=f"{study.name}-{base.id}", kind="eval", eval=cfg))
    return StudyPlan(study=study, runs=planned)


def _train_config(
    study: StudyConfig, run: StudyRun, replace: Replacements, where: str
) -> TrainConfig:
    data = _deep_merge(study.defaults, run.overrides)
    for key, value in replace.sets.items():
        if not key.startswith("eval."):
            set_dotted(data, key, value, where)
    if replace.model is not None:
        data["model"] = replace.model
    if replace.data is not None:
        set_dotted(data, "data.path", replace.data, where)
    data.pop("run_id", None)  # the study names its runs
    return validate_model(data, TrainConfig, where=f"{where}: run {run.id!r}")


def _eval_config(study: StudyConfig, replace: Replacements, where: str) -> EvalConfig | None:
    if study.eval is None:
        extra = [k for k in replace.sets if k.startswith("eval.")]
        if extra or replace.eval_n is not None:
            what = extra[0] if extra else "--eval-n"
            raise ConfigError(f"{where}: {what} given, but the study has no eval section")
        return None
    data: dict[str, Any] = copy.deepcopy(study.eval)
    for key, value in replace.sets.items():
        if key.startswith("eval."):
            set_dotted(data, key.removeprefix("eval."), value, where)
    if replace.eval_n is not None:
        data["n"] = replace.eval_n
    shared, own = study.defaults.get("data"), data.get("data")
    local = shared.get("path") if isinstance(shared, dict) else None
    if replace.data is not None:
        set_dotted(data, "data.path", replace.data, where)
    elif local is not None and not (isinstance(own, dict) and "path" in own):
        # Training on local files and then scoring on the Hub is never what was meant.
        set_dotted(data, "data.path", local, where)
    # The model is per run; a placeholder lets the rest validate now, before any training.
    data["model"] = "<per run>"
    return validate_model(data, EvalConfig, where=f"{where}: eval")


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
