"""Writers of tiny run folders in the formats the training and eval jobs produce.

Shared by test_ingest, test_analysis and test_report so every test builds its inputs locally.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from gsmreport.core.fsutil import atomic_write_yaml
from gsmreport.core.runs import Hardware, RunRecord

# Six train logs, two evals (eval shares step 30 and 60 with train), final summary.
TRAIN = [
    (10, 2.31, 0.52),
    (20, 1.90, 0.58),
    (30, 1.60, 0.61),
    (40, 1.35, 0.64),
    (50, 1.20, 0.66),
    (60, 1.09, 0.69),
]
EVAL = [(30, 1.70, 0.60), (60, 1.25, 0.66)]


def train_log(step: int, loss: float, acc: float) -> dict[str, Any]:
    return {
        "loss": loss,
        "grad_norm": 1.5,
        "learning_rate": 2e-4 * (1 - step / 70),
        "mean_token_accuracy": acc,
        "num_tokens": 512.0 * step,
        "entropy": 1.1,
        "epoch": step / 60,
    }


def eval_log(step: int, loss: float, acc: float) -> dict[str, Any]:
    return {
        "eval_loss": loss,
        "eval_mean_token_accuracy": acc,
        "eval_runtime": 1.5,
        "eval_samples_per_second": 33.3,
        "eval_steps_per_second": 4.2,
        "eval_num_tokens": 512.0 * step,
        "eval_entropy": 1.0,
        "epoch": step / 60,
    }


SUMMARY = {
    "train_runtime": 42.0,
    "train_samples_per_second": 11.4,
    "train_steps_per_second": 1.43,
    "train_loss": 1.57,
    "total_flos": 1.0e12,
    "epoch": 1.0,
}


def logs() -> list[tuple[int, dict[str, Any]]]:
    out = [(s, train_log(s, loss, a)) for s, loss, a in TRAIN]
    out += [(s, eval_log(s, loss, a)) for s, loss, a in EVAL]
    out.append((60, SUMMARY))
    return sorted(out, key=lambda item: item[0])


def jsonl_line(step: int, log: dict[str, Any]) -> str:
    # json.dumps writes bare NaN/Infinity, exactly like the callback does.
    return json.dumps(
        {"step": step, "epoch": log.get("epoch"), "wall_time": step * 0.7, "logs": log}
    )


def write_metrics_jsonl(run_dir: Path, extra_lines: list[str] | None = None) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [jsonl_line(s, log) for s, log in logs()] + (extra_lines or [])
    path = run_dir / "metrics.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_trainer_state(run_dir: Path, history: list[dict[str, Any]] | None = None) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    if history is None:
        history = [{**log, "step": s} for s, log in logs()]
    path = run_dir / "trainer_state.json"
    path.write_text(json.dumps({"global_step": 60, "log_history": history}, indent=2))
    return path


SAMPLES = [
    # doc_id, gold, strict prediction, flexible prediction, category, response
    (0, "18", "18", "18", "correct", "16 - 3 - 4 = 9 eggs; 9 * 2 = 18\n#### 18"),
    (1, "3", "3", "3", "correct", "2 / 2 = 1; 2 + 1 = 3\n#### 3"),
    (2, "70000", "65000", "65000", "wrong answer", "She makes 65000 profit.\n#### 65000"),
    (3, "540", None, "540", "no final answer", "3 * 3 * 60 = 540 meters"),
    (4, "20", None, "12", "truncated", "Each hen eats 3 cups, so 20 * 3 = 60, then 60 - 15" * 20),
    (5, "64", "60", "60", "wrong answer", "#### 60 <script>alert(1)</script> | pipe"),
]


def write_eval(run_dir: Path, eval_id: str = "e1") -> Path:
    eval_dir = run_dir / "evals" / eval_id
    eval_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for doc_id, gold, strict, flexible, category, response in SAMPLES:
        rows.append(
            {
                "doc_id": doc_id,
                "doc": {"question": f"Question {doc_id}: how many?", "answer": f"... #### {gold}"},
                "target": gold,
                "arguments": f"Question {doc_id}\nAnswer:",
                "resps": [[response]],
                "filtered_resps": {"strict-match": strict, "flexible-extract": flexible},
                "exact_match": {
                    "strict-match": int(strict == gold),
                    "flexible-extract": int(flexible == gold),
                },
                "prediction": strict,
                "correct": strict == gold,
                "category": category,
                "gold_steps": 2,
                "n_tokens": len(response) // 4,
                "truncated": category == "truncated",
            }
        )
    (eval_dir / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    strict_ok = sum(r["exact_match"]["strict-match"] for r in rows)
    flex_ok = sum(r["exact_match"]["flexible-extract"] for r in rows)
    n = len(rows)
    results = {
        "eval_id": eval_id,
        "run_id": run_dir.name,
        "model": "tiny-llama",
        "adapter": None,
        "n": n,
        "seed": 0,
        "split": "test",
        "data": "gsm8k",
        "prompt_style": "plain",
        "max_new_tokens": 256,
        "results": {
            "gsm8k": {
                "exact_match,strict-match": strict_ok / n,
                "exact_match,flexible-extract": flex_ok / n,
            }
        },
        "counts": {
            "strict-match": {"correct": strict_ok, "n": n},
            "flexible-extract": {"correct": flex_ok, "n": n},
        },
        "runtime_s": 3.2,
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    (eval_dir / "results.json").write_text(json.dumps(results))
    return eval_dir


def write_record(run_dir: Path, kind: str = "train", **extra: Any) -> RunRecord:
    record = RunRecord.model_validate(
        {
            "id": run_dir.name,
            "kind": kind,
            "status": "completed",
            "model": "tiny-llama",
            "method": "lora",
            "data": "gsm8k (synthetic)",
            "seed": 42,
            "hardware": Hardware(device="cpu", device_name="CPU", count=1).model_dump(),
            "price_per_device_hour": 0.5,
            "price_source": "test default 2025-01",
            "runtime_s": 42.0,
            "config": {
                "model": "tiny-llama",
                "hf_token": "hf_SECRET123",
                "training": {"learning_rate": 2e-4, "batch_size": 8, "max_length": 512},
                "method": "lora",
            },
            **extra,
        }
    )
    atomic_write_yaml(run_dir / "run.yaml", record.model_dump(mode="json"))
    return record


def make_train_run(root: Path, run_id: str = "demo-run") -> tuple[Path, RunRecord]:
    run_dir = root / "runs" / run_id
    write_metrics_jsonl(run_dir)
    write_eval(run_dir)
    return run_dir, write_record(run_dir)


NAN, INF = math.nan, math.inf


def assert_same_runs(run_ids: list[str | None], one: Path, other: Path) -> None:
    """Each run imported under both runs folders has the same metrics table and headline
    (created_at aside: the import's own clock)."""
    import dataclasses

    import polars as pl

    from gsmreport.analysis.summary_cache import peek_summary

    for run_id in run_ids:
        assert run_id is not None
        here, there = one / run_id, other / run_id
        assert pl.read_parquet(here / "metrics.parquet").equals(
            pl.read_parquet(there / "metrics.parquet")
        )
        headlines = [peek_summary(here), peek_summary(there)]
        assert headlines[0] is not None and headlines[1] is not None
        same = [dataclasses.replace(h, created_at="") for h in headlines if h is not None]
        assert same[0] == same[1]
