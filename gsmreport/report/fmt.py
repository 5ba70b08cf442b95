"""Number formatting shared by templates (as Jinja filters) and findings.

One place decides how a number is printed, so a figure in a finding and the same figure in
a table read identically, and tests can recompute the exact string from the parquet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

NOT_MEASURED = "not measured"


def num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return NOT_MEASURED
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}f}"


def pct(fraction: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    return NOT_MEASURED if fraction is None else f"{num(fraction * 100, digits)} %"


def pct_value(value: float | None, digits: int = 1) -> str:
    """A value that is already in percent (e.g. a loss drop)."""
    return NOT_MEASURED if value is None else f"{num(value, digits)} %"


def signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return NOT_MEASURED
    return ("+" if value >= 0 else "−") + num(abs(value), digits)


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return NOT_MEASURED
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


_MD_ESCAPES = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": " ", "\n": " "}
)


def md_text(value: Any) -> str:
    """Untrusted text (a model name, a data path, a warning, an eval id) made inert in
    Markdown, which GitHub, the Hub and editors render: HTML special characters as entities
    (no live tag), pipes escaped (no new table cell), line breaks flattened and a leading `#`
    escaped (no new heading or block). The one escaping filter of the Markdown templates;
    text inside a code span cannot be escaped, so untrusted text never goes in one."""
    text = str(value).translate(_MD_ESCAPES)
    body = text.lstrip(" \t")  # up to three spaces before `#` still make a heading
    return text[: len(text) - len(body)] + "\\" + body if body.startswith("#") else text


md_cell = md_text  # the filter's earlier name, kept for user templates


def md_block(text: str) -> str:
    """A fenced block that the text itself cannot close (fence longer than any run inside)."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


FILTERS: dict[str, Callable[..., str]] = {
    "num": num,
    "pct": pct,
    "pct_value": pct_value,
    "signed": signed,
    "duration": duration,
    "md_text": md_text,
    "md_cell": md_text,
    "md_block": md_block,
}
