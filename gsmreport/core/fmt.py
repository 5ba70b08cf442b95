"""How every figure is printed: Markdown, HTML, the TUI and the CLI all call these.

One place decides how a number is printed, so a figure in a finding, the same figure in a
table, the TUI's card and `gsmreport runs` read identically, and tests can recompute the exact
string from the parquet. Each function takes the placeholder for a missing figure: reports
say "not measured", the terminal surfaces a narrow "—".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

NOT_MEASURED = "not measured"


DASH = "—"


def num(value: float | None, digits: int = 4, missing: str = NOT_MEASURED) -> str:
    if value is None:
        return missing
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}f}"


def pct(fraction: float | None, digits: int = 1, missing: str = NOT_MEASURED) -> str:
    """A share in [0, 1] as a percentage."""
    return missing if fraction is None else f"{num(fraction * 100, digits)} %"


def pct_value(value: float | None, digits: int = 1, missing: str = NOT_MEASURED) -> str:
    """A value that is already in percent (e.g. a loss drop)."""
    return missing if value is None else f"{num(value, digits)} %"


def usd(value: float | None, missing: str = NOT_MEASURED) -> str:
    """Dollars: cents from $10 up; below that four significant digits, so a CPU demo costing
    $0.0058 is not printed as $0.01 and a $1.006/device-hour price keeps its last digit.
    The one money rule: report, comparison, TUI and CLI all print cost through it."""
    if value is None or not math.isfinite(value):
        return missing
    if abs(value) >= 10:
        return f"${value:,.2f}"
    if value == 0:
        return "$0.00"
    # Four significant digits in fixed notation (never `1.174e-05`), trailing zeros dropped.
    decimals = max(0, 3 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    return "$" + (text.rstrip("0").rstrip(".") if "." in text else text)


def sig(value: float | None, digits: int = 3, missing: str = NOT_MEASURED) -> str:
    """`digits` significant digits with a real minus sign: slopes span many magnitudes."""
    if value is None:
        return missing
    return f"{value:.{digits}g}".replace("-", "−")


def signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return NOT_MEASURED
    return ("+" if value >= 0 else "−") + num(abs(value), digits)


def duration(seconds: float | None, missing: str = NOT_MEASURED) -> str:
    if seconds is None or not math.isfinite(seconds):
        return missing
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


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
    "usd": usd,
    "sig": sig,
    "md_text": md_text,
    "md_cell": md_text,
    "md_block": md_block,
}
