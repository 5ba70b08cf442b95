"""lm-eval's results JSON read into the fields of our results.json: the model, the task's
config and few-shot count, hardware, timestamps, versions. lm-eval writes "N/A" and NaN where
a number is missing; `finite_number` reads those as None.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any


def finite_number(value: Any) -> float | None:
    """A finite number, or None (bools, strings such as lm-eval's "N/A", NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def as_int(value: Any) -> int | None:
    number = finite_number(value)
    return int(number) if number is not None else None


def task_config(data: dict[str, Any] | None, task: str) -> dict[str, Any]:
    configs = data.get("configs") if data else None
    config = configs.get(task) if isinstance(configs, dict) else None
    return config if isinstance(config, dict) else {}


def per_task(data: dict[str, Any] | None, key: str, task: str) -> Any:
    block = data.get(key) if data else None
    return block.get(task) if isinstance(block, dict) else None


def model_args(config: dict[str, Any]) -> dict[str, str]:
    """`pretrained=microsoft/Phi-3-mini-4k-instruct,dtype=float16` (or a dict, newer)."""
    raw = config.get("model_args")
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if not isinstance(raw, str):
        return {}
    pairs = (part.split("=", 1) for part in raw.split(",") if "=" in part)
    return {k.strip(): v.strip() for k, v in pairs}


def run_config(data: dict[str, Any] | None) -> dict[str, Any]:
    config = data.get("config") if data else None
    return config if isinstance(config, dict) else {}


def model_name(data: dict[str, Any]) -> str | None:
    """The model evaluated: `pretrained=` (HF, vLLM) or `model=` (APIs) of model_args, else
    lm-eval's own `model_name` (config.model is the backend, e.g. "hf", not a model)."""
    args = model_args(run_config(data))
    for candidate in (args.get("pretrained"), args.get("model"), data.get("model_name")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _n_shot(data: dict[str, Any] | None, task: str) -> int | None:
    n_shot = per_task(data, "n-shot", task)
    if n_shot is None:
        n_shot = task_config(data, task).get("num_fewshot")
    return as_int(n_shot)


def n_effective(data: dict[str, Any] | None, task: str) -> int | None:
    block = per_task(data, "n-samples", task)
    return as_int(block.get("effective") if isinstance(block, dict) else None)


def prompt_style(data: dict[str, Any] | None, task: str) -> str:
    n_shot = _n_shot(data, task)
    style = "lm-eval" if n_shot is None else f"lm-eval {n_shot}-shot"
    return f"{style} chat" if data and data.get("chat_template") else style


def created_at(stamp: str | None, data: dict[str, Any] | None) -> str | None:
    """lm-eval's file timestamp (local time of its machine, no zone), else its `date`."""
    try:
        if stamp:
            return dt.datetime.strptime(stamp.split(".")[0], "%Y-%m-%dT%H-%M-%S").isoformat()
        date = finite_number(data.get("date")) if data else None
        return (
            dt.datetime.fromtimestamp(date, dt.UTC).isoformat(timespec="seconds") if date else None
        )
    except (ValueError, OverflowError, OSError):  # a stamp-shaped name that is no date
        return None


def hardware(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """Device from lm-eval's config; the GPU's name from the `GPU <i>: …` line of its env."""
    device = str(run_config(data).get("device") or "")
    kind, _, index = device.partition(":")
    if not kind:
        return None
    if kind != "cuda":
        return {"device": kind, "device_name": "CPU" if kind == "cpu" else device, "count": 1}
    env = str(data.get("pretty_env_info") or "") if data else ""
    match = re.search(rf"^GPU {re.escape(index or '0')}: (.+)$", env, re.MULTILINE)
    name = match.group(1).strip() if match else "GPU (name not recorded)"
    return {"device": "cuda", "device_name": name, "count": 1}


def versions(data: dict[str, Any] | None) -> dict[str, str]:
    keys = {"lm_eval": "lm_eval_version", "transformers": "transformers_version"}
    return {name: str(data[key]) for name, key in keys.items() if data and data.get(key)}


def runtime(data: dict[str, Any] | None) -> float | None:
    raw = data.get("total_evaluation_time_seconds") if data else None
    try:
        return round(float(raw), 3) if raw is not None else None
    except (TypeError, ValueError):
        return None


def filter_names(data: dict[str, Any] | None, task: str) -> list[str]:
    listed = task_config(data, task).get("filter_list")
    names = (
        [f.get("name") for f in listed if isinstance(f, dict)] if isinstance(listed, list) else []
    )
    return [n for n in names if isinstance(n, str)]


def max_new_tokens(config: dict[str, Any]) -> int | None:
    kwargs = config.get("generation_kwargs")
    return as_int(kwargs.get("max_gen_toks") if isinstance(kwargs, dict) else None)
