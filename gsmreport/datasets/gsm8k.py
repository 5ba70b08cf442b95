"""GSM8K: from a local folder of jsonl (the openai/grade-school-math layout) or the Hub.

`data.fields` may rename the two columns (e.g. {"question": "problem"}) for look-alike sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gsmreport.core.config import DataConfig
from gsmreport.core.errors import ConfigError, NotFoundError
from gsmreport.datasets import sampling
from gsmreport.datasets.files import read_rows

HUB_ID = "openai/gsm8k"


def _local_file(path: Path, split: str, subset: str) -> Path:
    if path.is_file():
        return path
    names = [f"{split}_socratic.jsonl"] if subset == "socratic" else [f"{split}.jsonl"]
    for name in names:
        if (path / name).is_file():
            return path / name
    raise NotFoundError(f"{path}: no {names[0]} (expected GSM8K jsonl with question/answer)")


def _problems(
    rows: list[dict[str, Any]], where: str, fields: dict[str, str]
) -> list[dict[str, str]]:
    q, a = fields.get("question", "question"), fields.get("answer", "answer")
    out: list[dict[str, str]] = []
    for n, row in enumerate(rows, 1):
        if q not in row or a not in row:
            raise ConfigError(f"{where}: row {n}: expected an object with {q} and {a}")
        out.append({"question": str(row[q]), "answer": str(row[a])})
    return out


def load_split(cfg: DataConfig, split: str) -> list[dict[str, str]]:
    """All problems of `split` ('train' or 'test'), local folder first, Hub otherwise."""
    fields = cfg.fields or {}
    if cfg.path is not None:
        folder = Path(cfg.path).expanduser()
        if not folder.exists():
            raise NotFoundError(f"data folder not found: {folder}")
        file = _local_file(folder, split, cfg.subset)
        return _problems(read_rows(file), str(file), fields)
    from datasets import load_dataset  # the Hub path for real users; never reached in tests

    hub_id = cfg.hub_id or HUB_ID
    ds = load_dataset(hub_id, cfg.subset, split=split)
    return _problems([dict(r) for r in ds], hub_id, fields)


def sample(rows: list[dict[str, str]], n: int | None, seed: int) -> list[dict[str, str]]:
    """A seeded sample of at most `n` rows, keeping each row's index in the source as doc_id."""
    return sampling.sample([dict(r, doc_id=str(i)) for i, r in enumerate(rows)], n, seed)
