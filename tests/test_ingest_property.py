"""Property test: however a real log is damaged, only the project's own error type escapes.

Hypothesis mutates the real third-party files in ../shared/data/real-logs (truncate, flip
bytes, drop keys, change types) and every reader must either read what is left or raise
GsmReportError with a one-line message. A KeyError or a protobuf DecodeError leaking out
would reach a user as a traceback.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsmreport.core.errors import GsmReportError
from gsmreport.ingest.detect import detect_file
from gsmreport.ingest.importer import read_source
from tests.conftest import SHARED_DATA, shared_data

REAL = SHARED_DATA / "real-logs"
# Small real files, one per reader, named as the reader expects them on disk.
FILES = {
    "trainer_state": (
        "trainer_state/MemaSp+FT-Llama2-HRChatbot__outputs_trainer_state.json",
        "trainer_state.json",
    ),
    "llamafactory": (
        "llamafactory/syGOAT+Mistral-v0.2-Translator-bf16__trainer_log.jsonl",
        "trainer_log.jsonl",
    ),
    "lm_eval_samples": (
        "lm-eval/pmemoli+Data-Science-Thesis__src_data_benchmark_results_gsm8k_samples_gsm8k_"
        "2025-08-11T10-35-08.100989.jsonl",
        "samples_gsm8k_2025-08-11T10-35-08.100989.jsonl",
    ),
    "lm_eval_results": (
        "lm-eval/pmemoli+Data-Science-Thesis__src_data_benchmark_results_gsm8k_gsm8k-phi-3-mini_"
        "2025-08-11T10-35-08.100989.json",
        "results_2025-08-11T10-35-08.100989.json",
    ),
    "tensorboard": (
        "tensorboard/JadeAnt+LLM-for-Sentiment-Analysis-on-Product-Reviews/logs_llama/"
        "events.out.tfevents.1733898811.b-33-23.6460.2",
        "events.out.tfevents.1733898811.host.1.0",
    ),
    "wandb": (
        "wandb/tsebaka+T-Lab-2024-LLM-Alignment/wandb/run-20241216_132720-chk58nkd/"
        "run-chk58nkd.wandb",
        "run-chk58nkd.wandb",
    ),
}
JSON_KINDS = ("trainer_state", "lm_eval_results")
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _original(kind: str) -> bytes:
    rel, _ = FILES[kind]
    return shared_data("real-logs", rel).read_bytes()


def _read_mutated(kind: str, data: bytes) -> None:
    """Write `data` under the reader's usual name and read it; only GsmReportError may escape."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / FILES[kind][1]
        path.write_bytes(data)
        try:
            read_source(detect_file(path))
        except GsmReportError as err:
            message = str(err)
            assert message and "\n" not in message, repr(message)


def _truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    out = bytearray(data)
    for pos, value in zip(positions, values, strict=False):
        out[pos % len(out)] = value
    return bytes(out)


@pytest.mark.parametrize("kind", sorted(set(FILES) - {"wandb"}))
@SETTINGS
@given(fraction=st.floats(0.0, 1.0))
def test_truncated_files(kind: str, fraction: float) -> None:
    _read_mutated(kind, _truncate(_original(kind), fraction))


@pytest.mark.parametrize("kind", sorted(set(FILES) - {"wandb"}))
@SETTINGS
@given(
    positions=st.lists(st.integers(0, 10**9), min_size=1, max_size=8),
    values=st.lists(st.integers(0, 255), min_size=8, max_size=8),
)
def test_flipped_bytes(kind: str, positions: list[int], values: list[int]) -> None:
    _read_mutated(kind, _flip(_original(kind), positions, values))


# The W&B reader runs W&B's own binary-log reader in a subprocess (about a second per call),
# so it gets fewer examples.
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fraction=st.floats(0.0, 1.0),
    positions=st.lists(st.integers(0, 10**9), max_size=8),
    values=st.lists(st.integers(0, 255), min_size=8, max_size=8),
)
def test_damaged_wandb_log(fraction: float, positions: list[int], values: list[int]) -> None:
    data = _truncate(_original("wandb"), fraction)
    if data and positions:
        data = _flip(data, positions, values)
    _read_mutated("wandb", data)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON document (depth-limited: enough to reach log entries)."""
    out = [prefix] if prefix else []
    if len(prefix) >= 4:
        return out
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:5]):
            out += _paths(child, (*prefix, index))
    return out


def _mutate(doc: Any, path: tuple[Any, ...], replacement: Any, drop: bool) -> Any:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return doc


@pytest.mark.parametrize("kind", JSON_KINDS)
@SETTINGS
@given(data=st.data())
def test_dropped_keys_and_changed_types(kind: str, data: st.DataObject) -> None:
    doc = json.loads(_original(kind))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        doc = _mutate(doc, path, data.draw(_JSON_VALUES), data.draw(st.booleans()))
    _read_mutated(kind, json.dumps(doc).encode())


@SETTINGS
@given(data=st.data())
def test_jsonl_lines_with_changed_types(data: st.DataObject) -> None:
    for kind in ("llamafactory", "lm_eval_samples"):
        lines = _original(kind).decode().splitlines()[:20]
        index = data.draw(st.integers(0, len(lines) - 1))
        row = json.loads(lines[index])
        paths = _paths(row)
        if paths:
            row = _mutate(row, data.draw(st.sampled_from(paths)), data.draw(_JSON_VALUES), False)
        lines[index] = json.dumps(row)
        _read_mutated(kind, ("\n".join(lines) + "\n").encode())
