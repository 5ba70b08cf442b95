"""The run folder: ids, layout, run.yaml with status transitions, listing.

Layout (DESIGN.md):  runs/<run_id>/run.yaml, metrics.jsonl, metrics.parquet,
trainer_state.json, evals/<eval_id>/{eval.yaml,samples.jsonl,results.json}, logs/stdout.log
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gsmreport.core.errors import GsmReportError, NotFoundError, UsageError
from gsmreport.core.fsutil import atomic_write_yaml, load_yaml
from gsmreport.core.liveness import vanished

RUN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

RunKind = Literal["train", "eval", "imported"]
Status = Literal["pending", "running", "completed", "failed", "interrupted"]

# Which status may follow which. `interrupted`/`failed` -> `running` is a resume.
_TRANSITIONS: dict[str, set[str]] = {
    "pending": {"running", "failed", "interrupted"},
    "running": {"running", "completed", "failed", "interrupted"},
    "interrupted": {"running", "failed"},
    "failed": {"running"},
    "completed": {"completed", "running"},
}


def validate_run_id(run_id: str) -> str:
    """Refuse anything that is not a slug before it can touch a path (no `/`, no `..`)."""
    if not RUN_ID_RE.fullmatch(run_id) or ".." in run_id:
        raise UsageError(
            f"invalid run id {run_id!r}: use lowercase letters, digits, '.', '_' or '-' "
            "(1-64 characters, starting with a letter or digit)"
        )
    return run_id


def slugify(text: str, max_len: int = 40) -> str:
    """Turn a model or config name into something usable inside a run id.

    A name too long keeps its first word and as many whole words from its end as fit: the
    end is what tells sibling runs apart (`…_run2_r16_seed43`), and cutting the tail off
    gave every run of a sweep the same id but for a `-2`, `-3` suffix."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "run"
    if len(slug) <= max_len:
        return slug
    words = slug.split("-")
    head, tail = words[0], words[1:]
    kept: list[str] = []
    while tail and len(head) + len("-".join([tail[-1], *kept])) + 1 <= max_len:
        kept.insert(0, tail.pop())
    if not kept:  # not even one end word fits beside the first: the plain cut
        return slug[:max_len].strip("-") or "run"
    return "-".join([head, *kept])


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# Each model's validator is built at its first use, not at import (defer_build): listing
# runs from their summary caches validates none (~30 ms of each `gsmreport runs`).
_LAZY = ConfigDict(defer_build=True)


class Hardware(BaseModel):
    model_config = _LAZY

    device: str = "cpu"
    device_name: str = "CPU"
    count: int = 1


class SourceInfo(BaseModel):
    """Where an imported run came from; re-importing the same `path` updates the same run."""

    model_config = _LAZY

    path: str  # the path the user gave, resolved
    kind: str  # trainer_state | wandb | tensorboard | llamafactory | lm_eval | csv
    read: str  # the file or folder actually read (e.g. the newest checkpoint-*)
    imported_at: str = Field(default_factory=now_iso)


class RunRecord(BaseModel):
    """Contents of run.yaml."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    id: str
    kind: RunKind
    status: Status = "pending"
    created_at: str = Field(default_factory=now_iso)
    started_at: str | None = None
    finished_at: str | None = None
    model: str | None = None
    method: str | None = None
    data: str | None = None
    seed: int | None = None
    command: list[str] = Field(default_factory=list)
    hardware: Hardware | None = None
    price_per_device_hour: float | None = None
    price_source: str | None = None
    runtime_s: float | None = None
    error: str | None = None
    source: SourceInfo | None = None
    warnings: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class RunProblem:
    """A folder under the runs folder that looks like a run but cannot be read as one."""

    folder: Path
    problem: str  # one line, naming the file

    def __str__(self) -> str:
        return f"{self.problem} (folder skipped)"


def _id_problem(recorded: str, folder: str) -> str:
    if not RUN_ID_RE.fullmatch(recorded) or ".." in recorded:
        return f"`id: {recorded}` is not a valid run id (the folder name, {folder!r}, is)"
    return (
        f"`id: {recorded}` names another run than its folder {folder!r} "
        f"(a copied or renamed run? set `id: {folder}`)"
    )


class RunStore:
    """All runs under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, run_id: str) -> Path:
        return self.root / validate_run_id(run_id)

    def exists(self, run_id: str) -> bool:
        return (self.path(run_id) / "run.yaml").is_file()

    def create(self, record: RunRecord, *, overwrite: bool = False) -> Path:
        run_dir = self.path(record.id)
        if (run_dir / "run.yaml").exists() and not overwrite:
            raise UsageError(
                f"run {record.id!r} already exists in {self.root}: choose another --run-id"
            )
        (run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.write(record)
        return run_dir

    def write(self, record: RunRecord) -> None:
        atomic_write_yaml(self.path(record.id) / "run.yaml", record.model_dump(mode="json"))

    def read(self, run_id: str, *, check_alive: bool = True) -> RunRecord:
        """The run in folder `run_id`. A run is located by its folder, never by what its
        run.yaml remembers: one whose `id:` names another folder (a copy, a move, a hand
        edit) is refused, so it cannot pass for that other run or steer a path elsewhere.

        A `running` run whose job process is known to be gone (kill -9, OOM killer, power
        cut) is recorded as interrupted, "process vanished", so it can be resumed.
        """
        path = self.path(run_id) / "run.yaml"
        if not path.is_file():
            raise NotFoundError(f"run {run_id!r} not found in {self.root} (see `gsmreport runs`)")
        record = read_record(path)
        if record.id != run_id:
            raise GsmReportError(f"{path}: {_id_problem(record.id, run_id)}")
        if check_alive and record.status == "running":
            why = vanished(record.model_extra or {})
            if why is not None:
                return self._vanished(record, why)
        return record

    def _vanished(self, record: RunRecord, why: str) -> RunRecord:
        data = record.model_dump()
        data.update(status="interrupted", error=why, finished_at=now_iso())
        updated = RunRecord.model_validate(data)
        # Nobody else will write it: the process that would have is gone. A read-only runs
        # folder still shows it as interrupted, just does not keep that.
        with contextlib.suppress(OSError):
            self.write(updated)
        return updated

    def set_status(self, run_id: str, status: Status, **fields: Any) -> RunRecord:
        # The job's own record of itself: never second-guessed by the liveness check.
        record = self.read(run_id, check_alive=False)
        if status not in _TRANSITIONS[record.status]:
            raise GsmReportError(f"run {run_id!r}: cannot go from {record.status} to {status}")
        data = record.model_dump()
        data.update(fields, status=status)
        if status == "running" and record.status != "running":
            data["started_at"] = now_iso()
            data["finished_at"] = None
            data["error"] = None
        if status in ("completed", "failed", "interrupted"):
            data["finished_at"] = now_iso()
        updated = RunRecord.model_validate(data)
        self.write(updated)
        return updated

    def ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if RUN_ID_RE.fullmatch(p.name) and (p / "run.yaml").is_file()
        )

    def iter_records(self) -> Iterator[RunRecord]:
        """Every good run; a folder with a problem is left out (`scan` names it)."""
        for item in self.scan():
            if isinstance(item, RunRecord):
                yield item

    def scan(self) -> Iterator[RunRecord | RunProblem]:
        """Each run folder as its record, or as the problem that keeps it from being one
        (unreadable run.yaml, a copied or renamed folder): a bad neighbour is listed, never
        fatal to the other runs."""
        for run_id in self.ids():
            try:
                yield self.read(run_id)
            except GsmReportError as err:
                yield RunProblem(self.root / run_id, str(err))

    def problems(self) -> list[RunProblem]:
        return [item for item in self.scan() if isinstance(item, RunProblem)]

    def unique_id(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`, … whichever does not exist yet."""
        base = slugify(base, 56)
        candidate, n = base, 1
        while self.path(candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def evals_dir(self, run_id: str) -> Path:
        return self.path(run_id) / "evals"

    def eval_ids(self, run_id: str) -> list[str]:
        d = self.evals_dir(run_id)
        if not d.is_dir():
            return []
        return sorted(p.name for p in d.iterdir() if (p / "results.json").is_file())


def read_record(path: Path) -> RunRecord:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]  # the field and what is wrong with it, not pydantic's header
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise GsmReportError(
            f"{path}: unreadable run.yaml ('{field}': {err['msg']}){more}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise GsmReportError(
            f"{path}: unreadable run.yaml (not UTF-8 text: bad byte at offset {exc.start})"
        ) from exc
    except (yaml.YAMLError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GsmReportError(f"{path}: unreadable run.yaml ({first})") from exc
