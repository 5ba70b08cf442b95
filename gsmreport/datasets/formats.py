"""Every training data family as one shape: a chat prompt, a plain prompt and the completion.

Families (DataConfig.source):
- `gsm8k`: {question, answer};
- `alpaca`: {instruction, input (optional), output}; plain prompts use Alpaca's own template;
- `messages`: {messages: [{role, content}, …]}; every turn before the last assistant turn is
  the prompt, that turn is the completion;
- `custom`: any columns, `data.fields` = {"prompt": COLUMN, "completion": COLUMN} (default:
  columns named prompt and completion); the plain prompt goes through `prompt_template`.
`data.fields` also renames the standard columns of the other families. Rows come from a local
jsonl/json/parquet file (or a folder with `train.<ext>`) or, for users with network, the Hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gsmreport.core.config import DataConfig
from gsmreport.core.errors import ConfigError, NotFoundError
from gsmreport.datasets import gsm8k
from gsmreport.datasets.files import read_rows, split_file
from gsmreport.datasets.sampling import sample, train_val_split

Message = dict[str, str]

DEFAULT_HUB: dict[str, str | None] = {
    "gsm8k": gsm8k.HUB_ID,
    "alpaca": "vicgalle/alpaca-gpt4",
    "messages": None,
    "custom": None,
}

# Stanford Alpaca's prompts, as the alpaca-gpt4 study trained with them.
ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n"
)


@dataclass(frozen=True)
class Example:
    doc_id: str  # the row's index in the source file
    turns: tuple[Message, ...]  # the prompt as chat turns (for a tokenizer with a template)
    text: str  # the same prompt as plain text (for a tokenizer without one)
    completion: str  # what the loss is computed on


class _Row:
    """One source row with its column mapping; a missing column names the row and the fix."""

    def __init__(self, row: dict[str, Any], where: str, n: int, fields: dict[str, str]) -> None:
        self.row, self.where, self.n, self.fields = row, where, n, fields

    def get(self, name: str, *, required: bool = True) -> Any:
        column = self.fields.get(name, name)
        value = self.row.get(column)
        if value is None and required:
            raise ConfigError(
                f"{self.where}: row {self.n}: no '{column}' column "
                f"(map yours with data.fields, e.g. {{{name}: YOUR_COLUMN}})"
            )
        return value


def _gsm8k(row: _Row, template: str) -> tuple[tuple[Message, ...], str, str]:
    question = str(row.get("question"))
    return (
        ({"role": "user", "content": question},),
        template.format(question=question),
        str(row.get("answer")),
    )


def _alpaca(row: _Row, template: str) -> tuple[tuple[Message, ...], str, str]:
    instruction, extra = str(row.get("instruction")), str(row.get("input", required=False) or "")
    user = f"{instruction}\n\n{extra}" if extra.strip() else instruction
    text = (
        ALPACA_WITH_INPUT.format(instruction=instruction, input=extra)
        if extra.strip()
        else ALPACA_NO_INPUT.format(instruction=instruction)
    )
    return ({"role": "user", "content": user},), text, str(row.get("output"))


def _messages(row: _Row, template: str) -> tuple[tuple[Message, ...], str, str]:
    raw = row.get("messages")
    where = f"{row.where}: row {row.n}"
    if not isinstance(raw, list) or len(raw) < 2:
        raise ConfigError(f"{where}: 'messages' must be a list of at least two turns")
    turns: list[Message] = []
    for turn in raw:
        if not isinstance(turn, dict) or "role" not in turn or "content" not in turn:
            raise ConfigError(f"{where}: each turn needs a role and a content")
        turns.append({"role": str(turn["role"]), "content": str(turn["content"])})
    if turns[-1]["role"] != "assistant":
        raise ConfigError(f"{where}: the last turn must be the assistant's (it is the target)")
    prompt = tuple(turns[:-1])
    text = "\n".join(f"{t['role'].capitalize()}: {t['content']}" for t in prompt) + "\nAssistant:"
    return prompt, text, turns[-1]["content"]


def _custom(row: _Row, template: str) -> tuple[tuple[Message, ...], str, str]:
    prompt = str(row.get("prompt"))
    return (
        ({"role": "user", "content": prompt},),
        template.format(question=prompt),
        str(row.get("completion")),
    )


_CONVERT: dict[str, Callable[[_Row, str], tuple[tuple[Message, ...], str, str]]] = {
    "gsm8k": _gsm8k,
    "alpaca": _alpaca,
    "messages": _messages,
    "custom": _custom,
}


def _source_rows(cfg: DataConfig, split: str) -> tuple[list[dict[str, Any]], str]:
    if cfg.source == "gsm8k":
        # gsm8k applies data.fields itself (evaluation reads it the same way).
        return list(gsm8k.load_split(cfg, split)), cfg.path or cfg.hub_id or gsm8k.HUB_ID
    if cfg.path is not None:
        file = split_file(Path(cfg.path).expanduser(), split)
        return read_rows(file), str(file)
    hub_id = cfg.hub_id or DEFAULT_HUB[cfg.source]
    if hub_id is None:
        raise ConfigError(
            f"data.source {cfg.source} needs data.path (a jsonl/parquet file or folder) "
            "or data.hub_id"
        )
    from datasets import load_dataset  # the Hub path for real users; never reached in tests

    return [dict(r) for r in load_dataset(hub_id, split=split)], hub_id


def load_examples(cfg: DataConfig, prompt_template: str, split: str = "train") -> list[Example]:
    """Every row of `split` as an Example, in source order (doc_id = the row's index)."""
    rows, where = _source_rows(cfg, split)
    # gsm8k rows are already renamed to question/answer.
    fields = {} if cfg.source == "gsm8k" else (cfg.fields or {})
    convert = _CONVERT[cfg.source]
    out: list[Example] = []
    for i, row in enumerate(rows):
        turns, text, completion = convert(_Row(row, where, i + 1, fields), prompt_template)
        out.append(Example(str(i), turns, text, completion))
    return out


def training_split(cfg: DataConfig, prompt_template: str) -> tuple[list[Example], list[Example]]:
    """(train, validation) examples exactly as the training job draws them: the seeded sample of
    `max_samples`, then the seeded split. The contamination check reads the same rows."""
    examples = sample(load_examples(cfg, prompt_template), cfg.max_samples, cfg.seed)
    return train_val_split(examples, cfg.val_fraction, cfg.seed)


def to_record(example: Example, chat: bool) -> dict[str, Any]:
    """A TRL prompt/completion record: the loss then falls on the completion only."""
    if chat:
        return {
            "prompt": list(example.turns),
            "completion": [{"role": "assistant", "content": example.completion}],
        }
    sep = "" if example.text.endswith((" ", "\n")) else " "
    return {"prompt": example.text, "completion": sep + example.completion}


def resolve_data(cfg: DataConfig) -> DataConfig:
    """The data config with a local path made absolute; a missing path is refused here."""
    if cfg.path is None:
        return cfg
    path = Path(cfg.path).expanduser()
    if not path.exists():
        raise NotFoundError(
            f"data folder not found: {cfg.path} (give a folder, or a jsonl/json/parquet file)"
        )
    return cfg.model_copy(update={"path": str(path.resolve())})


def data_label(cfg: DataConfig) -> str:
    """How a run names its data in listings: the path or Hub id, and the family or subset."""
    where = cfg.path or cfg.hub_id or DEFAULT_HUB[cfg.source] or "?"
    return f"{where} ({cfg.subset if cfg.source == 'gsm8k' else cfg.source})"
