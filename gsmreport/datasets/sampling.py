"""Seeded sample and train/validation split, the same for every data family.

Both draw positions from `random.Random(seed)`, which depends only on the list's length, so
the training job and the evaluation job pick the same held-out rows from the same file
whatever shape its rows have.
"""

from __future__ import annotations

import random
from typing import TypeVar

from gsmreport.core.errors import ConfigError

T = TypeVar("T")


def sample(items: list[T], n: int | None, seed: int) -> list[T]:
    """At most `n` items, a seeded sample; all of them (in order) when `n` is None or larger."""
    if n is None or n >= len(items):
        return list(items)
    return random.Random(seed).sample(items, n)


def train_val_split(items: list[T], val_fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """(train, validation): a seeded shuffle, the first `val_fraction` held out (at least one),
    always leaving at least one example to train on; ConfigError when that cannot be (too
    few examples), rather than an empty training set failing deep in the trainer."""
    shuffled = items[:]
    random.Random(seed).shuffle(shuffled)
    n_val = round(len(shuffled) * val_fraction)
    if val_fraction > 0:
        n_val = max(1, n_val)
    n_val = min(n_val, len(shuffled) - 1)
    if len(shuffled) - n_val < 1 or (val_fraction > 0 and n_val < 1):
        raise ConfigError(
            f"{len(shuffled)} example(s) cannot be split into training and validation "
            f"(val_fraction {val_fraction}): raise data.max_samples or use more data"
        )
    return shuffled[n_val:], shuffled[:n_val]
