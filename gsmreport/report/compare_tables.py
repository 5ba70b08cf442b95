"""The two tables of a comparison report: configuration and results, one column per run.

Cells are text formatted through fmt.py, so a figure reads the same here as in a run report;
anything a run lacks is "not recorded" (config) or "not measured" (results). Settings are
looked up by name anywhere in a run's config, nested or flat, since gsmreport, HF Trainer,
TRL, LLaMA-Factory and W&B all spell them differently; the key each value came from is
returned too, so the report can say where it looked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gsmreport.analysis.evaluation import FilterScore
from gsmreport.analysis.run_setup import find_setting as find_setting  # re-exported: it
from gsmreport.analysis.run_setup import flatten as flatten  # lived here first
from gsmreport.analysis.training import TOKEN_ACCURACY_LABEL, CurveSummary
from gsmreport.core.fmt import NOT_MEASURED, duration, num, pct, pct_value, usd
from gsmreport.core.runs import RunRecord
from gsmreport.ingest.labels import precision, sequence_length

if TYPE_CHECKING:
    from gsmreport.analysis.compare_runs import RunData


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: tuple[str, ...]  # one per run, in the order the runs were given


# --- configuration table --------------------------------------------------------------------

# Where each setting lives, first match wins: gsmreport's own config (nested sections), then
# the names HF TrainingArguments / TRL / LLaMA-Factory / W&B configs use. A pattern matches a
# dotted key path exactly or as its tail; `*` spans sections (fnmatch).
SETTINGS: dict[str, tuple[str, ...]] = {
    "learning rate": ("learning_rate", "lr"),
    "epochs": ("epochs", "num_train_epochs"),
    "max steps": ("max_steps",),
    "batch size": ("batch_size", "per_device_train_batch_size", "train_batch_size"),
    "grad accumulation": ("grad_accum", "gradient_accumulation_steps"),
    "LoRA r": ("lora.r", "*lora*.r", "*peft*.r", "lora_r", "lora_rank"),
    "LoRA alpha": ("lora.alpha", "*lora*.alpha", "*peft*.lora_alpha", "lora_alpha"),
    # A bare `max_length` comes last: in W&B configs it is often the model's generation default.
    "max length": (
        "training.max_length",
        "max_seq_length",
        "max_seq_len",
        "cutoff_len",
        "model_max_length",
        "max_length",
    ),
    "precision": ("precision", "mixed_precision", "torch_dtype"),
}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _precision(flat: Mapping[str, Any]) -> tuple[str, str] | None:
    """(text, key) by the one rule of ingest.labels: training arguments only, never the
    model config's torch_dtype."""
    return precision(flat)


def _setting(flat: Mapping[str, Any], label: str) -> tuple[str, str] | None:
    """(cell text, key path) of one setting, or None when the config does not record it."""
    if label == "precision":
        return _precision(flat)
    if label == "max length":  # training arguments only (ingest.labels)
        found = sequence_length(flat)
        return (_show(found[1]), found[0]) if found else None
    hit = find_setting(flat, SETTINGS[label])
    if hit is None:
        return None
    key, value = hit
    if label == "max steps" and isinstance(value, int | float) and value <= 0:
        return f"{_show(value)} (epochs decide)", key  # HF's -1: no step limit
    return _show(value), key


def _setting_cells(run: RunData, notes: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    """Cell text per setting for one run; the key each came from is noted for the reader."""
    record = run.record
    if record.kind == "eval":
        return dict.fromkeys(SETTINGS, "— (evaluation only)")
    flat = flatten(record.config)
    cells: dict[str, str] = {}
    for label in SETTINGS:
        if label.startswith("LoRA") and record.method == "full":
            cells[label] = "— (full fine-tune)"
            continue
        found = _setting(flat, label)
        cells[label] = found[0] if found else "not recorded"
        if found:
            notes.setdefault(label, {}).setdefault(found[1], []).append(run.id)
    return cells


def _identity(record: RunRecord, flat: Mapping[str, Any], what: str) -> str:
    keys = {
        "model": ("model", "model_name_or_path", "base_model", "_name_or_path"),
        "data": ("data.path", "dataset", "dataset_name", "datasets"),
    }[what]
    value = getattr(record, what)
    if value:
        return str(value)
    hit = find_setting(flat, keys)
    return f"{_show(hit[1])} (config {hit[0]})" if hit else "not recorded"


def config_table(runs: Sequence[RunData]) -> tuple[list[TableRow], list[str]]:
    """Rows of the configuration table and one note per setting naming the keys read."""
    notes: dict[str, dict[str, list[str]]] = {}
    per_run = [_setting_cells(run, notes) for run in runs]
    flats = [flatten(run.record.config) for run in runs]
    rows = [
        TableRow("kind / status", tuple(f"{r.record.kind} / {r.record.status}" for r in runs)),
        TableRow(
            "model",
            tuple(_identity(r.record, f, "model") for r, f in zip(runs, flats, strict=True)),
        ),
        TableRow("method", tuple(r.record.method or "not recorded" for r in runs)),
        TableRow(
            "data", tuple(_identity(r.record, f, "data") for r, f in zip(runs, flats, strict=True))
        ),
    ]
    rows += [TableRow(label, tuple(cells[label] for cells in per_run)) for label in SETTINGS]
    rows += [
        TableRow(
            "seed",
            tuple(
                str(r.record.seed) if r.record.seed is not None else "not recorded" for r in runs
            ),
        ),
        TableRow("hardware", tuple(_hardware(r.record) for r in runs)),
        TableRow("runtime", tuple(duration(r.runtime_s) for r in runs)),
        TableRow(
            "device-hours",
            tuple(num(r.cost.device_hours) if r.cost else NOT_MEASURED for r in runs),
        ),
        TableRow("cost", tuple(usd(r.cost_usd) for r in runs)),
    ]
    key_notes = []
    for label, keys in notes.items():
        if len(keys) == 1:
            key_notes.append(f"{label} ← {next(iter(keys))}")
        else:
            listed = " / ".join(f"{key} ({', '.join(ids)})" for key, ids in keys.items())
            key_notes.append(f"{label} ← {listed}")
    return rows, key_notes


def _hardware(record: RunRecord) -> str:
    hw = record.hardware
    return f"{hw.count} × {hw.device_name} ({hw.device})" if hw else "not recorded"


# --- results table --------------------------------------------------------------------------


def _cells(runs: Sequence[RunData], cell: Callable[[RunData], str | None]) -> tuple[str, ...]:
    return tuple(text if (text := cell(run)) is not None else NOT_MEASURED for run in runs)


def _final(curve: CurveSummary | None) -> str | None:
    return f"{num(curve.final.value)} (step {curve.final.step})" if curve else None


def _drop(curve: CurveSummary | None) -> str | None:
    if curve is None or curve.drop_pct is None:
        return None
    return f"{pct_value(curve.drop_pct)} ({num(curve.first.value)} → {num(curve.final.value)})"


def _token_accuracy(run: RunData, split: str) -> str | None:
    acc = next((a for a in run.token_accuracy if a.split == split), None)
    return f"{pct(acc.final.value)} (step {acc.final.step})" if acc else None


def _em(score: FilterScore | None) -> str | None:
    return f"{pct(score.em)} ({score.correct} / {score.n})" if score else None


def _evaluation(run: RunData) -> str | None:
    e = run.evaluation
    if e is None:
        return None
    settings = [str(e.meta[k]) for k in ("split", "prompt_style") if e.meta.get(k)]
    return f"{e.eval_id}" + (f" ({', '.join(settings)})" if settings else "")


def _tokens_per_second(run: RunData) -> str | None:
    tps = run.throughput.tokens_per_second
    if tps is None:
        return None
    derived = run.throughput.tokens_per_second_source != "logged"
    return num(tps.value, 1) + (f" ({run.throughput.tokens_per_second_source})" if derived else "")


def results_table(runs: Sequence[RunData]) -> list[TableRow]:
    rows = [
        TableRow("final train loss", _cells(runs, lambda r: _final(r.train_loss))),
        TableRow("train loss drop (first → final)", _cells(runs, lambda r: _drop(r.train_loss))),
        TableRow("final eval loss", _cells(runs, lambda r: _final(r.eval_loss))),
        TableRow(
            f"{TOKEN_ACCURACY_LABEL}, final train",
            _cells(runs, lambda r: _token_accuracy(r, "train")),
        ),
    ]
    if any(_token_accuracy(r, "eval") for r in runs):
        rows.append(
            TableRow(
                f"{TOKEN_ACCURACY_LABEL}, final eval",
                _cells(runs, lambda r: _token_accuracy(r, "eval")),
            )
        )
    strict = "exact match (strict-match)"
    rows += [
        TableRow(f"{strict}, correct / n", _cells(runs, lambda r: _em(r.strict))),
        TableRow(
            f"{strict}, 95 % Wilson interval",
            _cells(
                runs, lambda r: f"{pct(r.strict.low)} – {pct(r.strict.high)}" if r.strict else None
            ),
        ),
        TableRow(
            "exact match (flexible-extract), correct / n",
            _cells(runs, lambda r: _em(r.score("flexible-extract"))),
        ),
        TableRow(
            "exact match (numeric-match), correct / n",
            _cells(runs, lambda r: _em(r.score("numeric-match"))),
        ),
        TableRow("evaluation (latest)", _cells(runs, _evaluation)),
        TableRow(
            "training samples/s",
            _cells(
                runs,
                lambda r: num(sps.value, 2) if (sps := r.throughput.samples_per_second) else None,
            ),
        ),
        TableRow("training tokens/s", _cells(runs, _tokens_per_second)),
        TableRow(
            "cost per exact-match point",
            _cells(runs, lambda r: _per_point(r)),
        ),
    ]
    return rows


def _per_point(run: RunData) -> str | None:
    value = run.usd_per_point
    return usd(value) if value is not None else None
