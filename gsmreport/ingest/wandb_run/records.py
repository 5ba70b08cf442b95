"""W&B's own reader of a `.wandb` log, run in a subprocess, folded into a `WandbLog`.

The `.wandb` file is a protobuf transaction log whose layout W&B changes between versions, so it
is read by W&B's own reader, `python -m wandb leet inspect --json`, in a subprocess: one JSON
record per line, e.g. `{"num":129,"type":"history","history":{"item":{...},"step":{"num":0}}}`.
The subprocess also keeps wandb's import time and background service out of this process.

Records used: `run` (display name, start time, the config given to `wandb.init`), `config`
(updates), `history` (one `wandb.log` call), `summary` (updates), `environment` (host facts and
GPUs, written by wandb >= 0.19; older runs keep them in `files/wandb-metadata.json`), `exit`
(exit code), `stats` (system metrics: GPU, CPU, memory, disk, network) and `output_raw` (the
console). Skipped unparsed: `telemetry`, `files`, `metric`, `header`.

The reader prints NaN and ±inf as the strings "NaN", "Infinity", "-Infinity" (JSON has no such
numbers); they are turned back into floats so the table keeps them, as DESIGN.md asks.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from gsmreport.ingest import files
from gsmreport.ingest.files import SourceError
from gsmreport.ingest.schema import json_number

_LOG = logging.getLogger(__name__)
_MAGIC = b":W&B"  # first bytes of every .wandb file (W&B's leveldb-style log header)
_WANTED = frozenset(
    {"run", "config", "history", "summary", "environment", "exit", "stats", "output_raw"}
)
_TYPE_MARK = '"type":"'
# Kept but not counted as the run's own records: a log holding only these has no run in it.
_SIDE_RECORDS = frozenset({"stats", "output_raw"})
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


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
    start_time: str | None = None  # the run record's ISO time, the zero of system wall times
    stats: list[tuple[str | None, dict[str, Any]]] = field(default_factory=list)  # (ISO, item)
    console: list[str] = field(default_factory=list)  # output_raw lines, as written


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
            log.records += kind not in _SIDE_RECORDS
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
        start = body.get("start_time")
        log.start_time = start if isinstance(start, str) else log.start_time
        if isinstance(body.get("config"), dict):
            _update(log.config, body["config"])  # the config given to wandb.init
    elif kind == "environment":
        log.environment.update(body)  # one record per writer process; they complement
    elif kind == "exit":
        _apply_exit(log, body)
    elif kind == "stats" and isinstance(body.get("item"), dict):
        stamp = body.get("timestamp")
        log.stats.append((stamp if isinstance(stamp, str) else None, body["item"]))
    elif kind == "output_raw" and isinstance(body.get("line"), str):
        log.console.append(body["line"])


def _apply_exit(log: WandbLog, body: dict[str, Any]) -> None:
    # protobuf's JSON leaves out zero values, so an exit record without exit_code means 0.
    code = body.get("exit_code", 0)
    log.exit_code = code if isinstance(code, int) and not isinstance(code, bool) else 1
    log.exit_runtime = number(body.get("runtime"))


def _update(target: dict[str, Any], body: Mapping[str, Any]) -> None:
    update = body.get("update")
    if isinstance(update, dict):
        target.update(update)
    remove = body.get("remove")
    for entry in remove if isinstance(remove, list | dict) else ():
        key = entry.get("key") if isinstance(entry, dict) else entry
        if isinstance(key, str):
            target.pop(key, None)


def number(value: Any) -> float | None:
    """A float from a record value; the reader's non-finite strings included."""
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return json_number(value)
