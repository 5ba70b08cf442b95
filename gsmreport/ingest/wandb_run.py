"""Read a Weights & Biases run into the metrics table: its `.wandb` log, its `files/`, or online.

The `.wandb` file is a protobuf transaction log whose layout W&B changes between versions, so it
is read by W&B's own reader, `python -m wandb leet inspect --json`, in a subprocess: one JSON
record per line, e.g. `{"num":129,"type":"history","history":{"item":{...},"step":{"num":0}}}`.
The subprocess also keeps wandb's import time and background service out of this process.

Records used: `run` (display name, the config given to `wandb.init`), `config` (updates),
`history` (one `wandb.log` call), `summary` (updates), `environment` (host facts and GPUs, written
by wandb >= 0.19; older runs keep them in `files/wandb-metadata.json`), `exit` (exit code).
Skipped unparsed: `output_raw` (console), `stats` (system metrics), `telemetry`, `files`,
`metric`, `header` — most of a long run's records.

The reader prints NaN and ±inf as the strings "NaN", "Infinity", "-Infinity" (JSON has no such
numbers); they are turned back into floats so the table keeps them, as DESIGN.md asks.

`files/output.log` is never parsed for metrics: it is console text (tqdm bars, prints) whose
metric lines repeat what history already holds, in a format nobody guarantees.
"""

from __future__ import annotations

import json
import logging
import math
import netrc
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import urlparse

import yaml

from gsmreport.ingest import files
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.schema import frame_from_rows, json_number, rows_from_log
from gsmreport.ingest.source import SourceData

SOURCE = "wandb"
Status = Literal["completed", "interrupted", "failed"]

_LOG = logging.getLogger(__name__)
_MAGIC = b":W&B"  # first bytes of every .wandb file (W&B's leveldb-style log header)
_WANTED = frozenset({"run", "config", "history", "summary", "environment", "exit"})
_TYPE_MARK = '"type":"'
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# HF's W&B callback logs the optimizer step as `train/global_step`; `_step` is W&B's own
# counter of `log()` calls, right only when the script logged once per step.
_STEP_KEYS = ("train/global_step", "global_step", "_step")
_EPOCH_KEYS = ("train/epoch", "epoch")
_TRAIN_RUNTIME_KEYS = ("train/train_runtime", "train_runtime")
_MODEL_KEYS = ("_name_or_path", "model_name_or_path", "model_name")
_WANDB_CONFIG_KEYS = frozenset({"_wandb", "wandb_version"})
_REDACTED = "<redacted>"
_RUN_DIR_RE = re.compile(r"^(offline-)?run-\d{8}_\d{6}-.+$")
_LEGACY_FILES = ("wandb-history.jsonl", "wandb-summary.json", "config.yaml", "wandb-metadata.json")


@dataclass
class WandbLog:
    """What one run's records say, before they are put in our terms."""

    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    exit_code: int | None = None  # None: no exit record
    exit_runtime: float | None = None
    name: str | None = None
    truncated: bool = False  # the file ends mid-record
    records: int = 0  # records of the wanted types that were parsed
    bad_lines: int = 0
    seconds: float = 0.0  # how long W&B's reader took
    notes: list[str] = field(default_factory=list)  # warnings from reading


# ---------------------------------------------------------------------------- finding runs


def find_runs(folder: Path) -> list[Path]:
    """Run folders (`run-*`, `offline-run-*`) in a `wandb/` folder or a folder holding one.

    A run folder itself gives [folder]. `latest-run` (a symlink to one of the others) and
    files such as `debug.log` are skipped. Sorted oldest first (the names carry the start time).
    """
    if not folder.is_dir():
        raise SourceError(
            f"{folder}: no such folder (expected a wandb/ folder or a W&B run folder)"
        )
    if _is_run_dir(folder):
        return [folder]
    runs: list[Path] = []
    for parent in (folder, folder / "wandb"):
        runs.extend(_run_dirs_in(parent))
    return sorted(set(runs), key=lambda p: (p.name.removeprefix("offline-"), str(p)))


def _run_dirs_in(parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    try:
        children = list(parent.iterdir())
    except OSError as exc:
        raise SourceError(f"{parent}: cannot list the folder ({exc.strerror or exc})") from exc
    return [
        child
        for child in children
        if _RUN_DIR_RE.match(child.name) and child.is_dir() and not child.is_symlink()
    ]


def _is_run_dir(folder: Path) -> bool:
    return any(folder.glob("*.wandb")) or any(
        (folder / "files" / name).is_file() for name in _LEGACY_FILES
    )


def _wandb_file_in(run_dir: Path, warnings: list[str]) -> Path | None:
    candidates = sorted(run_dir.glob("*.wandb"))
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    # Not seen in practice; prefer the file named after the folder's run id.
    run_id = run_dir.name.rsplit("-", 1)[-1]
    chosen = next((c for c in candidates if c.name == f"run-{run_id}.wandb"), candidates[-1])
    warnings.append(f"{run_dir}: {len(candidates)} .wandb files; read {chosen.name} only")
    return chosen


def _locate(path: Path, warnings: list[str]) -> tuple[Path | None, Path | None]:
    """(run folder, .wandb file) for a path that is either; either may be None."""
    if path.is_file():
        parent = path.parent
        return (parent if (parent / "files").is_dir() else None), path
    if not path.is_dir():
        raise SourceError(f"{path}: no such file or folder")
    runs = find_runs(path)
    if not runs:
        raise SourceError(
            f"{path}: no W&B run here (expected a run-*.wandb file, a run-*/ folder or a "
            "wandb/ folder holding them)"
        )
    if len(runs) > 1:
        raise SourceError(
            f"{path}: holds {len(runs)} W&B runs; read them one at a time, e.g. {runs[-1]}"
        )
    return runs[0], _wandb_file_in(runs[0], warnings)


# ---------------------------------------------------------------------------- the .wandb log


def inspect_log(path: Path) -> WandbLog:
    """Run W&B's reader on a `.wandb` file; SourceError when it yields nothing usable."""
    _check_header(path)
    command = [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(path.absolute())]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr_file:
        returncode, log = _run_reader(path, command, stderr_file)
        stderr_file.seek(0)
        stderr = stderr_file.read().decode("utf-8", "replace")
    log.seconds = time.perf_counter() - started
    _LOG.debug(
        "%s: read %d records by wandb leet inspect in %.2f s", path, log.records, log.seconds
    )
    _judge_reader(path, returncode, stderr, log)
    return log


def _run_reader(path: Path, command: list[str], stderr_file: IO[bytes]) -> tuple[int, WandbLog]:
    # stdout is streamed (a long run's log prints hundreds of MB of console and stats
    # records); stderr goes to a file so that neither pipe can fill up and stall the child.
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        raise SourceError(f"{path}: cannot start W&B's reader ({exc.strerror or exc})") from exc
    with proc:
        assert proc.stdout is not None  # stdout=PIPE
        log = parse_records(proc.stdout)
    return proc.returncode, log


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(files.LFS_HEADER))
    except OSError:
        head = b""
    if head.startswith(_MAGIC):
        return
    if not head.strip() or head.startswith(files.LFS_HEADER[:8]):
        files.read_bytes(path)  # raises the shared one-line message: missing, empty, LFS, ...
    raise SourceError(
        f"{path}: not a W&B run log (no `:W&B` header); pass a run-*.wandb file or its run folder"
    )


def _judge_reader(path: Path, returncode: int, stderr: str, log: WandbLog) -> None:
    problem = _stderr_problem(stderr)
    if returncode != 0 and log.records == 0:
        raise SourceError(f"{path}: W&B's reader failed ({problem or f'exit code {returncode}'})")
    if log.records == 0:  # e.g. a run killed within its first second: a header, nothing else
        raise SourceError(f"{path}: W&B's reader found no records ({problem or 'empty log'})")
    if returncode != 0:
        log.notes.append(f"{path}: W&B's reader stopped early ({problem}); kept what was read")
    if log.bad_lines:
        log.notes.append(f"{path}: {log.bad_lines} unreadable record line(s) from W&B's reader")
    # leet says so on stderr (exit code 0) when the last record is cut off, e.g.
    # "reached the end of an incomplete .wandb file (the run may still be active or was
    # interrupted)"; there is no JSON record for it.
    log.truncated = "incomplete" in stderr.lower()


def _stderr_problem(stderr: str) -> str:
    if "No module named wandb" in stderr:
        return "wandb is not installed: pip install wandb"
    if "No such command" in stderr:
        return "this wandb has no `leet inspect`: pip install -U wandb"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def parse_records(lines: Iterable[str]) -> WandbLog:
    """Fold `leet inspect --json` output lines into a WandbLog (pure; no subprocess)."""
    log = WandbLog()
    for line in lines:
        kind = _record_type(line)
        if kind is not None and kind not in _WANTED:
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            log.bad_lines += line.strip() != ""
            continue
        kind = kind or (record.get("type") if isinstance(record, dict) else None)
        body = record.get(kind) if isinstance(record, dict) and isinstance(kind, str) else None
        if kind in _WANTED and isinstance(body, dict):
            _apply(log, str(kind), body)
            log.records += 1
    return log


def _record_type(line: str) -> str | None:
    # Records print as {"num":N,"type":"history",...}: reading the type from the text skips
    # json.loads for console and system-stats records. None: not found, parse to learn it.
    start = line.find(_TYPE_MARK, 0, 64)
    if start < 0:
        return None
    start += len(_TYPE_MARK)
    end = line.find('"', start)
    return line[start:end] if end > start else None


def _apply(log: WandbLog, kind: str, body: dict[str, Any]) -> None:
    if kind == "history":
        item = body.get("item")
        if isinstance(item, dict):
            log.history.append(item)
    elif kind == "summary":
        _update(log.summary, body)
    elif kind == "config":
        _update(log.config, body)
    elif kind == "run":
        name = body.get("display_name")
        log.name = name if isinstance(name, str) and name else log.name
        if isinstance(body.get("config"), dict):
            _update(log.config, body["config"])  # the config given to wandb.init
    elif kind == "environment":
        log.environment.update(body)  # one record per writer process; they complement
    elif kind == "exit":
        _apply_exit(log, body)


def _apply_exit(log: WandbLog, body: dict[str, Any]) -> None:
    # protobuf's JSON leaves out zero values, so an exit record without exit_code means 0.
    code = body.get("exit_code", 0)
    log.exit_code = code if isinstance(code, int) and not isinstance(code, bool) else 1
    log.exit_runtime = _number(body.get("runtime"))


def _update(target: dict[str, Any], body: Mapping[str, Any]) -> None:
    update = body.get("update")
    if isinstance(update, dict):
        target.update(update)
    remove = body.get("remove")
    for entry in remove if isinstance(remove, list | dict) else ():
        key = entry.get("key") if isinstance(entry, dict) else entry
        if isinstance(key, str):
            target.pop(key, None)


# ---------------------------------------------------------------------------- legacy files


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that reads `5e-05` as a float, not a string.

    wandb-core (Go) writes config.yaml as YAML 1.2, where `5e-05` is a float; PyYAML speaks
    YAML 1.1, whose float pattern needs a dot in the mantissa — a learning rate would
    otherwise come back as the string "5e-05".
    """


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def flatten_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Plain {key: value} from any of W&B's config forms, without W&B's own entries.

    config.yaml wraps every key as {desc, value} (0.15) or {value} (later); leet, the API and
    some exports give plain values. A config counts as wrapped only when *every* entry is, so
    a user's own dict that happens to hold a `value` key is not unwrapped by mistake.
    """
    entries = {str(k): v for k, v in raw.items() if k not in _WANDB_CONFIG_KEYS}
    wrapped = bool(entries) and all(
        isinstance(v, dict) and "value" in v and set(v) <= {"value", "desc"}
        for v in entries.values()
    )
    return {k: (v["value"] if wrapped else v) for k, v in entries.items()}


def _read_config_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(files.read_text(path), Loader=_ConfigLoader)  # a SafeLoader
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"{path}: not valid YAML ({problem}); the file may be cut off") from exc
    return flatten_config(files.require_mapping(loaded, path, "a W&B config"))


def _read_history_jsonl(path: Path) -> list[dict[str, Any]]:
    # Written instead of a .wandb log by W&B before 0.10: one history dict per line.
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(files.read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise SourceError(
                f"{path}: line {number} is not valid JSON; is the file cut off?"
            ) from exc
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _read_legacy(run_dir: Path, name: str, problems: list[str]) -> Any:
    """One files/ entry parsed, or None when absent or broken (broken: noted in problems)."""
    path = run_dir / "files" / name
    if not path.exists():
        return None
    try:
        if name == "config.yaml":
            return _read_config_yaml(path)
        if name == "wandb-history.jsonl":
            return _read_history_jsonl(path)
        return files.require_mapping(files.load_json(path), path, f"a W&B {name}")
    except SourceError as exc:
        problems.append(str(exc))
        return None


def _log_from_legacy(run_dir: Path) -> WandbLog:
    """The run as the plain files in files/ tell it; SourceError when none is readable."""
    problems: list[str] = []
    history, summary, config, metadata = (
        _read_legacy(run_dir, name, problems) for name in _LEGACY_FILES
    )
    if history is None and summary is None and config is None and metadata is None:
        found = "; ".join(problems) or (
            "no run-*.wandb and no files/wandb-summary.json; pass a run-*/ folder of a wandb/ "
            "folder"
        )
        raise SourceError(f"{run_dir}: no readable W&B log ({found})")
    return WandbLog(
        history=history or [],
        summary=summary or {},
        config=config or {},
        environment=metadata or {},
        notes=problems,
    )


_GAP_FILLERS = (
    ("wandb-summary.json", "summary"),
    ("config.yaml", "config"),
    ("wandb-metadata.json", "environment"),
)


def _fill_gaps(log: WandbLog, run_dir: Path) -> None:
    """Take from files/ what the .wandb log lacks (0.18 runs keep host facts only there)."""
    for name, attr in _GAP_FILLERS:
        if not getattr(log, attr):
            value = _read_legacy(run_dir, name, log.notes)
            if value:
                setattr(log, attr, value)


# ---------------------------------------------------------------------------- into our terms


def _number(value: Any) -> float | None:
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return json_number(value)


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
    return "qlora" if found == "lora" and _is_4bit(config) else found


def _peft_method(config: Mapping[str, Any]) -> str | None:
    types = {str(a.get("peft_type") or "LORA").upper() for a in _adapters(config)}
    if not types:
        return None
    return "lora" if "LORA" in types else sorted(types)[0].lower()


def _has_lora_keys(config: Mapping[str, Any]) -> bool:
    if config.get("use_peft") is False or config.get("use_lora") is False:
        return False
    return any(key.startswith("lora_") for key in config)


def _is_4bit(config: Mapping[str, Any]) -> bool:
    quantization = config.get("quantization_config")
    quantized = isinstance(quantization, dict) and bool(
        quantization.get("load_in_4bit") or quantization.get("_load_in_4bit")
    )
    return quantized or config.get("load_in_4bit") is True or config.get("quantization_bit") == 4


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


def _binary_status(path: Path, log: WandbLog) -> tuple[Status, str | None]:
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


def _source_data(path: Path, log: WandbLog, status: Status, warnings: list[str]) -> SourceData:
    warnings = [*warnings, *log.notes]
    frame = frame_from_rows(_rows(log, path, warnings))
    # The .wandb log and the API give plain values (config.yaml was flattened on reading);
    # W&B's own bookkeeping is dropped here for all three.
    config = {k: v for k, v in log.config.items() if k not in _WANDB_CONFIG_KEYS}
    config["summary"] = _scalar_summary(log.summary)
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
        name=log.name,
    )


# ---------------------------------------------------------------------------- entry points


def read(path: Path) -> SourceData:
    """A `run-*.wandb` file, a W&B run folder, or a `wandb/` folder holding exactly one run.

    The `.wandb` log is the source; the run folder's `files/` fill what it lacks, and stand
    in for it (with a warning) when there is no log or W&B's reader cannot read it.
    """
    warnings: list[str] = []
    run_dir, wandb_file = _locate(path, warnings)
    log = _read_binary(wandb_file, run_dir, warnings) if wandb_file else None
    if log is not None and wandb_file is not None:
        if run_dir is not None:
            _fill_gaps(log, run_dir)
        status, note = _binary_status(wandb_file, log)
        warnings.extend([note] if note else [])
        shown = wandb_file if path.is_file() or run_dir is None else run_dir
        return _source_data(shown, log, status, warnings)
    assert run_dir is not None  # _locate gives a folder whenever it gives no file
    log = _log_from_legacy(run_dir)
    warnings.append(f"{run_dir}: no readable .wandb log: exit status unknown, taken as completed")
    return _source_data(run_dir, log, "completed", warnings)


def _read_binary(wandb_file: Path, run_dir: Path | None, warnings: list[str]) -> WandbLog | None:
    try:
        return inspect_log(wandb_file)
    except SourceError as exc:
        if run_dir is None or not any((run_dir / "files" / n).is_file() for n in _LEGACY_FILES):
            raise
        warnings.append(f"{exc}; read {run_dir / 'files'} instead")
        return None


def read_online(ref: str) -> SourceData:
    """An online run `entity/project/run_id` through `wandb.Api()`: every history row.

    `scan_history()` pages through all rows; `history()` would return a sample of 500.
    """
    parts = ref.strip().strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        raise SourceError(f"{ref}: expected an online run as entity/project/run_id")
    if not _have_credentials():
        raise SourceError(f"{ref}: set WANDB_API_KEY or run `wandb login` to read online runs")
    import wandb  # here, not at the top: importing wandb takes ~1 s and `--help` must be fast

    try:
        run = wandb.Api(timeout=60).run("/".join(parts))
        log = WandbLog(
            history=[dict(row) for row in run.scan_history()],
            summary=dict(run.summary_metrics or {}),
            config=dict(run.config or {}),  # the API unwraps {"value": ...} itself
            environment=dict(run.metadata or {}),
            name=run.name if isinstance(run.name, str) else None,
        )
        state = str(run.state)
    except Exception as exc:  # network, auth and not-found errors arrive as many types
        problem = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise SourceError(f"{ref}: cannot read the run from W&B ({problem})") from exc
    status, warnings = _online_status(ref, state)
    return _source_data(Path(ref), log, status, warnings)


def _online_status(ref: str, state: str) -> tuple[Status, list[str]]:
    if state == "finished":
        return "completed", []
    if state == "failed":
        return "failed", [f"{ref}: W&B marks the run failed"]
    return "interrupted", [f"{ref}: W&B marks the run {state}; kept what was logged"]


def _have_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    netrc_path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    try:
        return netrc.netrc(netrc_path).authenticators(host or "api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False
