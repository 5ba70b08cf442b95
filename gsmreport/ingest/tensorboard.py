"""Read TensorBoard event files (HF's TensorBoardCallback, or any SummaryWriter) into the table.

Every scalar is kept: records come from tensorboard's own event file loader, which reads every
record (checking both CRCs) with no sampling; sampling, 10,000 scalars per tag by default,
happens only in its EventAccumulator, which is not used. The loader stops *silently* at a
cut-off or corrupt record (it logs at debug level and ends the iteration), so a truncated file
is detected by arithmetic: each record it yields took 8 + 4 + len(payload) + 4 bytes of the
file; when those add up to less than the file's size, the loader stopped early and the warning
names the byte where it did. Payloads are decoded with tensorboard's `Event` proto.

Scalars come as `simple_value` (torch's SummaryWriter, tensorboardX) or as v2 tensor
summaries of the `scalars` plugin (tf.summary, `new_style=True`); both are read. HF writes its
TrainingArguments and the model config as JSON text summaries (`args/text_summary`,
`model_config/text_summary`): they become `config["training_args"]` / `config["model_config"]`.

Several files of one run (a resumed run writes a new file) are merged: sorted by wall time,
duplicated (tag, step) last-wins. A log folder can also hold *several runs*: HF's
`logging_dir` is often fixed (e.g. `./logs_llama`), so every launch adds a file beside the
last. `group_event_files` tells them apart (steps starting over, or a different
`output_dir`), and `read` warns when a folder mixes runs.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from gsmreport.ingest.files import SourceError, read_bytes
from gsmreport.ingest.labels import is_4bit, peft_method, with_quantization
from gsmreport.ingest.schema import frame_from_rows, rows_from_log
from gsmreport.ingest.source import SourceData, iso_time

SOURCE: Final = "tensorboard"
_EPOCH_TAGS = frozenset({"train/epoch", "epoch"})
# HF's text summary tag prefix -> our config key.
_TEXT_KEYS = {"args": "training_args", "model_config": "model_config"}
# A TFRecord frame around each payload: uint64 length, masked CRC of it, masked CRC of the data.
_FRAME_BYTES = 8 + 4 + 4
_MAX_LISTED = 4  # file names named in one warning line

# TensorProto dtypes we decode without numpy (tensorflow/core/framework/types.proto).
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64, _DT_BFLOAT16, _DT_HALF = 1, 2, 3, 9, 14, 19
_PACKED = {_DT_FLOAT: "<f", _DT_DOUBLE: "<d", _DT_INT32: "<i", _DT_INT64: "<q", _DT_HALF: "<e"}

Status = Literal["completed", "interrupted", "failed"]


@dataclass
class EventFile:
    """What one event file holds. `scalars` are (wall_time, step, tag, value) in file order."""

    path: Path
    first_wall_time: float | None = None
    scalars: list[tuple[float, int, str, float]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # why reading stopped before the end of the file, if it did

    @functools.cached_property
    def min_step(self) -> int | None:
        """The first step logged (asked only once the file is loaded, so cached)."""
        return min((s[1] for s in self.scalars), default=None)

    @functools.cached_property
    def output_dir(self) -> str | None:
        """HF's `output_dir` from the args text summary: which run a file belongs to."""
        args = _json_object(self.texts.get("args/text_summary"))
        value = args.get("output_dir") if args else None
        return value if isinstance(value, str) else None


# --- summary values ------------------------------------------------------------------------


def _tensor_scalar(tensor: Any) -> float | None:
    """The one number in a scalar TensorProto; None for anything else (numpy not needed)."""
    if math.prod(d.size for d in tensor.tensor_shape.dim) != 1:
        return None
    for repeated in (tensor.float_val, tensor.double_val, tensor.int64_val, tensor.int_val):
        if repeated:
            return float(repeated[0])
    dtype, content = tensor.dtype, tensor.tensor_content
    if content and dtype in _PACKED and len(content) == struct.calcsize(_PACKED[dtype]):
        return float(struct.unpack(_PACKED[dtype], content)[0])
    if tensor.half_val and dtype == _DT_HALF:
        return float(struct.unpack("<e", struct.pack("<H", tensor.half_val[0]))[0])
    if tensor.half_val and dtype == _DT_BFLOAT16:  # bfloat16 is the high half of a float32
        return float(struct.unpack("<f", struct.pack("<I", tensor.half_val[0] << 16))[0])
    return None


def _plugin(value: Any, plugins: dict[str, str]) -> str:
    """The value's plugin; TF2 writers attach metadata to a tag's first value only."""
    metadata = value.metadata
    name = str(metadata.plugin_data.plugin_name)
    if not name and metadata.data_class == 1:  # DATA_CLASS_SCALAR
        name = "scalars"
    if name:
        plugins[value.tag] = name
        return name
    return plugins.get(value.tag, "")


def _add_event(event: Any, into: EventFile, plugins: dict[str, str]) -> None:
    kept: list[tuple[str, float | str]] = []
    for value in event.summary.value:
        kind = value.WhichOneof("value")
        if kind == "simple_value":
            kept.append((value.tag, float(value.simple_value)))
        elif kind == "tensor":
            plugin = _plugin(value, plugins)
            if plugin == "scalars":
                number = _tensor_scalar(value.tensor)
                if number is not None:
                    kept.append((value.tag, number))
            elif plugin == "text":
                text = "\n".join(s.decode("utf-8", "replace") for s in value.tensor.string_val)
                kept.append((value.tag, text))
    for tag, item in kept:
        if isinstance(item, str):
            into.texts[tag] = item
        else:
            into.scalars.append((event.wall_time, int(event.step), tag, item))


# --- one file ------------------------------------------------------------------------------


def _raw_records(path: Path) -> Iterator[bytes]:
    """The serialized Event records, in order, from tensorboard's loader (no sampling)."""
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader

    try:
        yield from RawEventFileLoader(str(path)).Load()
    except OSError as exc:  # read_bytes has already opened it: this is a disk error mid-read
        raise SourceError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def load_event_file(path: Path) -> EventFile:
    """Every scalar and text summary in one event file.

    A file cut off or damaged part-way keeps what came before (`problem` says where);
    SourceError when nothing at all could be read from it.
    """
    from google.protobuf.message import DecodeError
    from tensorboard.compat.proto import event_pb2

    size = len(read_bytes(path))  # the one-line errors for a missing, empty or LFS file
    out, count, consumed = EventFile(path), 0, 0
    plugins: dict[str, str] = {}
    problem: str | None = None
    for payload in _raw_records(path):
        try:
            event = event_pb2.Event.FromString(payload)
        except DecodeError:
            problem = f"event {count + 1} is damaged (not a decodable Event)"
            break
        _add_event(event, out, plugins)
        if out.first_wall_time is None:
            out.first_wall_time = event.wall_time
        count += 1
        consumed += len(payload) + _FRAME_BYTES
    if problem is None and consumed < size:
        problem = f"the record at byte {consumed} of {size} is cut off or fails its checksum"
    if problem and count == 0:
        raise SourceError(
            f"{path}: not a TensorBoard event file ({problem}); is it the right file?"
        )
    if problem:
        out.problem = f"{problem}; kept the {count} events before it"
    return out


def _json_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --- several files -------------------------------------------------------------------------


def event_files(path: Path) -> list[Path]:
    """`path` itself, or every event file below a folder (any depth), in name order."""
    if not path.is_dir():
        return [path]
    try:
        found = sorted(p for p in path.rglob("*tfevents*") if p.is_file())
    except OSError as exc:
        raise SourceError(f"{path}: cannot list ({exc.strerror or exc})") from exc
    if not found:
        raise SourceError(
            f"{path}: no events.out.tfevents.* file in this folder; point at a TensorBoard log dir"
        )
    return found


def _load_all(paths: Sequence[Path], warnings: list[str]) -> list[EventFile]:
    """Load each file; in a folder one unreadable file is a warning, an LFS pointer is not
    (the fix, `git lfs pull`, is one command and the import would be incomplete without it)."""
    loaded: list[EventFile] = []
    errors: list[SourceError] = []
    for path in paths:
        try:
            loaded.append(load_event_file(path))
        except SourceError as err:
            if len(paths) == 1 or "git lfs pull" in str(err):
                raise
            errors.append(err)
            warnings.append(f"{err} (skipped)")
    if not loaded:
        raise SourceError(f"{errors[0]} (and the {len(paths) - 1} other event files beside it)")
    for file in loaded:
        if file.problem:
            warnings.append(f"{file.path}: truncated or damaged: {file.problem}")
    return loaded


def _by_time(files: Iterable[EventFile]) -> list[EventFile]:
    return sorted(files, key=lambda f: (f.first_wall_time or 0.0, f.path.name))


def _continues(group: list[EventFile], file: EventFile) -> bool:
    """True when `file` carries on the run of `group` (a resume) rather than starting one.

    A new run starts its steps over; a resumed one goes on past the group's first step.
    HF writes `output_dir` with every launch: a different one is a different run.
    """
    group_min = min(f.min_step for f in group if f.min_step is not None)
    file_min = file.min_step
    if file_min is None or file_min <= group_min:
        return False
    before, now = group[-1].output_dir, file.output_dir
    return before is None or now is None or before == now


def _group(files: Sequence[EventFile]) -> list[list[EventFile]]:
    groups: list[list[EventFile]] = []
    for file in _by_time(f for f in files if f.scalars):
        if groups and _continues(groups[-1], file):
            groups[-1].append(file)
        else:
            groups.append([file])
    return groups


def group_event_files(path: Path) -> list[list[Path]]:
    """The event files under `path` grouped by run, oldest run first, each in time order.

    Files without any scalar (a launch that stopped before its first log, an hparams side
    file) belong to no group. Read one group with `read_files`.
    """
    warnings: list[str] = []
    loaded = _load_all(event_files(path), warnings)
    return [[f.path for f in group] for group in _group(loaded)]


def _names(files: Sequence[EventFile]) -> str:
    names = [f.path.name for f in files[:_MAX_LISTED]]
    more = len(files) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _clashes(files: Sequence[EventFile]) -> int:
    """(tag, step) pairs written by two files with different values: what a merge mixes."""
    seen: dict[tuple[str, int], tuple[int, float]] = {}
    clashing: set[tuple[str, int]] = set()
    for index, file in enumerate(_by_time(files)):
        for _, step, tag, value in file.scalars:
            before = seen.get((tag, step))
            if before is not None and before[0] != index and not _same(before[1], value):
                clashing.add((tag, step))
            seen[(tag, step)] = (index, value)
    return len(clashing)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _mixing_warnings(path: Path, files: Sequence[EventFile]) -> list[str]:
    out: list[str] = []
    empty = [f for f in files if not f.scalars]
    if empty and len(files) > 1:
        out.append(
            f"{path}: {len(empty)} event file(s) hold no scalars (a launch that stopped before "
            f"its first log, or an hparams side file): {_names(empty)}"
        )
    groups = _group(files)
    if len(groups) > 1:
        starts = [g[0] for g in groups[1:]]
        out.append(
            f"{path}: the event files hold {len(groups)} separate runs (steps start over or "
            f"output_dir changes at {_names(starts)}); merged, {_clashes(files)} (tag, step) "
            "values of one run overwrite another's: point gsmreport at one run's event file"
        )
    return out


# --- into our terms ------------------------------------------------------------------------


def _rows(files: Sequence[EventFile]) -> list[dict[str, Any]]:
    merged = sorted((s for f in files for s in f.scalars), key=lambda s: s[0])
    starts = [f.first_wall_time for f in files if f.first_wall_time is not None]
    start = min(starts, default=0.0)
    # HF logs `epoch` as one more scalar at the same step as the metrics it belongs to.
    epochs = {step: value for _, step, tag, value in merged if tag in _EPOCH_TAGS}
    rows: list[dict[str, Any]] = []
    for wall_time, step, tag, value in merged:
        rows.extend(
            rows_from_log(
                {tag: value},
                run_id="",
                source=SOURCE,
                step=step,
                epoch=epochs.get(step),
                wall_time=wall_time - start,
            )
        )
    return rows


def _span(files: Sequence[EventFile]) -> tuple[float | None, float | None]:
    """(first event, last scalar) as Unix times: when the run began and last logged."""
    starts = [f.first_wall_time for f in files if f.first_wall_time is not None]
    ends = [s[0] for f in files for s in f.scalars]
    return min(starts, default=None), max(ends, default=None)


def _config(files: Sequence[EventFile], warnings: list[str]) -> dict[str, Any]:
    """Text summaries, the newest file's winning; JSON ones parsed (HF writes args as JSON)."""
    config: dict[str, Any] = {}
    for file in _by_time(files):
        for tag, text in file.texts.items():
            prefix = tag.removesuffix("/text_summary")
            key = _TEXT_KEYS.get(prefix)
            parsed = _json_object(text)
            if key is not None and parsed is not None:
                config[key] = parsed
                continue
            if key is not None:
                warnings.append(
                    f"{file.path}: text summary {tag!r} is not a JSON object; kept as text"
                )
            config.setdefault("text", {})[prefix] = text
    return config


def _model(config: dict[str, Any]) -> str | None:
    model_config = config.get("model_config")
    name = model_config.get("_name_or_path") if isinstance(model_config, dict) else None
    return name if isinstance(name, str) and name else None


def _method(config: dict[str, Any]) -> str | None:
    """LoRA on a 4-bit base is QLoRA (ingest.labels); HF writes no adapter config to
    TensorBoard, so a 4-bit quantisation config alone leaves the method unknown."""
    model_config = config.get("model_config")
    quant = model_config.get("quantization_config") if isinstance(model_config, dict) else None
    peft = model_config.get("peft_config") if isinstance(model_config, dict) else None
    adapter = next(iter(peft.values()), None) if isinstance(peft, dict) and peft else None
    method = peft_method(adapter.get("peft_type")) if isinstance(adapter, dict) else None
    return with_quantization(method, is_4bit(quant))


def _run_name(config: dict[str, Any]) -> str | None:
    args = config.get("training_args")
    name = args.get("run_name") if isinstance(args, dict) else None
    if not isinstance(name, str) or not name.strip("./"):
        return None
    # HF's default run_name is output_dir ("./lora_4bit_llama"): the folder name is the name.
    return Path(name).name or name


def _last_value(rows: list[dict[str, Any]], metric: str) -> float | None:
    values = [r["value"] for r in rows if r["metric"] == metric and r["split"] == "train"]
    return values[-1] if values else None


def _status(runtime: float | None, config: dict[str, Any], files: Sequence[EventFile]) -> Status:
    """HF logs `train_runtime` once, at the end: an HF run without it did not finish.

    Plain SummaryWriter logs have no end marker, so only a cut-off file marks them.
    """
    if runtime is not None:
        return "completed"
    if "training_args" in config or any(f.problem for f in files):
        return "interrupted"
    return "completed"


def read_files(paths: Sequence[Path], origin: Path | None = None) -> SourceData:
    """The event files of one run (e.g. one group of `group_event_files`) merged into one."""
    if not paths:
        raise SourceError(f"{origin or '.'}: no event files given")
    where = origin or (paths[0] if len(paths) == 1 else paths[0].parent)
    warnings: list[str] = []
    files = _load_all(paths, warnings)
    warnings.extend(_mixing_warnings(where, files))
    rows = _rows(files)
    config = _config(files, warnings)
    if not rows and not config:
        raise SourceError(f"{where}: the event files hold no scalars and no text summaries")
    if not rows:
        warnings.append(f"{where}: no scalars in the event files (stopped before its first log?)")
    runtime = _last_value(rows, "runtime_s")
    started, ended = _span(files)
    status = _status(runtime, config, files)
    return SourceData(
        kind=SOURCE,
        path=where,
        frame=frame_from_rows(rows),
        warnings=warnings,
        config=config,
        model=_model(config),
        method=_method(config),
        status=status,
        runtime_s=runtime,
        started_at=iso_time(started),
        # The end only where HF's train_runtime says the run finished: a plain writer's
        # last scalar is not its end, and a span from it would become the run's runtime.
        finished_at=iso_time(ended) if runtime is not None else None,
        name=_run_name(config),
    )


def read(path: Path) -> SourceData:
    """One event file, or every event file under a folder, as one run (see module docs)."""
    return read_files(event_files(path), origin=path)
