"""Names for the compared runs that fit one line: the ids themselves, or letters with a key.

Eight runs with 30-character ids cannot head eight table columns or share a one-line chart
legend: the ids wrap and the legend is cut. Past what fits, each run is named by a letter
(A, B, …, Z, AA, …) and the screen lists which id each letter stands for.
No Textual here.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

GAP = 2  # cells between two names in a legend or between two table columns
LABEL_SHARE = 0.3  # the table's first column (row labels) takes about this share


def letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: spreadsheet column names."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = string.ascii_uppercase[rest] + name
    return name


def short_names(run_ids: Sequence[str], width: int) -> list[str]:
    """The ids when all of them fit side by side in what `width` leaves beside the row
    labels (and in a one-line legend), else letters."""
    room = int(width * (1 - LABEL_SHARE))
    needed = sum(len(r) + GAP + 2 for r in run_ids)  # "⣿ " before each in the legend
    return list(run_ids) if needed <= room else [letter(i) for i in range(len(run_ids))]
