"""A `WandbLog` put in our terms: metric rows, model, method, hardware, runtime, status."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from gsmreport.ingest.labels import is_4bit, peft_method, with_quantization
from gsmreport.ingest.schema import frame_from_rows, rows_from_log
from gsmreport.ingest.source import SourceData
from gsmreport.ingest.wandb_run.legacy import WANDB_CONFIG_KEYS
from gsmreport.ingest.wandb_run.records import WandbLog
from gsmreport.ingest.wandb_run.records import number as _number
from gsmreport.ingest.wandb_run.system import system_rows

SOURCE = "wandb"
Status = Literal["completed", "interrupted", "failed"]
# HF's W&B callback logs the optimizer step as `train/global_step`; `_step` is W&B's own
# counter of `log()` calls, right only when the script logged once per step.
_STEP_KEYS = ("train/global_step", "global_step", "_step")
_EPOCH_KEYS = ("train/epoch", "epoch")
_TRAIN_RUNTIME_KEYS = ("train/train_runtime", "train_runtime")
_MODEL_KEYS = ("_name_or_path", "model_name_or_path", "model_name")
_REDACTED = "<redacted>"


def _first_number(item: Mapping[str, Any], keys: Iterable[str]) -> float | None:
    for key in keys:
        number = _number(item.get(key))
        if number is not None and math.isfinite(number):
            return number
    return None


def _metrics(item: Mapping[str, Any]) -> dict[str, Any]:
    """Numeric entries only, non-finite strings as floats; `_`-keys are W&B's own, not metrics."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        number = _number(value)
        if number is not None and not key.startswith("_"):
            out[key] = number
    return out


def _item_rows(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of one history record (or of a summary standing in for history)."""
    return rows_from_log(
        _metrics(item),
        run_id="",
        source=SOURCE,
        step=_first_number(item, _STEP_KEYS),
        epoch=_first_number(item, _EPOCH_KEYS),
        wall_time=_first_number(item, ("_runtime",)),
    )


def _summary_rows(
    summary: Mapping[str, Any], history: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rows for summary keys no history record holds (HF's train_runtime, train_loss, …).

    Keys that history holds are left out: there the summary only repeats the last value.
    The rows sit at the summary's step, as HF's final log entry does in trainer_state.json.
    """
    logged = set().union(*(item.keys() for item in history))
    only_here = {k: v for k, v in summary.items() if k not in logged}
    last = history[-1] if history else {}
    step = _first_number(summary, _STEP_KEYS)
    step = step if step is not None else _first_number(last, _STEP_KEYS)
    epoch = _first_number(summary, _EPOCH_KEYS)
    return rows_from_log(
        _metrics(only_here),
        run_id="",
        source=SOURCE,
        step=step,
        epoch=epoch if epoch is not None else _first_number(last, _EPOCH_KEYS),
    )


def _rows(log: WandbLog, origin: Path, warnings: list[str]) -> list[dict[str, Any]]:
    if not log.history:
        if log.summary:
            warnings.append(f"{origin}: no history: only the final summary")
        rows = _item_rows(log.summary)
    else:
        # Summary rows first so that, on a clash of canonical names, history's row wins.
        rows = _summary_rows(log.summary, log.history)
        for item in log.history:
            rows.extend(_item_rows(item))
    if not rows:
        warnings.append(f"{origin}: no metrics with a step found")
    return rows


def model_name(config: Mapping[str, Any]) -> str | None:
    for key in _MODEL_KEYS:
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    for adapter in _adapters(config):
        base = adapter.get("base_model_name_or_path")
        if isinstance(base, str) and base.strip():
            return base.strip()
    return None


def _adapters(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    # HF's Trainer logs a PeftModel's config as {"peft_config": {adapter_name: {...}}}.
    peft = config.get("peft_config")
    if not isinstance(peft, dict):
        return []
    if "peft_type" in peft or "r" in peft:
        return [peft]  # a single adapter's config logged directly
    return [a for a in peft.values() if isinstance(a, dict)]


def method(config: Mapping[str, Any]) -> str | None:
    """lora | qlora | full (or another PEFT type, lowercased) when the config says; else None.

    Decided from what the trainer logged, never guessed from the model: HF's Trainer puts a
    PeftModel's `peft_config` in the W&B config (its `peft_type` names the method); hand-made
    setups log keys such as `lora_r`/`lora_alpha` (unless `use_peft`/`use_lora` is false,
    since TRL's ModelConfig logs lora_* defaults even then); LLaMA-Factory logs
    `finetuning_type`. LoRA on a 4-bit base is "qlora"; on an 8-bit base it stays "lora",
    since QLoRA names the 4-bit recipe.
    """
    finetuning = config.get("finetuning_type")
    if finetuning == "full":
        return "full"
    found = _peft_method(config)
    if found is None and (finetuning == "lora" or _has_lora_keys(config)):
        found = "lora"
    return with_quantization(found, _is_4bit(config))


def _peft_method(config: Mapping[str, Any]) -> str | None:
    types = {str(a.get("peft_type") or "LORA").upper() for a in _adapters(config)}
    if not types:
        return None
    return peft_method("LORA" if "LORA" in types else sorted(types)[0])


def _has_lora_keys(config: Mapping[str, Any]) -> bool:
    if config.get("use_peft") is False or config.get("use_lora") is False:
        return False
    return any(key.startswith("lora_") for key in config)


def _is_4bit(config: Mapping[str, Any]) -> bool:
    flat = config.get("load_in_4bit") is True or config.get("quantization_bit") == 4
    return is_4bit(config.get("quantization_config")) or flat


def hardware(environment: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"device", "device_name", "count"} from an environment record or wandb-metadata.json.

    `count` is the GPUs W&B saw on the machine, which is not always how many the run used:
    neither file records the world size.
    """
    if not environment:
        return None
    gpus = [g for g in environment.get("gpu_nvidia") or [] if isinstance(g, dict)]
    name = _text(environment.get("gpu")) or _text(environment.get("gpu_type"))
    name = name or (_text(gpus[0].get("name")) if gpus else None)
    count = environment.get("gpu_count")
    count = count if isinstance(count, int) and not isinstance(count, bool) else len(gpus)
    if name and count > 0:
        return {"device": "cuda", "device_name": name, "count": count}
    apple = environment.get("apple")
    if isinstance(apple, dict) and _text(apple.get("name")):
        return {"device": "mps", "device_name": _text(apple.get("name")), "count": 1}
    return {"device": "cpu", "device_name": _cpu_name(environment), "count": 1}


def _cpu_name(environment: Mapping[str, Any]) -> str:
    cpu = environment.get("cpu")
    model = _text(cpu.get("model")) if isinstance(cpu, dict) else None
    cores = environment.get("cpu_count")
    suffix = f" ({cores} cores)" if isinstance(cores, int) and not isinstance(cores, bool) else ""
    return f"{model or 'CPU'}{suffix}"


def _text(value: Any) -> str | None:
    return (
        value.strip() if isinstance(value, str) and value.strip() not in ("", _REDACTED) else None
    )


def runtime_seconds(log: WandbLog) -> float | None:
    """Wall time of the whole run: the latest of W&B's clocks, else HF's train_runtime.

    The largest is taken, not the last: wandb 0.31 writes a final summary `_runtime: 0`.
    """
    wandb_block = log.summary.get("_wandb")
    clocks = [
        _number(log.summary.get("_runtime")),
        _number(log.summary.get("_wandb.runtime")),
        _number(wandb_block.get("runtime")) if isinstance(wandb_block, dict) else None,
        _number(log.history[-1].get("_runtime")) if log.history else None,
        log.exit_runtime,
    ]
    finite = [c for c in clocks if c is not None and math.isfinite(c) and c > 0]
    return max(finite) if finite else _first_number(log.summary, _TRAIN_RUNTIME_KEYS)


def _scalar_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    # Histograms and media in the summary are large nested objects, not facts about the run.
    return {
        k: v for k, v in summary.items() if v is None or isinstance(v, str | int | float | bool)
    }


def binary_status(path: Path, log: WandbLog) -> tuple[Status, str | None]:
    rows = f"{len(log.history):,} history rows"
    if log.exit_code is not None:
        if log.exit_code == 0:
            return "completed", None
        return "failed", f"{path}: the run exited with code {log.exit_code}"
    if log.truncated:
        return (
            "interrupted",
            f"{path}: log ends mid-record after {rows} (the run was killed?); kept what was read",
        )
    return "interrupted", (
        f"{path}: log has no exit record after {rows} (the run was killed, or is still "
        "running?); kept what was read"
    )


def run_times(log: WandbLog, status: Status) -> tuple[str | None, str | None]:
    """(started_at, finished_at) as ISO times: the run record's start (else the metadata's
    `startedAt`), and start + runtime for a run that ended (a killed run's end is unknown)."""
    start = run_start(log.start_time) or run_start(log.environment.get("startedAt"))
    if start is None:
        return None, None
    runtime = runtime_seconds(log)
    end = start + dt.timedelta(seconds=runtime) if runtime and status != "interrupted" else None
    return start.isoformat(), end.isoformat() if end else None


def run_start(stamp: Any) -> dt.datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        # W&B writes nanoseconds ("...13.577117016Z"); datetime takes at most microseconds.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
        when = dt.datetime.fromisoformat(trimmed)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def source_data(path: Path, log: WandbLog, status: Status, warnings: list[str]) -> SourceData:
    warnings = [*warnings, *log.notes]
    frame = frame_from_rows([*_rows(log, path, warnings), *system_rows(log, SOURCE)])
    # The .wandb log and the API give plain values (config.yaml was flattened on reading);
    # W&B's own bookkeeping is dropped here for all three.
    config = {k: v for k, v in log.config.items() if k not in WANDB_CONFIG_KEYS}
    config["summary"] = _scalar_summary(log.summary)
    started_at, finished_at = run_times(log, status)
    return SourceData(
        kind="wandb",
        path=path,
        frame=frame,
        warnings=warnings,
        config=config,
        model=model_name(log.config),
        method=method(log.config),
        status=status,
        hardware=hardware(log.environment),
        runtime_s=runtime_seconds(log),
        started_at=started_at,
        finished_at=finished_at,
        name=log.name,
    )
