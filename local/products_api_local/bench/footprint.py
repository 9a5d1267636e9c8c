"""The code a request runs beyond its bare calls: distinct source lines, counted with `sys.settrace`.

In the bench's request every line runs once with cold caches (DynamoDB Local's JVM shares the two cores and works
while the handler waits), so the warm overhead follows how much code a request runs that the bare call does not,
more than any hot spot (docs/benchmarks.md, "Fifth round"). Unlike the timings, the count barely moves between runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

SourceLine = tuple[str, int]


@dataclass(frozen=True)
class Footprint:
    """Distinct source lines one request of a kind ran, handler and bare side."""

    handler_lines: int
    bare_lines: int
    # lines the handler ran that the bare calls did not: its own code and the libraries only it uses
    handler_only: int


def distinct_lines(call: Callable[[], object]) -> set[SourceLine]:
    """The (file, line) pairs `call` runs, in Python code (C code is not seen)."""
    seen: set[SourceLine] = set()

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        if event == "line":
            seen.add((frame.f_code.co_filename, frame.f_lineno))
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(previous)
    return seen


def footprint(handler: Callable[[], object], bare: Callable[[], object]) -> Footprint:
    handler_lines = distinct_lines(handler)
    bare_lines = distinct_lines(bare)
    return Footprint(len(handler_lines), len(bare_lines), len(handler_lines - bare_lines))
