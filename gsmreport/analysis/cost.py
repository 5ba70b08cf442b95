"""Device-hours and money: cost = device-hours × price per device-hour.

Every cost says where its price came from: the run's own price (run.yaml / config) first, then
the dated default table below, and otherwise no cost at all — never a guessed number.

The default table holds on-demand list prices per GPU-hour. Each entry names the provider's
pricing page (`url`) and the date the price was checked (`as_of`). No network is used at run
time: the prices were checked on that date against published transcriptions of the providers'
pages (named in `source`), and a device whose price could not be confirmed from at least one
dated transcription is left out, so its runs show "no price known" instead of a stale guess.
Prices move: a report prints the source and date beside every cost, and a price in the run
config always wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gsmreport.core.runs import RunRecord

if TYPE_CHECKING:
    from gsmreport.analysis.eval_sections import EvalSection

CHECKED = "2026-11-22"  # the day every entry below was checked


@dataclass(frozen=True)
class PriceEntry:
    name: str  # canonical device name, as torch.cuda.get_device_name prints it
    tokens: tuple[str, ...]  # all must occur in a device name, as whole alphanumeric words
    usd_per_device_hour: float
    source: str
    as_of: str  # ISO date the price was checked
    url: str = ""  # the provider's pricing page, so a reader can check today's price


DEFAULT_PRICES: tuple[PriceEntry, ...] = (
    PriceEntry(
        "NVIDIA H100 80GB HBM3",
        ("h100",),
        3.99,
        "Lambda on-demand, 8x H100 SXM, per GPU (transcribed from lambda.ai 2026-09-20 and "
        "2026-09-25)",
        CHECKED,
        "https://lambda.ai/pricing",
    ),
    PriceEntry(
        "NVIDIA H200",
        ("h200",),
        4.59,
        "RunPod on-demand pod, 1x H200 141GB (transcribed from runpod.io 2026-10-07)",
        CHECKED,
        "https://www.runpod.io/pricing",
    ),
    PriceEntry(
        "NVIDIA A100-SXM4-80GB",
        ("a100", "80gb"),
        2.79,
        "Lambda on-demand, 8x A100 SXM 80GB, per GPU (transcribed from lambda.ai 2026-09-20)",
        CHECKED,
        "https://lambda.ai/pricing",
    ),
    PriceEntry(
        "NVIDIA A100-SXM4-40GB",
        ("a100", "40gb"),
        1.99,
        "Lambda on-demand, 8x A100 SXM 40GB, per GPU (transcribed from lambda.ai 2026-09-20 "
        "and 2026-11-09)",
        CHECKED,
        "https://lambda.ai/pricing",
    ),
    PriceEntry(
        "NVIDIA A10G",
        ("a10g",),
        1.006,
        "AWS EC2 on-demand, whole g5.xlarge instance (1x A10G), us-east-1, Linux (as listed "
        "2026-06-17)",
        CHECKED,
        "https://aws.amazon.com/ec2/pricing/on-demand/",
    ),
    PriceEntry(
        "CPU",
        ("cpu",),
        0.0,
        "CPU runs are counted at 0 USD: no accelerator was rented",
        CHECKED,
    ),
)


def _has_word(name: str, token: str) -> bool:
    # Whole alphanumeric words, so "l4" does not match "L40S" and "h200" does not match "GH200".
    return re.search(rf"(?<![a-z0-9]){re.escape(token)}(?![a-z0-9])", name) is not None


def default_price(
    device_name: str | None, table: tuple[PriceEntry, ...] = DEFAULT_PRICES
) -> PriceEntry | None:
    """The table entry for a device name (case-insensitive), or None when none or several fit.

    An exact name wins; otherwise the entry with the most matching words, so "NVIDIA
    A100-SXM4-80GB" gets the 80 GB price and a bare "A100" (memory unknown) gets none.
    """
    if not device_name:
        return None
    name = device_name.strip().lower()
    for entry in table:
        if entry.name.lower() == name:
            return entry
    fits = [e for e in table if all(_has_word(name, t) for t in e.tokens)]
    if not fits:
        return None
    most = max(len(e.tokens) for e in fits)
    best = [e for e in fits if len(e.tokens) == most]
    return best[0] if len(best) == 1 else None


@dataclass(frozen=True)
class Cost:
    runtime_s: float
    device_count: int
    device_hours: float
    price_per_device_hour: float | None
    usd: float | None  # None: no price known
    origin: str  # "run" | "default table" | "none"
    source: str  # where the price came from, with its date for the default table
    as_of: str | None = None  # the default table's date: its cost is an estimate at that date

    @property
    def estimate(self) -> bool:
        """A list price from the default table, not what this run was billed (the table's
        0 USD for a CPU is a convention, not a price, so it is no estimate)."""
        return self.origin == "default table" and bool(self.price_per_device_hour)

    @property
    def sentence(self) -> str:
        hours = (
            f"{self.device_hours:.4g} device-hours ({self.device_count} × {self.runtime_s:.0f} s)"
        )
        if self.usd is None or self.price_per_device_hour is None:
            return f"{hours}; {self.source}, so no cost is given"
        return (
            f"{hours} × ${self.price_per_device_hour:g}/device-hour = ${self.usd:.4g} "
            f"({self.source})"
        )


def cost(
    runtime_s: float,
    device_count: int,
    price_per_device_hour: float | None = None,
    price_source: str | None = None,
    device_name: str | None = None,
    table: tuple[PriceEntry, ...] = DEFAULT_PRICES,
) -> Cost:
    """Device-hours and USD: the run's price if given, else the default table for `device_name`."""
    if not math.isfinite(runtime_s) or runtime_s < 0:
        raise ValueError(f"runtime must be a finite number of seconds >= 0, got {runtime_s}")
    if device_count < 1:
        raise ValueError(f"device count must be >= 1, got {device_count}")
    if price_per_device_hour is not None and (
        not math.isfinite(price_per_device_hour) or price_per_device_hour < 0
    ):
        raise ValueError(f"price per device-hour must be >= 0, got {price_per_device_hour}")
    device_hours = runtime_s / 3600.0 * device_count
    price: float | None
    as_of = None
    if price_per_device_hour is not None:
        price, origin = price_per_device_hour, "run"
        source = f"price from the run: {price_source}" if price_source else "price from the run"
    elif (entry := default_price(device_name, table)) is not None:
        price, origin = entry.usd_per_device_hour, "default table"
        where = f", {entry.url}" if entry.url else ""
        source = f"default price for {entry.name}: {entry.source}{where}; checked {entry.as_of}"
        as_of = entry.as_of
    else:
        price, origin = None, "none"
        source = f"no price known for {device_name!r}" if device_name else "no price known"
    return Cost(
        runtime_s=runtime_s,
        device_count=device_count,
        device_hours=device_hours,
        price_per_device_hour=price,
        usd=None if price is None else device_hours * price,
        origin=origin,
        source=source,
        as_of=as_of,
    )


def cost_per_point(usd: float | None, accuracy: float | None) -> float | None:
    """USD per percentage point of task accuracy (accuracy as a fraction in [0, 1]).

    None without a cost, or at 0 % accuracy, where the ratio would be infinite.
    """
    if usd is None or accuracy is None or not math.isfinite(accuracy) or accuracy <= 0:
        return None
    return usd / (accuracy * 100)


def run_cost(record: RunRecord, runtime_s: float | None) -> Cost | None:
    """Device-hours and cost of the run; None without a runtime or without the hardware
    (a device count of one would be a guess, and so would every figure after it)."""
    hardware = record.hardware
    if runtime_s is None or hardware is None or not math.isfinite(runtime_s) or runtime_s < 0:
        return None
    try:
        return cost(
            runtime_s,
            hardware.count,
            record.price_per_device_hour,
            record.price_source,
            hardware.device_name,
        )
    except ValueError:  # a negative price or count in a hand-edited run.yaml: no figure at all
        return None


@dataclass(frozen=True)
class PointCost:
    eval_id: str
    filter: str
    em: float
    usd_per_point: float


def per_point_costs(run: Cost | None, evals: Sequence[EvalSection]) -> tuple[PointCost, ...]:
    """USD per percentage point of exact match, per evaluation (its primary filter)."""
    out: list[PointCost] = []
    if run is not None and run.usd == 0:  # "$0.00 per point" (a CPU run) is no figure
        return ()
    for section in evals:
        score = section.primary
        per = cost_per_point(run.usd if run else None, score.em if score else None)
        if score is not None and per is not None:
            out.append(PointCost(section.summary.eval_id, score.filter, score.em, per))
    return tuple(out)
