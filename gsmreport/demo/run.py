"""`gsmreport demo`: the whole idea, for real, on a CPU in about a minute.

Builds a tiny Llama and a BPE tokenizer locally, writes GSM8K-format problems (or uses a
folder of GSM8K jsonl), evaluates the untrained model, fine-tunes it with LoRA and with full
SFT, evaluates both, and renders a report for every run. Nothing is downloaded.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsmreport import pipeline
from gsmreport.core.config import DataConfig, TrainConfig, dump_yaml
from gsmreport.core.errors import JobFailed, NotFoundError
from gsmreport.core.fsutil import atomic_write_text
from gsmreport.core.runs import RunStore, slugify
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder

Say = Callable[[str], None]


@dataclass
class DemoResult:
    run_ids: list[str] = field(default_factory=list)
    reports: dict[str, list[Path]] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoSize:
    """Knobs the tests shrink; the defaults keep `make demo` within ~3 minutes on 2 cores."""

    n_train: int = 400
    n_eval: int = 50
    epochs: float = 15.0
    max_new_tokens: int = 96
    pdf: bool = True


def _method_configs(model: Path, data: Path, size: DemoSize) -> dict[str, TrainConfig]:
    base = {
        "model": str(model),
        "data": DataConfig(path=str(data), max_samples=size.n_train, val_fraction=0.1),
    }
    # A random-weight model needs larger steps than a pretrained one would.
    lora = TrainConfig.model_validate(
        base
        | {
            "method": "lora",
            "lora": {"r": 32, "alpha": 64, "dropout": 0.0},
            "training": {
                "epochs": size.epochs,
                "learning_rate": 1e-2,
                "batch_size": 16,
                "max_length": 256,
                "logging_steps": 5,
                "warmup_ratio": 0.05,
            },
        }
    )
    full = TrainConfig.model_validate(
        base
        | {
            "method": "full",
            "training": {
                "epochs": size.epochs,
                "learning_rate": 3e-3,
                "batch_size": 16,
                "max_length": 256,
                "logging_steps": 5,
                "warmup_ratio": 0.05,
            },
        }
    )
    return {"lora": lora, "full": full}


def run_demo(
    dirs: Dirs,
    workdir: Path,
    *,
    data: Path | None = None,
    size: DemoSize = DemoSize(),
    say: Say = print,
    on_line: Callable[[str], None] | None = None,
) -> DemoResult:
    result = DemoResult()
    steps = 8
    say(f"[1/{steps}] data")
    generated = data is None
    if data is None:
        data = write_gsm8k_folder(
            workdir / "data", n_train=size.n_train, n_test=max(size.n_eval, 100)
        )
        say(f"      generated GSM8K-format problems in {data}")
    elif not (data / "train.jsonl").is_file() or not (data / "test.jsonl").is_file():
        raise NotFoundError(f"--data {data}: expected train.jsonl and test.jsonl (GSM8K format)")
    data = data.resolve()
    # The tokenizer is trained on the data, so each data folder gets its own tiny model.
    name = "tiny-llama" if generated else f"tiny-llama-{slugify(str(data), 48)}"
    model = (workdir / name).resolve()
    say(f"[2/{steps}] building a tiny Llama + BPE tokenizer in {model}")
    _build_model(model, data / "train.jsonl")
    store = RunStore(dirs.runs)
    stamp = store.unique_id("demo")
    eval_kw: dict[str, Any] = {
        "n": size.n_eval,
        "max_new_tokens": size.max_new_tokens,
        "batch_size": 25,
    }
    say(f"[3/{steps}] evaluating the untrained model on {size.n_eval} problems")
    base_id, _ = pipeline.evaluate(
        dirs,
        model=str(model),
        eval_run_id=f"{stamp}-base",
        data=DataConfig(path=str(data)),
        on_line=on_line,
        **eval_kw,
    )
    result.run_ids.append(base_id)
    for i, (method, cfg) in enumerate(_method_configs(model, data, size).items()):
        say(f"[{4 + 2 * i}/{steps}] fine-tuning with {method}")
        cfg_path = workdir / f"{method}.yaml"
        atomic_write_text(cfg_path, dump_yaml(cfg))
        record = pipeline.train(dirs, cfg_path, run_id=f"{stamp}-{method}", on_line=on_line)
        if record.status != "completed":
            raise JobFailed(f"demo {method} run ended {record.status}: {record.error}")
        say(f"[{5 + 2 * i}/{steps}] evaluating the {method} model")
        pipeline.evaluate(dirs, run_id=record.id, on_line=on_line, **eval_kw)
        result.run_ids.append(record.id)
    say(f"[{steps}/{steps}] rendering reports")
    for rid in result.run_ids:
        paths = pipeline.render(dirs, rid, pdf=size.pdf)
        result.reports[rid] = [p for p in (paths.md, paths.pdf) if p is not None]
    return result


def _build_model(model: Path, corpus: Path) -> None:
    if (model / "config.json").is_file():
        return  # reuse: the tiny model is deterministic for the same corpus
    # In a child process like every job, so this process never imports torch.
    cmd = [sys.executable, "-m", "gsmreport.jobs.tiny_model", str(model), str(corpus)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise JobFailed(f"building the tiny model failed: {tail[0]}")
