"""GSM8K: from a local folder of jsonl (the openai/grade-school-math layout) or the Hub."""

from __future__ import annotations

import json
import random
from pathlib import Path

from gsmreport.config import DataConfig
from gsmreport.errors import ConfigError, NotFoundError

HUB_ID = "openai/gsm8k"


def _local_file(folder: Path, split: str, subset: str) -> Path:
    names = [f"{split}_socratic.jsonl"] if subset == "socratic" else [f"{split}.jsonl"]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise NotFoundError(f"{folder}: no {names[0]} (expected GSM8K jsonl with question/answer)")


def _read_jsonl(path: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or "question" not in row or "answer" not in row:
                raise ConfigError(f"{path}:{lineno}: expected an object with question and answer")
            rows.append({"question": str(row["question"]), "answer": str(row["answer"])})
    if not rows:
        raise ConfigError(f"{path}: no problems in file")
    return rows


def load_split(cfg: DataConfig, split: str) -> list[dict[str, str]]:
    """All problems of `split` ('train' or 'test'), local folder first, Hub otherwise."""
    if cfg.path is not None:
        folder = Path(cfg.path).expanduser()
        if not folder.is_dir():
            raise NotFoundError(f"data folder not found: {folder}")
        return _read_jsonl(_local_file(folder, split, cfg.subset))
    from datasets import load_dataset  # the Hub path for real users; never reached in tests

    ds = load_dataset(HUB_ID, cfg.subset, split=split)
    return [{"question": r["question"], "answer": r["answer"]} for r in ds]


def sample(rows: list[dict[str, str]], n: int | None, seed: int) -> list[dict[str, str]]:
    """A seeded sample of at most `n` rows, keeping each row's index in the source as doc_id."""
    indexed = [dict(r, doc_id=str(i)) for i, r in enumerate(rows)]
    if n is None or n >= len(indexed):
        return indexed
    return random.Random(seed).sample(indexed, n)


def train_val_split(
    rows: list[dict[str, str]], val_fraction: float, seed: int
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    n_val = round(len(shuffled) * val_fraction)
    if val_fraction > 0:
        n_val = max(1, n_val)
    return shuffled[n_val:], shuffled[:n_val]
