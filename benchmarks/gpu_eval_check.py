"""The evaluation's device placement, checked end to end (benchmarks/gpu.sh runs it on CUDA).

Builds the tiny Llama and GSM8K-format problems locally, then evaluates them twice through
`pipeline.evaluate` (the job child, as `gsmreport eval` runs it): once on one device (the
model moved to this rank's GPU) and once with `device_map="auto"` (accelerate places it; the
job must not move it again). Prints the device each run recorded and on how many problems
the two wrote the same answer; exits 1 unless every problem agrees, since the placement of
the same weights in the same dtype must not change greedy decoding. Runs on a CPU too
(device_map "auto" then places everything on the CPU), which is how the test suite runs it.
Usage: python benchmarks/gpu_eval_check.py [--problems 24] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gsmreport import pipeline
from gsmreport.core.config import DataConfig
from gsmreport.core.settings import Dirs
from gsmreport.datasets.synthetic import write_gsm8k_folder
from gsmreport.jobs.tiny_model import build_tiny_model

# What a sample row says about the answer.
ANSWER = ("doc_id", "resps", "filtered_resps", "n_tokens", "truncated")


def _evaluate(dirs: Dirs, model: Path, data: Path, n: int, **settings: Any) -> Path:
    run_id = "spread" if settings.get("device_map") else "plain"
    rid, eval_id = pipeline.evaluate(
        dirs,
        model=str(model),
        eval_run_id=run_id,
        data=DataConfig(path=str(data)),
        n=n,
        batch_size=8,
        max_new_tokens=48,
        **settings,
    )
    return dirs.runs / rid / "evals" / eval_id


def _rows(eval_dir: Path) -> list[dict[str, Any]]:
    lines = (eval_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [{k: json.loads(line)[k] for k in ANSWER} for line in lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=24)
    parser.add_argument("--keep", type=Path, help="work here and keep the files")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="gsmreport-devcheck-"))
    try:
        data = write_gsm8k_folder(root / "data", n_train=80, n_test=args.problems, seed=11)
        model = build_tiny_model(root / "model", data / "train.jsonl")
        dirs = Dirs(runs=root / "runs", reports=root / "reports")
        plain = _evaluate(dirs, model, data, args.problems)
        spread = _evaluate(dirs, model, data, args.problems, device_map="auto")
        for name, eval_dir in (("one device     ", plain), ("device_map auto", spread)):
            facts = json.loads((eval_dir / "results.json").read_text(encoding="utf-8"))
            hw = facts["hardware"]
            print(
                f"{name}  {hw['device_name']} x{hw['count']}  "
                f"{facts['problems_per_s']} problems/s (job runtime {facts['runtime_s']} s)"
            )
        a, b = _rows(plain), _rows(spread)
        same = sum(x == y for x, y in zip(a, b, strict=True))
        print(f"same answer on {same}/{len(a)} problems")
        return 0 if same == len(a) else 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
