"""The bench's count of the code a request runs (`products_api_local.bench.footprint`): lines, not calls, and only
those the handler runs beyond its bare calls."""

from __future__ import annotations

import sys

from products_api_local.bench.footprint import distinct_lines, footprint


def _shared() -> int:
    total = 0
    for number in range(3):  # three passes over the same two lines count once each
        total += number
    return total


def _handler_side() -> int:
    extra = _shared()
    return extra + 1


def test_each_line_counts_once_however_often_it_runs() -> None:
    lines = distinct_lines(_shared)
    first = _shared.__code__.co_firstlineno
    assert lines == {(__file__, first + line) for line in (1, 2, 3, 4)}


def test_the_handler_only_count_leaves_out_what_the_bare_side_runs() -> None:
    counted = footprint(_handler_side, _shared)
    assert counted.bare_lines == 4
    assert counted.handler_lines == 6  # the two lines of _handler_side, then _shared's four
    assert counted.handler_only == 2


def test_a_tracer_already_set_is_put_back() -> None:
    def tracer(*_: object) -> None:
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        distinct_lines(_shared)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(previous)
