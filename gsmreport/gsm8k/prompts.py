"""Evaluation prompts: chat zero-shot, the gemma-2b-it study's one-shot, lm-eval's k-shot.

Pure (no torch): a tokenizer's chat template comes in as a callable, so the exact text of
every style can be pinned by tests and shown in reports without loading a model.

The k-shot styles reproduce lm-evaluation-harness's `gsm8k` task byte for byte (without
`--apply_chat_template`): `doc_to_text` "Question: {question}\\nAnswer:", target delimiter
" ", few-shot delimiter "\\n\\n", exemplars from the train split drawn by its default sampler
(one `random.Random(fewshot_seed)`, one `rnd.sample(train, k)` per test problem in document
order). So test problem i gets the very exemplars lm-eval gives it with the same seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from gsmreport.core.config import PromptStyle
from gsmreport.core.errors import ConfigError

Doc = dict[str, str]
Message = dict[str, str]
# Renders chat messages with the model's template, ending with the assistant's turn opened.
ChatRenderer = Callable[[list[Message]], str]

INSTRUCTION = (
    "You are a helpful math assistant. Please provide a step-by-step derivation and end your "
    "answer with the final numerical result in the format '#### <number>'."
)
# GSM8K train[0], the one-shot example the gemma-2b-it study used.
ONE_SHOT_Q = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?"
)
ONE_SHOT_A = (
    "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips "
    "altogether in April and May.\n#### 72"
)
_SHOTS: dict[str, int] = {"5-shot": 5, "8-shot": 8}


def n_shots(style: PromptStyle) -> int:
    """Exemplars drawn from the train split: 5 or 8 for lm-eval's styles, else 0."""
    return _SHOTS.get(style, 0)


def lm_eval_prompt(exemplars: Iterable[Doc], question: str) -> str:
    """lm-eval's gsm8k context: each exemplar `Question: q\\nAnswer: a\\n\\n`, then the question."""
    shots = "".join(f"Question: {d['question']}\nAnswer: {d['answer']}\n\n" for d in exemplars)
    return f"{shots}Question: {question}\nAnswer:"


def fewshot_exemplars(
    pool: list[Doc], doc_ids: Iterable[int], k: int, seed: int, *, same_split: bool
) -> dict[int, list[Doc]]:
    """The exemplars of each problem, by doc id, as lm-eval's default sampler draws them.

    Draw i goes to document i whichever problems are evaluated, so a seeded sample gets the
    same exemplars as a full run. When the problems come from the pool itself (split train or
    validation) k + 1 are drawn and the problem is removed, as lm-eval does.
    """
    wanted = set(doc_ids)
    if not wanted or k == 0:
        return {}
    draw = k + 1 if same_split else k
    if draw > len(pool):
        raise ConfigError(
            f"{k}-shot prompts need at least {draw} training problems, the train split has "
            f"{len(pool)}; use --prompt-style zero-shot or more training data"
        )
    rnd = random.Random(seed)
    out: dict[int, list[Doc]] = {}
    for i in range(max(wanted) + 1):
        drawn = rnd.sample(pool, draw)
        if i in wanted:
            own = (pool[i]["question"], pool[i]["answer"]) if same_split else None
            out[i] = [d for d in drawn if (d["question"], d["answer"]) != own][:k]
    return out


def build_prompt(
    style: PromptStyle,
    question: str,
    *,
    template: str = "Question: {question}\nAnswer:",
    chat: ChatRenderer | None = None,
    exemplars: Iterable[Doc] = (),
) -> str:
    """The prompt text of one problem.

    zero-shot and one-shot use the model's chat template when it has one (`chat`), else the
    plain `template` the model was trained with; the k-shot styles are always lm-eval's plain
    text, which is what its published gsm8k numbers use.
    """
    if n_shots(style):
        return lm_eval_prompt(exemplars, question)
    if chat is not None:
        messages: list[Message] = []
        if style == "one-shot":
            messages += [
                {"role": "user", "content": f"{INSTRUCTION}\n\n{ONE_SHOT_Q}"},
                {"role": "assistant", "content": ONE_SHOT_A},
            ]
        messages.append({"role": "user", "content": question})
        return chat(messages)
    prompt = template.format(question=question)
    if style == "one-shot":
        shot = template.format(question=ONE_SHOT_Q) + " " + ONE_SHOT_A
        prompt = f"{INSTRUCTION}\n\n{shot}\n\n{prompt}"
    return prompt


def gold_continuation(prompt: str, answer: str) -> str:
    """The gold solution as the model should continue `prompt`: after a plain `Answer:` one
    space (lm-eval's target delimiter, and how training joined prompt and completion); after
    a chat template's opened turn (ending in a newline or space), nothing."""
    return answer if not prompt or prompt[-1].isspace() else f" {answer}"
