"""Run ids cut to a column's width so that no two rows ever look the same.

Ids from other tools share long prefixes (`logs-llama-1733890000-…`) and often long suffixes
too, so neither keeping the start nor keeping the end is enough. An id that does not fit keeps
its two ends around a middle ellipsis; where two cut ids would still read the same, the cut
moves until they differ; ids that agree at both ends beyond any cut get a short counter.
No Textual here: tested without a terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

ELLIPSIS = "…"
MIN_WIDTH = 8  # narrower than this an id says nothing, however it is cut


def cut_middle(text: str, width: int, head: int | None = None) -> str:
    """`text` in at most `width` cells: as is when it fits, else `head` characters, "…", and
    the end (by default the end gets the extra character: ids differ most at their ends)."""
    if len(text) <= width:
        return text
    width = max(width, 3)
    head = (width - 1) // 2 if head is None else max(1, min(head, width - 2))
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head) :]


def _heads(width: int) -> list[int]:
    """Where to try the cut: the middle first, then ever further from it, either way."""
    middle = (width - 1) // 2
    order = [middle]
    for step in range(1, width):
        order += [h for h in (middle + step, middle - step) if 1 <= h <= width - 2]
    return order


def fit_ids(ids: Iterable[str], width: int) -> dict[str, str]:
    """Each id's label in `width` cells; distinct ids always get distinct labels."""
    labels = {run_id: cut_middle(run_id, width) for run_id in ids}
    groups: dict[str, list[str]] = defaultdict(list)
    for run_id, label in labels.items():
        groups[label].append(run_id)
    taken = set(groups)
    for label, members in groups.items():
        if len(members) < 2:
            continue
        taken.discard(label)
        for head in _heads(max(width, 3)):
            tried = {m: cut_middle(m, width, head) for m in members}
            if len(set(tried.values())) == len(members) and not taken & set(tried.values()):
                break
        else:  # same at both ends past any cut: number them, in id order, at the cut
            tried = {}
            for n, m in enumerate(sorted(members), start=1):
                mark = f"{ELLIPSIS}{n}"
                tail = max(1, (width - len(mark)) // 2)
                tried[m] = m[: width - len(mark) - tail] + mark + m[len(m) - tail :]
        labels.update(tried)
        taken |= set(tried.values())
    return labels


def id_width(ids: Iterable[str], cap: int) -> int:
    """The id column's width: the longest id, but no more than `cap` (nor under MIN_WIDTH)."""
    longest = max((len(i) for i in ids), default=2)
    return max(MIN_WIDTH, min(longest, max(cap, MIN_WIDTH)))
