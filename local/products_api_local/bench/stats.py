"""Small statistics and printing helpers shared by the benchmark's parts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (what numpy calls "linear"): stable for small samples."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """A figure over repeated runs: the spread tells a reader whether the median can be trusted."""

    minimum: float
    median: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        if not values:
            return cls(math.nan, math.nan, math.nan)
        return cls(min(values), statistics.median(values), max(values))

    def format(self, spec: str = ".3f") -> str:
        return f"min {self.minimum:{spec}} / median {self.median:{spec}} / max {self.maximum:{spec}}"


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "PASS" if met else "MISS"


def heading(title: str) -> None:
    print()
    print(title)
    print("-" * len(title))


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    """A plain text table, left-aligned first column, right-aligned figures."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cell).ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    print(line(header))
    for row in rows:
        print(line(row))
